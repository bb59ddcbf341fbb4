"""Every benchmark in turn (``make bench``): key pages, load under gunicorn, fault drills; then all tables.

    .venv/bin/python bench/all.py [--quick] [--skip pages reminders import rendering load faults]

Defaults: bench/pages.py on SQLite and PostgreSQL at 5,000 and 50,000 people; bench/reminders.py
(planning and sending rates at 50,000 people, both databases); bench/import.py (checking a CSV
import of 1,000 and 10,000 lines and its dry-run page, files over the limits; both databases);
bench/rendering.py (Markdown: the longest and most formatted texts a form accepts); bench/load.py on
both databases at 5,000 people (200 simulated people for 60 s); bench/faults.py at 2,000 people
(PostgreSQL restarted under load, then the scheduler takeover drill, which waits for the killed
leader's claims to run out). About 15–20 minutes on a 2-core machine.
``--quick``: 500 people, short runs (about 4 minutes).

Each benchmark runs as a process of its own; its progress is shown as it goes, its log output
(migrations, servers) is kept in the log folder, and every table is printed again at the end.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def machine() -> list[str]:
    """What the figures came from: processor, cores, memory, software versions, how busy it was."""
    cpu = "unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")) / 1024 / 1024
    except (OSError, StopIteration):
        memory = 0
    postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip() or "no psql"
    wrk = subprocess.run(["sh", "-c", "wrk --version 2>&1 | head -1"], capture_output=True, text=True).stdout.strip()
    return [f"machine: {cpu}, {os.cpu_count()} cores, {memory:.0f} GB memory; {platform.platform()}",
            f"software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {postgres}, "
            f"{wrk.split(' Copyright')[0] if wrk.startswith('wrk') else 'wrk not installed (installed by load.py)'}",
            f"load average before the run: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}"]


def steps(args) -> list[tuple[str, list[str]]]:
    if args.quick:
        pages = ["--employees", "500", "2000", "--requests", "20"]
        load = ["--quick"]
        faults = ["--quick"]
    else:
        pages = ["--employees", "5000", "50000"]
        load = ["--employees", str(args.load_employees)]
        faults = []
    reminders = ["--people", "2000", "--send", "500"] if args.quick else []
    imports = ["--people", "500"] if args.quick else []
    plan = [("pages", ["bench/pages.py", "--database", "both", *pages]),
            ("reminders", ["bench/reminders.py", "--database", "both", *reminders]),
            ("import", ["bench/import.py", "--database", "both", *imports]),
            ("rendering", ["bench/rendering.py", *(["--repeat", "2"] if args.quick else [])]),
            ("load", ["bench/load.py", "--database", "both", *load]),
            ("faults", ["bench/faults.py", *faults])]
    plan = [(name, command) for name, command in plan if (ROOT / command[0]).exists()]
    return [(name, command) for name, command in plan if name not in args.skip]


TABLE_RULE = re.compile(r"^-+( +-+)*$")


def tables_in(output: str) -> list[str]:
    """The tables of bench/report.py in a benchmark's output: title, rule, header, rule, rows, rule."""
    lines = output.splitlines()
    found, n = [], 0
    while n < len(lines):
        if n + 1 < len(lines) and lines[n].strip() and TABLE_RULE.match(lines[n + 1]):
            end, rules = n + 1, 0
            while end < len(lines) and rules < 3:
                rules += bool(TABLE_RULE.match(lines[end]))
                end += 1
            found.append("\n".join(lines[n:end]))
            n = end
        else:
            n += 1
    latest = {table.split("\n", 1)[0]: table for table in found}  # a table printed again as it grows: the last
    return [table for table in found if latest[table.split("\n", 1)[0]] is table]


def run(name: str, command: list[str], log_dir: Path) -> tuple[int, str, float]:
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    started = time.monotonic()
    log = log_dir / f"{name}.log"
    with open(log, "w") as errors:
        process = subprocess.Popen([PYTHON, *command], cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
        captured = []
        for line in process.stdout:
            print(line, end="", flush=True)
            captured.append(line)
        code = process.wait()
    seconds = time.monotonic() - started
    if code:
        print(f"{name} failed (exit {code}); the end of {log}:")
        print("\n".join(log.read_text().splitlines()[-30:]))
    return code, "".join(captured), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="500 people, short runs, for trying it out")
    parser.add_argument("--skip", nargs="*", default=[], choices=("pages", "reminders", "import", "rendering", "load", "faults"))
    parser.add_argument("--load-employees", type=int, default=5000, help="organisation size for bench/load.py")
    parser.add_argument("--log-dir", type=Path,
                        default=Path("/tmp") / f"learning-bench-{time.strftime('%Y%m%d-%H%M%S')}")
    args = parser.parse_args()
    args.log_dir.mkdir(parents=True, exist_ok=True)
    header = machine()
    print("\n".join(header), flush=True)
    results = [(name, *run(name, command, args.log_dir)) for name, command in steps(args)]

    print("\n\n######## All benchmark tables ########")
    print("\n".join(header))
    for name, code, output, seconds in results:
        print(f"\n--- {name} ({seconds / 60:.1f} min{', FAILED' if code else ''}) ---")
        for table in tables_in(output):
            print(f"\n{table}")
        for line in output.splitlines():
            if line.startswith("Note:"):
                print(line)
    print(f"\nLogs: {args.log_dir}")
    missed = sum(output.count("MISSED") for _name, _code, output, _s in results)
    print(f"Targets missed: {missed}" if missed else "Every target met.")
    return 1 if any(code for _name, code, _output, _s in results) else 0


if __name__ == "__main__":
    sys.exit(main())
