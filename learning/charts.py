"""Charts as server-rendered SVG: no script, no external request; every page gives the same values in a table.

Four kinds, one per way a page shows figures:

- ``line_chart``: figures per category (the rounds of a survey), one line per series, each with
  its own marker shape so that the chart reads without colour too; drawn here as SVG;
- ``bar_chart``: horizontal bars from a low end, with a dashed marker line (the ADKAR barrier);
  drawn here as SVG;
- ``day_chart``: one value per day (the metrics dashboards' trends); the geometry, which
  ``templates/metrics/_chart.html`` draws;
- ``stacked_bars``: the parts of a whole per row (journeys by department); the geometry, which
  the page's template draws with its own labels.

Colours come from classes in the stylesheet of the feature that shows the chart. This module
imports no feature: features hand it numbers and texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

# Figures per category and bars (SVG) ------------------------------------------------------------

MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square", "triangle", "diamond")


@dataclass
class Series:
    label: str
    values: list[float | None]


def _trimmed(value: float) -> str:
    """A number with at most one decimal and no trailing zero: 3, 2.5."""
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
        parts.append(f'<text class="chart__tick" x="{left - 8}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{_trimmed(tick)}</text>')
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
              high: float, marker: float | None = None, marker_label: str = "", number=_trimmed) -> Markup:
    """Horizontal bars from ``low``; a dashed line marks ``marker`` (the ADKAR barrier at 3)."""
    width = 640
    # Room for the longest label (about 7.5 units a character at 14 px), so none is cut off at the left.
    longest = max((len(label) for label, _value in bars), default=0)
    left, right, top, row = min(300, max(150, round(16 + 7.5 * longest))), 24, 12, 36
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


# One value per day (geometry) ----------------------------------------------------------------------

# A day chart's frame (``templates/metrics/_chart.html`` draws its grid in the same frame).
DAY_WIDTH, DAY_HEIGHT = 560, 220
DAY_LEFT, DAY_RIGHT, DAY_TOP, DAY_BOTTOM = 48, 16, 12, 28


@dataclass
class DayChart:
    width: int
    height: int
    lines: list[str]  # SVG polyline point lists; a gap (hidden value) starts a new line
    dots: list[tuple[float, float]]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    baseline: float


def day_chart(points: list[tuple[date, float | None]], *, maximum: float | None = None,
              date_label=lambda d: d.isoformat()) -> DayChart | None:
    """Scale (day, value) points into the plot area of one line; None when there is nothing to draw.

    Returns the geometry; ``templates/metrics/_chart.html`` draws it, with the values as a table.
    """
    known = [v for _, v in points if v is not None]
    if not known:
        return None
    top = maximum if maximum is not None else max(known) * 1.1 or 1.0
    plot_w, plot_h = DAY_WIDTH - DAY_LEFT - DAY_RIGHT, DAY_HEIGHT - DAY_TOP - DAY_BOTTOM
    count = len(points)

    def x(i: int) -> float:
        return DAY_LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)

    def y(v: float) -> float:
        return DAY_TOP + plot_h * (1 - min(v, top) / top)

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
    y_ticks = [(round(y(top * f), 1), _day_tick(top * f)) for f in (0, 0.5, 1)]
    label_every = max(1, count // 4)
    x_ticks = [(round(x(i), 1), date_label(day)) for i, (day, _) in enumerate(points)
               if i % label_every == 0 or i == count - 1]
    return DayChart(DAY_WIDTH, DAY_HEIGHT, lines, dots, y_ticks, x_ticks, round(DAY_TOP + plot_h, 1))


def _day_tick(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


# The parts of a whole per row (geometry) -----------------------------------------------------------

@dataclass
class Segment:
    key: str  # the part, for the CSS class
    value: int
    x: float
    width: float

    @property
    def middle(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclass
class StackedRow:
    label: str
    y: int
    segments: list[Segment]  # the parts with a value, from the left

    @property
    def empty(self) -> bool:
        return not self.segments


@dataclass
class LegendEntry:
    key: str
    label: str
    x: int  # the colour box; its label follows at ``x + 22``


@dataclass
class StackedBars:
    width: int
    height: int
    label_width: int
    bar_height: int
    rows: list[StackedRow]
    legend: list[LegendEntry]
    legend_y: int  # the baseline of the legend's labels


def stacked_bars(rows: list[tuple[str, list[tuple[str, int]]]], legend: list[tuple[str, str]], *,
                 width: int = 760, label_width: int = 220, bar_height: int = 28, gap: int = 12,
                 legend_step: int = 170) -> StackedBars:
    """Lay out one bar per row, its parts side by side, all on one scale (the longest bar fills the plot).

    ``rows`` are (label, [(part key, value), ...]); ``legend`` the (part key, label) pairs in order.
    """
    widest = max([1, *(sum(value for _key, value in parts) for _label, parts in rows)])
    scale = (width - label_width - 40) / widest
    laid_out = []
    for index, (label, parts) in enumerate(rows):
        x, segments = float(label_width), []
        for key, value in parts:
            if value:
                segments.append(Segment(key, value, round(x, 1), round(value * scale, 1)))
                x += value * scale
        laid_out.append(StackedRow(label, index * (bar_height + gap), segments))
    legend_y = len(rows) * (bar_height + gap) + 16
    entries = [LegendEntry(key, label, label_width + index * legend_step) for index, (key, label) in enumerate(legend)]
    return StackedBars(width, len(rows) * (bar_height + gap) + 40, label_width, bar_height, laid_out, entries,
                       legend_y)
