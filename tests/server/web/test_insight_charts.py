"""The insights charts fill their column and keep legible labels at any width: the outer SVG has
no viewBox (so it draws in CSS pixels), is 100 % wide, places by percentages and writes every text
at 12 px or more; lines are stretched in a nested SVG whose strokes do not scale."""

from __future__ import annotations

import re

from server.web.insight_charts import bar_chart, line_chart


def _outer(svg: str) -> str:
    return svg.split(">", 1)[0]


def _font_sizes(svg: str) -> list[int]:
    return [int(s) for s in re.findall(r'font-size="(\d+)px"', svg)]


def test_bar_chart_fills_its_column_with_real_pixel_labels() -> None:
    svg = str(bar_chart("c", "T", "D", [("Alice", 3), ("Bob", 0), ("Chris <b>", 6)]))
    outer = _outer(svg)
    assert 'width="100%"' in outer and "viewBox" not in outer
    sizes = _font_sizes(svg)
    assert len(sizes) == 6 and min(sizes) >= 12
    assert re.findall(r'<rect x="36.0%" y="\d+" width="([\d.]+)%"', svg) == [
        "25.00",
        "0.00",
        "50.00",
    ]
    assert "Chris &lt;b&gt;" in svg and "<b>" not in svg
    assert '<title id="c-title">T</title><desc id="c-desc">D</desc>' in svg


def test_line_chart_stretches_lines_not_labels() -> None:
    weeks = [f"w{i}" for i in range(12)]
    svg = str(line_chart("l", "T", "D", weeks, {"Posts": [1] * 12, "Replies": list(range(12))}))
    outer = _outer(svg)
    assert 'width="100%"' in outer and "viewBox" not in outer
    assert 'viewBox="0 0 1000 100" preserveAspectRatio="none"' in svg
    assert svg.count("<polyline") == 2 and svg.count('vector-effect="non-scaling-stroke"') == 5
    assert min(_font_sizes(svg)) >= 12
    shown = re.findall(r">(w\d+)</text>", svg)
    assert shown[0] == "w0" and 4 <= len(shown) <= 6  # at most six x labels: they fit a phone
    # the steepest series reaches the top of the plot, zero is its bottom
    replies = re.findall(r'points="([^"]+)"', svg)[1].split()
    assert replies[0].endswith(",100.00") and replies[-1] == "930.0,0.00"
    assert ">Posts</text>" in svg and ">Replies</text>" in svg


def test_line_chart_with_no_activity_draws_flat_lines() -> None:
    svg = str(line_chart("z", "T", "D", ["a"], {"Posts": [0]}))
    assert 'points="70.0,100.00"' in svg and ">0</text>" in svg


def test_bar_chart_puts_long_labels_above_their_bars() -> None:
    """A label too long for a third of a phone's column (a community's name) goes on its own line
    above its bar, from the left edge, so it is never cut; a very long one is shortened."""
    long_name = "Energy Transition Lab"
    svg = str(bar_chart("o", "T", "D", [(long_name, 6), ("Kitchen", 3), ("x" * 80, 0)]))
    labels = re.findall(r'<text x="([\d.]+)%" y="\d+" text-anchor="(\w+)"[^>]*>([^<]+)</text>', svg)
    assert (("0", "start", long_name)) in labels and ("0", "start", "Kitchen") in labels
    assert ("0", "start", "x" * 45 + "…") in labels
    assert re.findall(r'<rect x="0.0%" y="\d+" width="([\d.]+)%"', svg) == [
        "80.00",
        "40.00",
        "0.00",
    ]
    assert min(_font_sizes(svg)) >= 12
