"""The benchmark's report: medians over runs and the printed table (no server started)."""

from __future__ import annotations

import math

import pytest

from bench.run import median_of, print_table
from bench.suite import Figure, Report


def _report(rate: float, cpu: float, rss: float) -> Report:
    report = Report("sqlite", 1)
    report.figures.append(
        Figure("GET /home", rate, p50=10.0, cpu_ms=cpu, ratio=rate / 1000, count=5)
    )
    report.figures.append(Figure("delivery", rate, ratio=0.5, count=2))
    report.facts = {"idle_rss_mib": rss, "bare_req_per_s": [1000, 1200]}
    return report


def test_median_of_runs_takes_each_figure_median_and_sums_counts() -> None:
    runs = [_report(10, 3.0, 100), _report(30, 1.0, 120), _report(20, float("nan"), 110)]
    out = median_of(runs)
    home = out.figures[0]
    assert home.rate == 20 and home.count == 15
    assert home.cpu_ms == 2.0  # NaN left out
    assert math.isnan(home.p99) and home.note == "median of 3"
    assert out.facts["idle_rss_mib"] == 110 and out.facts["bare_req_per_s"] == 1100
    assert out.facts["runs"] == 3
    assert median_of(runs[:1]) is runs[0]


def test_table_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    made = {"statuses": 600, "accounts": {"local": 30, "remote": 100}}
    print_table([_report(10, 3.0, 100)], made)
    out = capsys.readouterr().out
    assert "GET /home" in out and "1/100" in out and "50%" in out
