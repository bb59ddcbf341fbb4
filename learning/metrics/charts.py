"""Server-rendered SVG line charts (no JavaScript, no external library); pages add a data table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 12, 28


@dataclass
class Chart:
    width: int
    height: int
    lines: list[str]  # SVG polyline point lists; a gap (hidden value) starts a new line
    dots: list[tuple[float, float]]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    baseline: float


def line_chart(points: list[tuple[date, float | None]], *, maximum: float | None = None,
               date_label=lambda d: d.isoformat()) -> Chart | None:
    """Scale (day, value) points into the plot area; None when there is nothing to draw."""
    known = [v for _, v in points if v is not None]
    if not known:
        return None
    top = maximum if maximum is not None else max(known) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    count = len(points)

    def x(i: int) -> float:
        return LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return TOP + plot_h * (1 - min(v, top) / top)

    lines, current, dots = [], [], []
    for i, (_, value) in enumerate(points):
        if value is None:
            if current:
                lines.append(" ".join(current))
            current = []
            continue
        current.append(f"{x(i):.1f},{y(value):.1f}")
        dots.append((round(x(i), 1), round(y(value), 1)))
    if current:
        lines.append(" ".join(current))
    y_ticks = [(round(y(top * f), 1), _number(top * f)) for f in (0, 0.5, 1)]
    label_every = max(1, count // 4)
    x_ticks = [(round(x(i), 1), date_label(day)) for i, (day, _) in enumerate(points)
               if i % label_every == 0 or i == count - 1]
    return Chart(WIDTH, HEIGHT, lines, dots, y_ticks, x_ticks, round(TOP + plot_h, 1))


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"
