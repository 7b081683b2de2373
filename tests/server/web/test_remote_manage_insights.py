"""Reading another server's insights answer: only what is understood is kept, and nothing it says can
become a script link on this instance's page."""

from __future__ import annotations

from server.web.remote_manage import _readable_insights


def _answer(url: str) -> dict:
    person = {
        "account": {
            "id": "7",
            "acct": "zed@a.example",
            "url": url,
            "display_name": "Zed",
            "username": "zed",
        },
        "profile": "catalyst",
        "leader": True,
        "informal": True,
        "posts": 3,
        "responders": 2,
        "centrality": 1.5,
    }
    return {
        "weeks": ["2026-11-02", "2026-11-09"],
        "people": [person],
        "profile_counts": {"catalyst": 1},
        "weekly_activity": {"posts": [1, 2]},
        "quiet": [],
    }


def test_profile_links_are_web_addresses_only() -> None:
    for bad in (
        "javascript:alert(document.cookie)",
        "data:text/html,<script>x</script>",
        " JavaScript:x",
    ):
        data, _ = _readable_insights(_answer(bad))
        assert data["people"][0]["account"]["url"] == ""
    data, _ = _readable_insights(_answer("https://a.example/@zed"))
    assert data["people"][0]["account"]["url"] == "https://a.example/@zed"
