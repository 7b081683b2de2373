"""The presentation helpers of post cards: audience names, initials avatars, relative times,
plurals, folded boosts and the back link of a card's buttons."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.web import cards

ROOT = Path(__file__).resolve().parents[3]


def test_every_audience_has_one_name_and_the_readme_uses_it() -> None:
    readme = (ROOT / "README.md").read_text()
    for value, (name, explanation) in cards.AUDIENCES.items():
        assert f"| `{value}` | {name} |" in readme
        assert explanation
    assert cards.audience_name("members") == "Organisation"
    assert cards.audience_choices(["public"]) == [
        ("public", "Public — " + cards.AUDIENCES["public"][1])
    ]


def test_initials_and_colours_are_deterministic() -> None:
    assert cards.initials("Ana de Vries") == "AV"
    assert cards.initials("ben") == "B"
    assert cards.initials("@_") == "?"
    first = cards.initials_avatar("Ana de Vries", "https://x.example/users/ana")
    assert first == cards.initials_avatar("Ana de Vries", "https://x.example/users/ana")
    assert ">AV</text>" in first and 'aria-hidden="true"' in first
    assert cards.hue("a") != cards.hue("b") or cards.hue("a") != cards.hue("c")
    assert "<b" not in cards.initials_avatar("<b>x</b> <i>", "k")  # letters only, never markup


@dataclass
class _Who:
    name: str
    avatar_url: str | None
    uri: str = "https://x.example/users/a"


def test_an_uploaded_avatar_wins_over_initials() -> None:
    assert '<img src="/media/a.png"' in cards.avatar(_Who("Ana", "/media/a.png"))
    assert cards.avatar(_Who("Ana", None)).startswith("<svg")


def test_relative_times_and_full_dates() -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    assert cards.ago(now - timedelta(seconds=10), now) == "just now"
    assert cards.ago(now - timedelta(minutes=3), now) == "3 min ago"
    assert cards.ago(now - timedelta(hours=5), now) == "5 h ago"
    assert cards.ago(now - timedelta(days=1), now) == "1 day ago"
    assert cards.ago(now - timedelta(days=3), now) == "3 days ago"
    assert cards.ago(datetime(2026, 3, 9, tzinfo=UTC), now) == "9 Mar"
    assert cards.ago(datetime(2024, 3, 9, tzinfo=UTC), now) == "9 Mar 2024"
    assert cards.full_date(now) == "2 December 2026, 10:00 UTC"


def test_plural() -> None:
    assert cards.plural(1, "reply", "replies") == "1 reply"
    assert cards.plural(0, "reply", "replies") == "0 replies"
    assert cards.plural(2, "like", "likes") == "2 likes"


@dataclass
class _Actor:
    id: int
    name: str


@dataclass
class _Post:
    id: int
    author: _Actor
    reblog: _Post | None = None


def test_boosts_fold_into_the_original_and_into_each_other() -> None:
    ana, ben, cor = _Actor(1, "Ana"), _Actor(2, "Ben"), _Actor(3, "Cor")
    original = _Post(10, ana)
    other = _Post(11, ana)
    boost_ben = _Post(20, ben, original)
    boost_cor = _Post(21, cor, original)
    boost_other = _Post(22, ben, other)
    items = cards.fold_boosts([boost_ben, boost_other, original, boost_cor])
    assert [i.post.id for i in items] == [10, 22]
    assert [a.name for a in items[0].boosted_by] == ["Ben", "Cor"]
    assert [a.name for a in items[1].boosted_by] == ["Ben"]
    lone = cards.fold_boosts([boost_ben, boost_cor])
    assert [i.post.id for i in lone] == [20] and len(lone[0].boosted_by) == 2


def test_back_links_stay_on_this_site() -> None:
    assert cards.safe_back("/home?max_id=3#p7", "/x") == "/home?max_id=3#p7"
    for bad in ("https://evil.example/", "//evil.example/", "/\\evil", "", None, "/a\r\nb"):
        assert cards.safe_back(bad, "/x") == "/x"
    assert re.fullmatch(r"[\w-]+", cards.CARD_HEADER)
