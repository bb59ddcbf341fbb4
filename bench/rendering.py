"""Rendering authored Markdown: CPU time of the longest and most formatted texts a form accepts.

    .venv/bin/python bench/rendering.py [--repeat 5]

Each case is rendered ``--repeat`` times per profile (STAFF and EDITORIAL); the table shows the
fastest CPU time (``time.process_time``: other processes on the machine do not count) and the
number of Python function calls (cProfile), which does not depend on the machine at all.
Target: every case in under 100 ms of CPU. The cases are also the test suite's
(tests/test_content.py), which checks the call counts: at most ``CALL_BUDGET`` calls and no more
than linear growth with the text's length.
"""

from __future__ import annotations

import argparse
import cProfile
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.report import Table, target  # noqa: E402
from learning.content import MAX_LINES, MAX_MARKUP, MAX_SOURCE, Profile, render  # noqa: E402

TARGET_MS = 100
# About 70 ms of CPU on the 2-core machine (some 8,500 calls a millisecond, measured here); the most
# formatted text a form accepts makes about 340,000.
CALL_BUDGET = 600_000


def fill(unit: str, size: int = MAX_SOURCE) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def lines_up_to(size: int, line: Callable[[int], str]) -> str:
    """``line(0)``, ``line(1)``, … as long as the text stays within ``size`` characters."""
    text, n = "", 0
    while len(text) + len(line(n)) <= size:
        text, n = text + line(n), n + 1
    return text


def within_limits(unit: str, size: int = MAX_SOURCE) -> str:
    """``unit`` repeated as often as a form accepts it (length, lines and formatting characters);
    a smaller ``size`` takes that share of the repetitions."""
    repeats = min(MAX_SOURCE // len(unit), (MAX_LINES - 1) // unit.count("\n") if "\n" in unit else MAX_SOURCE)
    marks = sum(1 for c in unit if c in "*_`\\[]<>&|#!~=")
    if marks:
        repeats = min(repeats, MAX_MARKUP // marks)
    return unit * (repeats * size // MAX_SOURCE)


# Texts that make Markdown parsers slow, each of ``size`` characters at most: a form refuses most of
# them (too many formatting characters or lines), and the renderer turns what reaches it anyway (old
# rows, imports) into plain paragraphs; the rest must still render quickly.
PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "unclosed link parentheses": lambda n: fill("[a](b(", n),
    "link parentheses closed at the end": lambda n: fill("[a](b(", n // 2) + ")" * (n // 2),
    "unclosed image parentheses": lambda n: fill("![a](b(", n),
    "nested brackets before links": lambda n: fill("[[a](b)", n),
    "open brackets": lambda n: fill("[", n),
    "brackets closed at the end": lambda n: "[" * (n // 2) + "]" * (n // 2),
    "nested emphasis": lambda n: "*_" * (n // 4) + "_*" * (n // 4),
    "emphasis runs": lambda n: "*" * (n // 2) + "a" + "*" * (n // 2 - 1),
    "strong and underscore": lambda n: fill("**_a", n),
    "angle brackets": lambda n: fill("<", n),
    "unclosed tags": lambda n: fill("<a ", n),
    "unclosed autolinks": lambda n: fill("<http://", n),
    "backticks": lambda n: fill("`a``", n),
    "backslashes": lambda n: fill("\\", n),
    "entities": lambda n: fill("&#1", n),
    "wide table": lambda n: "|" + "a|" * (n // 4) + "\n|" + "-|" * (n // 4 - 1) + "\n",
    "many table rows": lambda n: fill("|a|b|\n", n),
    "nested lists": lambda n: lines_up_to(n, lambda i: "  " * i + "- a\n"),
    "flat list": lambda n: fill("- a\n", n),
    "nested blockquotes": lambda n: fill(">", n),
    "blockquote staircase": lambda n: lines_up_to(n, lambda i: ">" * i + " a\n"),
    "headings": lambda n: fill("# a\n", n),
    "setext headings": lambda n: fill("a\n=\n", n),
    "fences": lambda n: fill("```\n", n),
    "rules": lambda n: fill("***\n", n),
    "unclosed titles": lambda n: fill('[a](b "', n),
    "link references": lambda n: fill("[a]", n),
    "reference definitions": lambda n: fill("[a]: b\n", n),
    "ordinary prose with links": lambda n: fill("Ein Satz mit **fett** und [Link](https://example.org). ", n),
}

# The most formatting of one kind a form accepts: these are rendered as Markdown, not refused.
UNITS = {
    "links": "[a](b) ", "images": "![a](/media/b.png) ", "emphasis": "*ab* ", "code": "`a` ",
    "entities": "&amp; ", "list items with inline": "- *a* [b](c) `d`\n", "headings with links": "# [a](b) *c* _d_\n",
    "table rows": "|a|*b*|[c](d)|\n", "blockquotes": "> a\n", "setext": "a\n=\n", "rules": "***\n",
    "paragraphs": "Ein ganz gewöhnlicher Absatz mit einigen Wörtern.\n\n",
}
WITHIN_LIMITS: dict[str, Callable[[int], str]] = {
    name: (lambda n, unit=unit: within_limits(unit, n)) for name, unit in UNITS.items()}


def python_calls(text: str, profile: Profile) -> int:
    """The Python and built-in function calls one rendering of ``text`` makes (after a first rendering
    has built and cached the parser): a measure of the work that is the same on every machine."""
    render(text, profile)
    profiler = cProfile.Profile()
    profiler.runcall(render, text, profile)
    return sum(entry.callcount for entry in profiler.getstats())


def cpu_ms(text: str, profile: Profile, repeat: int) -> float:
    """CPU time of the fastest of ``repeat`` renderings."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        render(text, profile)
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    table = Table(f"Rendering Markdown of up to {MAX_SOURCE:,} characters (fastest of {args.repeat})",
                  ["case", "kind", "characters", "profile", "calls", "CPU ms", "target"])
    slowest = 0.0
    for kind, cases in (("pathological", PATHOLOGICAL), ("within limits", WITHIN_LIMITS)):
        for name, make in cases.items():
            text = make(MAX_SOURCE)
            for profile in (Profile.STAFF, Profile.EDITORIAL):
                ms = cpu_ms(text, profile, args.repeat)
                slowest = max(slowest, ms)
                table.add(name, kind, f"{len(text):,}", profile.value, f"{python_calls(text, profile):,}",
                          f"{ms:.1f}", target(ms < TARGET_MS, f"< {TARGET_MS} ms"))
    table.print()
    print(f"slowest: {slowest:.1f} ms of CPU; {target(slowest < TARGET_MS, f'every case < {TARGET_MS} ms')}")


if __name__ == "__main__":
    main()
