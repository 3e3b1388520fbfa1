"""Small, dependency-free SVG charts for the HTML report: lines and (stacked) bars.

Each chart is one <figure class="chart"> with the SVG inline, so the page is self-contained.
`data-marks` on the figure counts the marks drawn (points and bars), so a test can tell an
empty chart from a drawn one without reading pixels.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 16, 56
PALETTE = ("#3867d6", "#20bf6b", "#f7b731", "#eb3b5a", "#8854d0", "#0fb9b1", "#fa8231", "#4b6584")


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten apart) that cover low..high."""
    if high == low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step)
    last = math.ceil(high / step)
    return [round(i * step, 9) for i in range(first, last + 1)]


def _number(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _frame(
    labels: list[str], low: float, high: float
) -> tuple[list[str], Callable[[float], float], float]:
    """Axes and gridlines; returns the SVG parts, the y scale and each category's width."""
    ticks = _ticks(min(low, 0), max(high, 0))
    bottom, top = ticks[0], ticks[-1]
    plot_h = HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - bottom) / (top - bottom or 1))

    band = (WIDTH - LEFT - RIGHT) / max(len(labels), 1)
    parts = []
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="{"#999" if tick == 0 else "#e5e5e5"}"/>'
            f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">'
            f"{_number(tick)}</text>"
        )
    every = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = LEFT + band * (i + 0.5)
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'font-size="11">{escape(label)}</text>'
            )
    return parts, y, band


def _colors(names: list[str], colors: dict[str, str] | None) -> list[str]:
    return [(colors or {}).get(name, PALETTE[i % len(PALETTE)]) for i, name in enumerate(names)]


def _legend(names: list[str], colors: list[str]) -> str:
    items = "".join(
        f'<span><i style="background:{color}"></i>{escape(name)}</span>'
        for name, color in zip(names, colors, strict=True)
    )
    return f'<div class="legend">{items}</div>'


def _figure(
    title: str, marks: int, svg_parts: list[str], names: list[str], colors: list[str]
) -> str:
    if marks == 0:
        body = '<p class="empty">No data.</p>'
    else:
        body = (
            f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
            f'aria-label="{escape(title)}">'
            + "".join(svg_parts)
            + "</svg>"
            + _legend(names, colors)
        )
    return (
        f'<figure class="chart" data-marks="{marks}"><figcaption>{escape(title)}</figcaption>'
        f"{body}</figure>"
    )


def line_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float | None]],
    colors: dict[str, str] | None = None,
) -> str:
    """One line per series over the categories in `labels` (None: no point)."""
    values = [v for points in series.values() for v in points if v is not None]
    if not values:
        return _figure(title, 0, [], [], [])
    parts, y, band = _frame(labels, min(values), max(values))
    palette = _colors(list(series), colors)
    marks = 0
    for color, points in zip(palette, series.values(), strict=True):
        xy = [(LEFT + band * (j + 0.5), y(v)) for j, v in enumerate(points) if v is not None]
        if len(xy) > 1:
            path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in xy)
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>'
            )
        for x, yy in xy:
            parts.append(f'<circle cx="{x:.1f}" cy="{yy:.1f}" r="3" fill="{color}"/>')
            marks += 1
    return _figure(title, marks, parts, list(series), palette)


def bar_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float]],
    stacked: bool = True,
    colors: dict[str, str] | None = None,
) -> str:
    """Bars per category; stacked series pile up from 0, positives up and negatives down."""
    if not labels or not any(v for values in series.values() for v in values):
        return _figure(title, 0, [], [], [])
    if stacked:
        highs = [sum(max(v[j], 0) for v in series.values()) for j in range(len(labels))]
        lows = [sum(min(v[j], 0) for v in series.values()) for j in range(len(labels))]
    else:
        highs = [max(v[j] for v in series.values()) for j in range(len(labels))]
        lows = [min(v[j] for v in series.values()) for j in range(len(labels))]
    parts, y, band = _frame(labels, min(lows), max(highs))
    palette = _colors(list(series), colors)
    width = band * 0.7 / (1 if stacked else len(series))
    marks = 0
    for j in range(len(labels)):
        up = down = 0.0
        for i, values in enumerate(series.values()):
            value = values[j]
            if not value:
                continue
            if stacked:
                base = up if value > 0 else down
                x = LEFT + band * j + band * 0.15
            else:
                base = 0.0
                x = LEFT + band * j + band * 0.15 + width * i
            top, bottom = y(base + value), y(base)
            parts.append(
                f'<rect x="{x:.1f}" y="{min(top, bottom):.1f}" width="{width:.1f}" '
                f'height="{abs(bottom - top):.1f}" fill="{palette[i]}">'
                f"<title>{escape(labels[j])}: {_number(value)}</title></rect>"
            )
            marks += 1
            if stacked and value > 0:
                up += value
            elif stacked:
                down += value
    return _figure(title, marks, parts, list(series), palette)
