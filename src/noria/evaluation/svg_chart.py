"""Small, self-contained SVG line and scatter charts: no plotting library needed.

The output is one ``<svg>`` element with its own ``viewBox``, a title, axes with
five ticks each, and one polyline (or set of dots) per series — readable in a
browser, embeddable in HTML, and storable as an artifact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

WIDTH, HEIGHT = 420, 340
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 34, 50
# Colour-blind-friendly (Okabe-Ito).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


@dataclass(frozen=True)
class Series:
    name: str
    xs: Sequence[float]
    ys: Sequence[float]
    style: Literal["line", "points"] = "line"


@dataclass(frozen=True)
class Axes:
    x_label: str
    y_label: str
    x_range: tuple[float, float] = (0.0, 1.0)
    y_range: tuple[float, float] = (0.0, 1.0)


def chart_svg(
    title: str, axes: Axes, series: Sequence[Series], *, reference: Series | None = None
) -> str:
    """A chart of ``series`` (drawn in palette order) over an optional dashed ``reference``."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="13">{escape(title)}</text>',
        *_axes(axes),
    ]
    if reference is not None:
        parts.append(_polyline(reference, axes, "#999999", dashed=True))
    for index, item in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            _polyline(item, axes, colour) if item.style == "line" else _dots(item, axes, colour)
        )
    parts.extend(_legend(series))
    parts.append("</svg>")
    return "\n".join(parts)


def _x(value: float, axes: Axes) -> float:
    low, high = axes.x_range
    return LEFT + (value - low) / (high - low) * (WIDTH - LEFT - RIGHT)


def _y(value: float, axes: Axes) -> float:
    low, high = axes.y_range
    return HEIGHT - BOTTOM - (value - low) / (high - low) * (HEIGHT - TOP - BOTTOM)


def _axes(axes: Axes) -> list[str]:
    x0, x1 = _x(axes.x_range[0], axes), _x(axes.x_range[1], axes)
    y0, y1 = _y(axes.y_range[0], axes), _y(axes.y_range[1], axes)
    parts = [
        f'<rect x="{x0}" y="{y1}" width="{x1 - x0}" height="{y0 - y1}" '
        'fill="none" stroke="#333333"/>'
    ]
    for step in range(5):
        fraction = step / 4
        x_value = axes.x_range[0] + fraction * (axes.x_range[1] - axes.x_range[0])
        y_value = axes.y_range[0] + fraction * (axes.y_range[1] - axes.y_range[0])
        x, y = _x(x_value, axes), _y(y_value, axes)
        parts.append(f'<line x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y0 + 4}" stroke="#333333"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y0 + 16}" text-anchor="middle">{_tick(x_value)}</text>'
        )
        parts.append(f'<line x1="{x0 - 4}" y1="{y:.1f}" x2="{x0}" y2="{y:.1f}" stroke="#333333"/>')
        parts.append(
            f'<text x="{x0 - 7}" y="{y + 4:.1f}" text-anchor="end">{_tick(y_value)}</text>'
        )
    middle_y = (y0 + y1) / 2
    parts.append(
        f'<text x="{(x0 + x1) / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(axes.x_label)}</text>"
    )
    parts.append(
        f'<text x="16" y="{middle_y}" text-anchor="middle" '
        f'transform="rotate(-90 16 {middle_y})">{escape(axes.y_label)}</text>'
    )
    return parts


def _polyline(series: Series, axes: Axes, colour: str, *, dashed: bool = False) -> str:
    points = " ".join(
        f"{_x(x, axes):.1f},{_y(y, axes):.1f}" for x, y in zip(series.xs, series.ys, strict=True)
    )
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    return (
        f'<polyline class="curve" data-name={quoteattr(series.name)} points="{points}" '
        f'fill="none" stroke="{colour}" stroke-width="1.8"{dash}/>'
    )


def _dots(series: Series, axes: Axes, colour: str) -> str:
    circles = "".join(
        f'<circle cx="{_x(x, axes):.1f}" cy="{_y(y, axes):.1f}" r="2"/>'
        for x, y in zip(series.xs, series.ys, strict=True)
    )
    return (
        f'<g class="points" data-name={quoteattr(series.name)} fill="{colour}" '
        f'fill-opacity="0.6">{circles}</g>'
    )


def _legend(series: Sequence[Series]) -> list[str]:
    """Bottom right, inside the axes: the corner ROC, PR and reliability curves leave empty."""
    parts = []
    for index, item in enumerate(series):
        y = HEIGHT - BOTTOM - 10 - 14 * (len(series) - 1 - index)
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="{WIDTH - RIGHT - 150}" y="{y - 8}" width="10" height="10" fill="{colour}"/>'
        )
        parts.append(f'<text x="{WIDTH - RIGHT - 135}" y="{y + 1}">{escape(item.name)}</text>')
    return parts


def _tick(value: float) -> str:
    return f"{value:.3g}"
