"""Small server-rendered SVG charts for the insights pages: readable without JavaScript.

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``; the pages put
a data table next to it for screen readers and for people who prefer numbers.

The charts fill their column at any width and their labels keep their size: an SVG without a
``viewBox`` is drawn in CSS pixels, so horizontal positions are percentages of the column and font
sizes are real pixels (``LABEL_PX``, at least 12 px on a phone). The lines of a line chart are drawn
in a nested, stretched SVG (``preserveAspectRatio="none"``) whose strokes do not scale.
"""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#1f6f8b", "#e07a1f", "#5a9a3c", "#8b3f8f", "#7a7a7a", "#c23b3b", "#2f4f9f", "#a67c00")
LABEL_PX = 13  # bar labels and legends
AXIS_PX = 12  # axis ticks and values: the smallest text in any chart
PLOT_PAD = 7.0  # percent of the width left free at each side of a line chart's plot
# About 7 px a character at LABEL_PX: a third of a phone's column (~120 px) holds 16, its whole
# width (~360 px) about 48.
SIDE_LABEL_CHARS = 16
STACKED_LABEL_CHARS = 46


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{cid}" role="img" '
        f'width="100%" height="{height}" style="width:100%;height:{height}px" '
        f'aria-labelledby="{cid}-title {cid}-desc">',
        f'<title id="{cid}-title">{escape(title)}</title>',
        f'<desc id="{cid}-desc">{escape(desc)}</desc>',
    ]


def _text(x: str, y: float, label: str, size: int, anchor: str = "start") -> str:
    return (
        f'<text x="{x}" y="{y:.0f}" text-anchor="{anchor}" font-size="{size}px" '
        f'fill="currentColor">{escape(label)}</text>'
    )


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    items: list[tuple[str, float]],
    *,
    value_format: str = "{:g}",
) -> Markup:
    """Horizontal bars, one per (label, value), with the value written at the end of each bar.

    Short labels take the left third of the column, bars at most half of it, the value follows
    the bar. When a label is longer than fits that third on a phone (``SIDE_LABEL_CHARS``), every
    label goes above its bar instead, and the bars may take most of the width."""
    peak = max((v for _, v in items), default=0) or 1
    stacked = any(len(label) > SIDE_LABEL_CHARS for label, _ in items)
    row, top = (44, 6) if stacked else (28, 6)
    label_end, bar_start, bar_span = (0.0, 0.0, 80.0) if stacked else (34.0, 36.0, 50.0)
    height = top * 2 + row * max(1, len(items))
    out = _open(chart_id, title, desc, height)
    for i, (label, value) in enumerate(items):
        y = top + i * row
        bar = max(0.4, bar_span * value / peak) if value else 0.0
        colour = PALETTE[i % len(PALETTE)]
        if stacked:  # the label on its own line, the bar and its value under it
            out.append(_text("0%", y + 15, _shortened(label), LABEL_PX))
            bar_y, value_y = y + 22, y + 35
        else:
            out.append(_text(f"{label_end}%", y + 19, label, LABEL_PX, "end"))
            bar_y, value_y = y + 5, y + 19
        out.append(
            f'<rect x="{bar_start}%" y="{bar_y}" width="{bar:.2f}%" '
            f'height="{16 if stacked else 18}" fill="{colour}"/>'
        )
        out.append(
            _text(f"{bar_start + bar + 1.5:.2f}%", value_y, value_format.format(value), AXIS_PX)
        )
    out.append("</svg>")
    return Markup("".join(out))


def _shortened(label: str) -> str:
    """A label that fits a phone's column on one line (the chart's description and the table
    beside it have it whole)."""
    return label if len(label) <= STACKED_LABEL_CHARS else label[: STACKED_LABEL_CHARS - 1] + "…"


def _x(i: int, steps: int) -> float:
    """Percent of the width of point ``i`` of ``steps`` + 1."""
    return PLOT_PAD + (100 - 2 * PLOT_PAD) * i / steps


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    x_labels: list[str],
    series: dict[str, list[int]],
    *,
    plot_height: int = 170,
) -> Markup:
    """One line per series over the x labels (weeks), with a y axis from zero and a legend
    (two series a row, so it fits a phone)."""
    top, legend_row = 18, 20
    rows = (len(series) + 1) // 2
    height = top + plot_height + 26 + rows * legend_row
    peak = max((v for values in series.values() for v in values), default=0) or 1
    steps = max(1, len(x_labels) - 1)
    out = _open(chart_id, title, desc, height)
    plot = [
        f'<svg x="0" y="{top}" width="100%" height="{plot_height}" viewBox="0 0 1000 100" '
        'preserveAspectRatio="none" overflow="visible">'
    ]
    for frac in (0.0, 0.5, 1.0):
        y = 100 * (1 - frac)
        plot.append(
            f'<line x1="0" y1="{y:.1f}" x2="1000" y2="{y:.1f}" stroke="#999" stroke-opacity=".5" '
            'vector-effect="non-scaling-stroke"/>'
        )
        out.append(_text("0", top + plot_height * (1 - frac) - 3, str(round(peak * frac)), AXIS_PX))
    for n, values in enumerate(series.values()):
        points = " ".join(
            f"{10 * _x(i, steps):.1f},{100 * (1 - v / peak):.2f}" for i, v in enumerate(values)
        )
        plot.append(
            f'<polyline fill="none" stroke="{PALETTE[n % len(PALETTE)]}" stroke-width="2.5" '
            f'vector-effect="non-scaling-stroke" points="{points}"/>'
        )
    plot.append("</svg>")
    out += plot
    every = max(1, -(-len(x_labels) // 6))
    for i, label in enumerate(x_labels):
        if i % every == 0:
            out.append(
                _text(f"{_x(i, steps):.2f}%", top + plot_height + 18, label, AXIS_PX, "middle")
            )
    for n, name in enumerate(series):
        x = 50.0 * (n % 2)
        y = top + plot_height + 26 + (n // 2) * legend_row + 14
        colour = PALETTE[n % len(PALETTE)]
        out.append(f'<rect x="{x}%" y="{y - 8}" width="14" height="5" fill="{colour}"/>')
        out.append(
            f'<text x="{x}%" dx="20" y="{y}" font-size="{LABEL_PX}px" fill="currentColor">'
            f"{escape(name)}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))
