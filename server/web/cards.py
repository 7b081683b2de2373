"""Presentation helpers the page templates share: audience names, initials avatars, relative
times, plural counts and folding boosts into the posts they boost.

They are Jinja globals and filters (``install``); nothing here reads the database.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jinja2
from markupsafe import Markup, escape

from server.i18n import N_, formatting, gettext
from server.i18n.current import Lazy
from server.visibility import can_boost
from server.web.placeholders import blurhash_style

# A script that sends a card's button asks for the card back (instead of a redirect) with this.
CARD_HEADER = "X-Koers-Card"

# One set of audience names everywhere: the compose form, the badges on posts and the README's
# "Who sees what" table. The second part explains the name in one line.
AUDIENCES: dict[str, tuple[str, str]] = {
    "public": (N_("Public"), N_("Everyone; listed on public pages, in timelines and feeds")),
    "unlisted": (N_("Unlisted"), N_("Everyone with the link; left out of timelines and feeds")),
    "followers": (N_("Followers only"), N_("The people who follow you")),
    "community": (N_("Community"), N_("Members of one community, on any instance")),
    "members": (
        N_("Organisation"),
        N_("Members of this organisation only; never leaves this server"),
    ),
    "partners": (N_("Partners"), N_("This organisation and its partner organisations")),
    "direct": (N_("Mentioned only"), N_("Only the people I mention")),
}


def audience_name(value: str) -> str:
    """The short name of an audience (``members`` → ``Organisation``)."""
    return gettext(AUDIENCES[value][0]) if value in AUDIENCES else value


def audience_explanation(value: str) -> str:
    """The one-line explanation of an audience (``members`` → "Members of this organisation
    only; never leaves this server"); empty for an unknown one."""
    return gettext(AUDIENCES[value][1]) if value in AUDIENCES else ""


def audience_choices(values: Iterable[str]) -> list[tuple[str, Lazy]]:
    """(value, "Name — explanation") options for a form's audience picker, in the given order."""
    return [(v, Lazy(functools.partial(_choice_label, v))) for v in values]


def _choice_label(value: str) -> str:
    return f"{gettext(AUDIENCES[value][0])} — {gettext(AUDIENCES[value][1])}"


def initials(name: str) -> str:
    """One or two capital letters for an initials avatar: "Ana de Vries" → "AV"."""
    words = [w for w in name.replace("@", " ").replace("_", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:1].upper()
    return (words[0][:1] + words[-1][:1]).upper()


def hue(key: str) -> int:
    """A colour hue (0–359) that is always the same for the same key."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:2], "big") % 360


def initials_avatar(name: str, key: str, size: int = 40, css_class: str = "avatar") -> Markup:
    """An inline SVG avatar: the initials on a colour derived from ``key``; decorative (the name
    is always written next to it), so hidden from screen readers."""
    letters = escape(initials(name))
    # 30 % lightness keeps white text above 4.5:1 contrast on every hue.
    return Markup(
        f'<svg class="{css_class}" width="{size}" height="{size}" viewBox="0 0 40 40" '
        f'aria-hidden="true" focusable="false"><rect width="40" height="40" rx="8" '
        f'fill="hsl({hue(key)} 55% 30%)"/><text x="20" y="25.5" text-anchor="middle" '
        f'font-size="{16 if len(letters) > 1 else 18}" font-family="system-ui,sans-serif" '
        f'font-weight="600" fill="#fff">{letters}</text></svg>'
    )


def avatar(who: Any, size: int = 40, css_class: str = "avatar") -> Markup:
    """The uploaded avatar of a person or community when there is one, else initials.

    ``who`` is anything with ``name`` (or ``display_name``/``username``) and ``avatar_url``.
    """
    name = str(
        getattr(who, "name", None)
        or getattr(who, "display_name", None)
        or getattr(who, "username", None)
        or getattr(who, "handle", "")
        or "?"
    )
    # A view carries ``avatar_url``; a plain actor row has the stored file in ``avatar_path``.
    path = getattr(who, "avatar_path", None)
    url = f"/media/{path}" if path else getattr(who, "avatar_url", None)
    if url:
        return Markup(
            f'<img src="{escape(url)}" alt="" class="{css_class}" width="{size}" '
            f'height="{size}" loading="lazy">'
        )
    key = str(getattr(who, "uri", None) or getattr(who, "handle", None) or name)
    return initials_avatar(name, key, size, css_class)


# The language-aware forms live in ``server.i18n.formatting``; the names here are the templates'.
ago = formatting.ago
full_date = formatting.full_date
plural = formatting.plural


@dataclass(slots=True)
class FeedItem:
    """One card of a feed: a post (or a boost) and the people who boosted what it shows."""

    post: Any
    boosted_by: list[Any] = field(default_factory=list)


def fold_boosts(posts: Sequence[Any]) -> list[FeedItem]:
    """Feed cards with boosts folded: a boost of a post that is already in the feed, or a second
    boost of the same post, adds its booster to that card instead of a card of its own."""
    originals_shown = {p.id for p in posts if p.reblog is None}
    items: list[FeedItem] = []
    by_original: dict[int, FeedItem] = {}
    for p in posts:
        if p.reblog is None:
            item = by_original.get(p.id)
            if item is None:
                item = FeedItem(p)
                by_original[p.id] = item
                items.append(item)
            else:  # the original after an earlier boost of it: the boost's card shows it
                item.post = p
            continue
        original_id = p.reblog.id
        item = by_original.get(original_id)
        if item is None:
            post = p.reblog if original_id in originals_shown else p
            item = FeedItem(post)
            by_original[original_id] = item
            items.append(item)
        if all(a.id != p.author.id for a in item.boosted_by):
            item.boosted_by.append(p.author)
    return items


def safe_back(path: str | None, default: str) -> str:
    """A same-site path to return to after a form (no scheme, host or ``//``), else ``default``."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return default
    if any(ord(ch) < 32 for ch in path):
        return default
    return path


_KINDS = (
    ("/c/", N_("There is no community page at this address.")),
    ("/@", N_("There is no person or post at this address.")),
    ("/media/", N_("There is no file at this address.")),
    ("/tags/", N_("There is no hashtag page at this address.")),
    ("/admin", N_("There is no administration page at this address.")),
)


def missing(path: str, message: str) -> str:
    """What a 404 did not find, in a sentence: the service's reason ("no such post") when there is
    one, else the kind of page the address looks like (never the address itself)."""
    if message and message.strip().lower() not in ("not found", "error"):
        return gettext("Sorry — %(reason)s.") % {"reason": message.strip().rstrip(".")}
    found = next((k for prefix, k in _KINDS if path.startswith(prefix)), None)
    return gettext(found or "There is no page at this address.")


def install(env: jinja2.Environment) -> None:
    """Make the helpers available to every template."""
    env.globals.update(
        avatar=avatar,
        can_boost=can_boost,
        initials_avatar=initials_avatar,
        audience_name=audience_name,
        audience_explanation=audience_explanation,
        audiences=AUDIENCES,
        fold_boosts=fold_boosts,
        missing=missing,
        plural=plural,
    )
    env.filters.update(ago=ago, full_date=full_date, blurhash_style=blurhash_style)
