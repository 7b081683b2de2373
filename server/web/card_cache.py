"""Post cards down to their footer, rendered once and kept: that part is the same for everyone.

A card (``card_body`` in ``templates/macros.html``) is its top (``card_top_html``: the author,
the permalink with the relative time, the community, the audience badge, title, content and
media, poll, roles and roadmap link) and its footer (counts and the viewer's buttons, with the
CSRF token and the way back to the page). The top depends on no viewer, so the template's
global ``card_top(shown)`` renders it once per post, relative time ("5 min ago") and poll counts
and keeps it in ``services.hot_rows.cards``: a ``CachedMap`` on the database's ``WriteWatch``,
emptied by a write of a post, an actor, a community, a role or media in this process at once
and, on PostgreSQL, in the others over the event bus; a favourite or a boost, which change only
counts, leave it. The key holds the reader's language and the post's ``edited_at``, so an edit
is seen at once even where no bus tells. The footer is rendered on every page, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jinja2
from markupsafe import Markup

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
    hot_rows.watch_rendered(hot_rows.engine_of(db.engine))
