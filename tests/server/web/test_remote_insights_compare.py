"""A partner's insights document carries the previous period's totals; the remote insights page
compares them as the community's own page does, and reads a partner that sends none (an older
instance) without a comparison."""

from __future__ import annotations

import pytest

from server.services.insights import ACTIVITY_KINDS
from server.web.remote_manage import _readable_insights

DOC = {
    "weeks": ["2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z"],
    "people": [],
    "profile_counts": {},
    "weekly_activity": {"posts": [1, 2], "reply": [0, 3]},
    "totals": {"posts": 3, "reply": 3},
    "active": 4,
    "previous": {
        "since": "2026-10-19T00:00:00Z",
        "until": "2026-11-01T23:59:59Z",
        "totals": {"posts": 5, "reply": 3},
        "active": 2,
    },
}


def test_the_previous_period_is_compared() -> None:
    data, charts = _readable_insights(DOC)
    rows = {r.label: (r.now, r.before, r.direction) for r in data["comparison"]}
    assert rows["Active members"] == (4, 2, "up")
    assert rows["Posts"] == (3, 5, "down") and rows["Replies"] == (3, 3, "same")
    assert len(rows) == 1 + len(ACTIVITY_KINDS)
    assert data["previous_since"].isoformat().startswith("2026-10-19")
    assert "Replies" in str(charts["weekly_chart"])  # the kinds by their names, not their codes


def test_a_partner_that_sends_no_previous_period_shows_none() -> None:
    older = {k: v for k, v in DOC.items() if k not in ("previous", "active")}
    data, _ = _readable_insights(older)
    assert data["comparison"] == []


@pytest.mark.parametrize(
    "previous",
    ["last month", {"since": "x", "until": "y", "totals": {}, "active": 1}, {"active": "many"}],
)
def test_an_odd_previous_period_is_refused(previous: object) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        _readable_insights({**DOC, "previous": previous})
