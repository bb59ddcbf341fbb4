"""Charts as server-rendered SVG: no script, no external request; each page gives a table beside it.

Colours come from classes in ``static/css/surveys.css``; every series also has its own marker
shape, so the chart reads without colour too.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square", "triangle", "diamond")


@dataclass
class Series:
    label: str
    values: list[float | None]


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _marker(shape: str, x: float, y: float, css: str) -> str:
    if shape == "square":
        return f'<rect class="{css}" x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10"/>'
    if shape == "triangle":
        return f'<polygon class="{css}" points="{x:.1f},{y - 6:.1f} {x + 6:.1f},{y + 5:.1f} {x - 6:.1f},{y + 5:.1f}"/>'
    if shape == "diamond":
        points = f"{x:.1f},{y - 6:.1f} {x + 6:.1f},{y:.1f} {x:.1f},{y + 6:.1f} {x - 6:.1f},{y:.1f}"
        return f'<polygon class="{css}" points="{points}"/>'
    return f'<circle class="{css}" cx="{x:.1f}" cy="{y:.1f}" r="5"/>'


def line_chart(chart_id: str, title: str, description: str, categories: list[str], series: list[Series],
               low: float, high: float, ticks: list[float]) -> Markup:
    """Values per wave as lines with markers; a hidden value (None) leaves a gap."""
    width, height = 640, 300
    left, right, top, bottom = 80, 80, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def x_of(index: int) -> float:
        if len(categories) == 1:
            return left + plot_w / 2
        return left + plot_w * index / (len(categories) - 1)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - (value - low) / (high - low))

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>']
    for tick in ticks:
        y = y_of(tick)
        parts.append(f'<line class="chart__grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="chart__tick" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_fmt(tick)}</text>')
    for index, category in enumerate(categories):
        parts.append(f'<text class="chart__tick" x="{x_of(index):.1f}" y="{height - 12}" '
                     f'text-anchor="middle">{escape(category)}</text>')
    for number, line in enumerate(series):
        css = f"chart__series chart__series--{number % 8 + 1}"
        segment: list[str] = []
        segments: list[list[str]] = []
        for index, value in enumerate(line.values):
            if value is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x_of(index):.1f},{y_of(value):.1f}")
        if segment:
            segments.append(segment)
        for points in segments:
            if len(points) > 1:
                parts.append(f'<polyline class="{css} chart__line" points="{" ".join(points)}"/>')
        for index, value in enumerate(line.values):
            if value is not None:
                parts.append(_marker(MARKERS[number % len(MARKERS)], x_of(index), y_of(value), f"{css} chart__marker"))
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart_id: str, title: str, description: str, bars: list[tuple[str, float | None]], low: float,
              high: float, marker: float | None = None, marker_label: str = "", number=_fmt) -> Markup:
    """Horizontal bars from ``low``; a dashed line marks ``marker`` (the ADKAR barrier at 3)."""
    width = 640
    left, right, top, row = 150, 24, 12, 36
    height = top + row * len(bars) + 36
    plot_w = width - left - right

    def x_of(value: float) -> float:
        return left + plot_w * (value - low) / (high - low)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
             f'<title id="{chart_id}-title">{escape(title)}</title>',
             f'<desc id="{chart_id}-desc">{escape(description)}</desc>']
    for tick in range(int(low), int(high) + 1):
        x = x_of(tick)
        parts.append(f'<line class="chart__grid" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 30}"/>')
        parts.append(f'<text class="chart__tick" x="{x:.1f}" y="{height - 12}" text-anchor="middle">{tick}</text>')
    for index, (label, value) in enumerate(bars):
        y = top + index * row
        parts.append(f'<text class="chart__label" x="{left - 8}" y="{y + row / 2 + 4:.1f}" '
                     f'text-anchor="end">{escape(label)}</text>')
        if value is None:
            parts.append(f'<text class="chart__tick" x="{left + 6}" y="{y + row / 2 + 4:.1f}">–</text>')
            continue
        css = "chart__bar chart__bar--low" if marker is not None and value <= marker else "chart__bar"
        parts.append(f'<rect class="{css}" x="{left}" y="{y + 6}" width="{max(x_of(value) - left, 1):.1f}" '
                     f'height="{row - 12}"/>')
        parts.append(f'<text class="chart__value" x="{x_of(value) + 6:.1f}" y="{y + row / 2 + 4:.1f}">'
                     f'{escape(number(value))}</text>')
    if marker is not None:
        x = x_of(marker)
        parts.append(f'<line class="chart__marker-line" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{height - 30}">'
                     f'<title>{escape(marker_label)}</title></line>')
    parts.append("</svg>")
    return Markup("".join(parts))
