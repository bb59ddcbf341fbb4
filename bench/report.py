"""Plain-text tables for benchmark output, and the met/missed marker for targets."""

from __future__ import annotations


def target(met: bool, goal: str) -> str:
    return f"{'met' if met else 'MISSED'} ({goal})"


class Table:
    def __init__(self, title: str, headers: list[str]):
        self.title, self.headers, self.rows = title, headers, []

    def add(self, *cells) -> None:
        self.rows.append([str(c) for c in cells])

    def print(self) -> None:
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) if self.rows else len(h)
                  for i, h in enumerate(self.headers)]
        line = "  ".join("-" * w for w in widths)
        print(f"\n{self.title}\n{line}")
        print("  ".join(h.ljust(w) for h, w in zip(self.headers, widths, strict=True)))
        print(line)
        for row in self.rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        print(line, flush=True)
