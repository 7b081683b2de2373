"""Post cards down to their footer, rendered once and kept: that part is the same for everyone.

A card (``card_body`` in ``templates/macros.html``) is its top (``card_top_html``: the author,
the permalink with the relative time, the community, the audience badge, title, content and
media, poll, roles and roadmap link) and its footer (counts and the viewer's buttons, with the
CSRF token and the way back to the page). The top depends on no viewer but for one flag, whether
a purpose decision's poll counts show to them (only once they voted or it ended:
``PollView.counts_shown``), so the template's global ``card_top(shown)`` renders it once per post,
relative time ("5 min ago"), poll counts and that flag, and keeps it in ``services.hot_rows.cards``:
a ``CachedMap`` on the database's ``WriteWatch``, emptied by a write of a post, an actor, a
community, a role or media in this process at once and, on PostgreSQL, in the others over the
event bus; a favourite or a boost, which change only counts, leave it. The key holds the reader's
language and the post's ``edited_at``, so an edit is seen at once even where no bus tells.

The footer (``card_footer_html``) depends on nothing but what its key holds — the language, the
post's id, author, address, audience, kind and counts, the viewer's flags on it, whether someone
is signed in — and the CSRF token and the way back, which differ per page: ``card_footer``
renders it once per key with markers where those two go and puts them in on every card.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jinja2
from markupsafe import Markup, escape

from server.i18n.current import current_language
from server.services import hot_rows
from server.storage.caches import CachedMap
from server.storage.db import Database
from server.web.cards import ago


def card_top_renderer(env: jinja2.Environment, db: Database) -> Callable[..., Markup]:
    """``card_top(shown)`` for the templates of ``env``, cached per post of ``db``."""
    engine = hot_rows.engine_of(db.engine)
    found_cache: list[CachedMap[Any]] = []

    @jinja2.pass_context
    def card_top(context: jinja2.runtime.Context, shown: Any) -> Markup:
        if not found_cache:
            found_cache.append(hot_rows.cards(engine))
        cache = found_cache[0]
        now = context.get("now")
        poll = shown.poll
        key = (
            current_language(),  # the reader's: the card's words are translated
            shown.id,
            shown.edited_at,
            ago(shown.created_at, now) if now is not None else None,
            tuple(poll.counts) if poll is not None else None,
            # a decision's counts wait for the viewer's vote or its end (PollView.counts_shown)
            poll.counts_shown if poll is not None else None,
        )
        html: Markup | None = cache.get(key)
        if html is not None:
            return html
        generation = cache.generation
        macros = env.get_template("macros.html").module
        html = Markup(macros.card_top_html(shown, now))  # type: ignore[attr-defined]
        cache.put(key, html, generation)
        return html

    return card_top


def install(env: jinja2.Environment, db: Database) -> None:
    """Make ``card_top`` a global of ``env``'s templates; watch the writes that change rendered
    posts from the start (``hot_rows.watch_rendered``)."""
    env.globals["card_top"] = card_top_renderer(env, db)
    env.globals["card_footer"] = card_footer_renderer(env)
    hot_rows.watch_rendered(hot_rows.engine_of(db.engine))


class FooterFields(NamedTuple):
    """What a card's footer shows of its post and of the viewer's flags on it."""

    id: int
    username: str
    url: str
    show_thread_link: bool
    replies_count: int
    reblogs_count: int
    favourites_count: int
    local: bool
    audience: Any
    reblogged: bool
    favourited: bool
    kind: str


# Where the CSRF token and the way back go in a cached footer (no NUL is ever in a page).
CSRF_MARK = "\x00csrf\x00"
BACK_MARK = "\x00back\x00"
FOOTERS = 8192  # footers kept: a few per post shown lately (counts and flags differ)


def card_footer_renderer(env: jinja2.Environment) -> Callable[..., Markup]:
    """``card_footer(shown, show_thread_link, back)`` for the templates of ``env``."""

    @functools.lru_cache(maxsize=FOOTERS)
    def footer(_language: str, fields: FooterFields, signed_in: bool) -> str:
        macros = env.get_template("macros.html").module
        return str(macros.card_footer_html(fields, signed_in, CSRF_MARK, BACK_MARK))  # type: ignore[attr-defined]

    @jinja2.pass_context
    def card_footer(
        context: jinja2.runtime.Context, shown: Any, show_thread_link: bool, back: str
    ) -> Markup:
        fields = FooterFields(
            shown.id,
            shown.author.username,
            shown.url,
            bool(show_thread_link),
            shown.replies_count,
            shown.reblogs_count,
            shown.favourites_count,
            bool(shown.local),
            shown.audience,
            bool(shown.reblogged),
            bool(shown.favourited),
            shown.kind,
        )
        html = footer(current_language(), fields, bool(context.get("me")))
        if CSRF_MARK in html:
            csrf = context.get("csrf_token")
            html = html.replace(CSRF_MARK, str(escape(csrf)) if csrf is not None else "")
            html = html.replace(BACK_MARK, str(escape(back)))
        return Markup(html)

    return card_footer
