"""Small server-rendered SVG charts for the insights pages: readable without JavaScript.

Each chart is an ``<svg role="img">`` labelled by its own ``<title>`` and ``<desc>``; the pages put
a data table next to it for screen readers and for people who prefer numbers.
"""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#1f6f8b", "#e07a1f", "#5a9a3c", "#8b3f8f", "#7a7a7a", "#c23b3b", "#2f4f9f", "#a67c00")


def _open(chart_id: str, title: str, desc: str, width: int, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(desc)}</desc>',
    ]


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    items: list[tuple[str, float]],
    *,
    width: int = 560,
    value_format: str = "{:g}",
) -> Markup:
    """Horizontal bars, one per (label, value), with the value written at the end of each bar."""
    row, label_w, top = 26, 170, 8
    height = top * 2 + row * max(1, len(items))
    peak = max((v for _, v in items), default=0) or 1
    span = width - label_w - 60
    out = _open(chart_id, title, desc, width, height)
    for i, (label, value) in enumerate(items):
        y = top + i * row
        bar = max(1.0, span * value / peak) if value else 0.0
        colour = PALETTE[i % len(PALETTE)]
        out.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end" font-size="13">{escape(label)}</text>'
        )
        out.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{bar:.1f}" height="{row - 8}" fill="{colour}"/>'
        )
        out.append(
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 17}" font-size="12">'
            f"{escape(value_format.format(value))}</text>"
        )
    out.append("</svg>")
    return Markup("".join(out))


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    x_labels: list[str],
    series: dict[str, list[int]],
    *,
    width: int = 640,
    height: int = 260,
) -> Markup:
    """One line per series over the x labels (weeks), with a y axis from zero and a legend."""
    left, right, top, bottom = 44, 12, 12, 58
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for values in series.values() for v in values), default=0) or 1
    steps = max(1, len(x_labels) - 1)
    out = _open(chart_id, title, desc, width, height)
    for frac in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - frac)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{round(peak * frac)}</text>'
        )
    every = max(1, len(x_labels) // 6)
    for i, label in enumerate(x_labels):
        if i % every == 0:
            x = left + plot_w * i / steps
            out.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">'
                f"{escape(label)}</text>"
            )
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = " ".join(
            f"{left + plot_w * i / steps:.1f},{top + plot_h * (1 - v / peak):.1f}"
            for i, v in enumerate(values)
        )
        out.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{escape(name)}</title></polyline>"
        )
        lx = left + (n % 4) * (plot_w / 4)
        ly = top + plot_h + 32 + (n // 4) * 16
        out.append(f'<rect x="{lx:.1f}" y="{ly - 9}" width="12" height="4" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16:.1f}" y="{ly - 4}" font-size="11">{escape(name)}</text>')
    out.append("</svg>")
    return Markup("".join(out))
