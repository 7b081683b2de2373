"""Posts as pages show them, from the cache of what no viewer changes (``services/post_cache.py``)
and the cards' HTML down to their footer (``web/card_cache.py``): the same answer as without a
cache, and an edit, a delete, a profile change, a vote and a favourite are seen by the next read."""

from __future__ import annotations

from datetime import timedelta

import jinja2
import pytest

from server import clock, i18n
from server.config import templates_dir
from server.context import Context
from server.i18n import jinja as i18n_jinja
from server.services import accounts, hot_rows, post_cache, posts, views
from server.services.posts import PollSpec
from server.storage import caches
from server.visibility import ANONYMOUS, Viewer
from server.web import card_cache, cards
from tests.server.services.test_status_cache_unit import _post


async def _cached(ctx: Context, viewer: Viewer, ids: list[int]) -> list[views.PostView]:
    async with ctx.db.read() as conn:
        return await post_cache.load_posts(
            conn, viewer, ids, base=ctx.base, local_domain=ctx.settings.domain
        )


async def _uncached(ctx: Context, viewer: Viewer, ids: list[int]) -> list[views.PostView]:
    async with ctx.db.read() as conn:
        return await views.load_posts(
            conn, viewer, ids, base=ctx.base, local_domain=ctx.settings.domain
        )


async def test_the_cached_views_are_the_uncached_ones(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    first = await _post(ctx, ana, "first #tag @bo")
    poll = await _post(ctx, ana, "a poll", poll=PollSpec(("yes", "no"), 3600))
    boost = await posts.reblog(ctx, bo.actor_id, first)
    await posts.favourite(ctx, bo.actor_id, poll)
    ids = [boost, poll, first]
    for viewer in (ANONYMOUS, Viewer(actor_id=ana.actor_id, local=True)):
        once = await _cached(ctx, viewer, ids)
        engine = ctx.db.engine.sync_engine
        assert hot_rows.post_views(engine).get((first, ctx.base, ctx.settings.domain))
        assert once == await _cached(ctx, viewer, ids) == await _uncached(ctx, viewer, ids)
    seen_by_bo = await _cached(ctx, Viewer(actor_id=bo.actor_id, local=True), ids)
    assert seen_by_bo[1].favourited and seen_by_bo[0].reblog is not None


async def test_writes_are_seen_by_the_next_read(
    ctx: Context, ana: accounts.Account, bo: accounts.Account
) -> None:
    post_id = await _post(ctx, ana, "before", poll=PollSpec(("yes", "no"), 3600))
    bo_sees = Viewer(actor_id=bo.actor_id, local=True)
    [view] = await _cached(ctx, bo_sees, [post_id])
    assert view.favourites_count == 0 and view.poll is not None and view.poll.counts == [0, 0]
    await posts.favourite(ctx, bo.actor_id, post_id)
    await posts.vote(ctx, bo.actor_id, view.poll.id, [0])
    [view] = await _cached(ctx, bo_sees, [post_id])
    assert view.favourites_count == 1 and view.favourited
    assert view.poll is not None and view.poll.counts == [1, 0] and view.poll.own_votes == [0]
    await posts.edit_post(ctx, ana.actor_id, post_id, source="after")
    await accounts.update_profile(ctx.db, ana.user_id, display_name="Ana Renamed")
    [view] = await _cached(ctx, bo_sees, [post_id])
    assert "after" in view.content_html and view.edited_at is not None
    assert view.author.display_name == "Ana Renamed"
    boost = await posts.reblog(ctx, bo.actor_id, post_id)
    assert len(await _cached(ctx, ANONYMOUS, [boost])) == 1
    await posts.delete_post(ctx, ana.actor_id, post_id)
    assert await _cached(ctx, ANONYMOUS, [boost]) == []


@pytest.fixture(autouse=True)
def _no_settling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Render right after a write: the caches' quarter second of keeping nothing after a commit
    (``caches.SETTLE_SECONDS``, for readers racing a commit) would make these tests timing-bound."""
    monkeypatch.setattr(caches, "SETTLE_SECONDS", 0.0)


def _env(ctx: Context) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    i18n_jinja.install(env)
    cards.install(env)
    card_cache.install(env, ctx.db)
    return env


_CARD = '{% from "macros.html" import card_body with context %}{{ card_body(post) }}'


async def test_a_card_is_rendered_once_and_changes_with_its_post(
    ctx: Context, ana: accounts.Account
) -> None:
    env = _env(ctx)
    card = env.from_string(_CARD)
    post_id = await _post(ctx, ana, "first words")
    [view] = await _cached(ctx, ANONYMOUS, [post_id])
    now = clock.now()
    html = card.render(post=view, now=now, me=None, request=None, csrf_token="t")
    assert "first words" in html and "just now" in html and "0 likes" in html
    cache = hot_rows.cards(ctx.db.engine.sync_engine)
    assert len(cache._items) == 1
    assert card.render(post=view, now=now, me=None, request=None, csrf_token="t") == html
    later = card.render(
        post=view, now=now + timedelta(hours=2), me=None, request=None, csrf_token="t"
    )
    assert "2 h ago" in later  # the relative time is part of the key
    await posts.edit_post(ctx, ana.actor_id, post_id, source="second words")
    [view] = await _cached(ctx, ANONYMOUS, [post_id])
    html = card.render(post=view, now=now, me=None, request=None, csrf_token="t")
    assert "second words" in html and "(edited)" in html
    await accounts.update_profile(ctx.db, ana.user_id, display_name="Ana Renamed")
    [view] = await _cached(ctx, ANONYMOUS, [post_id])
    assert "Ana Renamed" in card.render(post=view, now=now, me=None, request=None, csrf_token="t")


async def test_a_card_is_kept_per_language(ctx: Context, ana: accounts.Account) -> None:
    """The card's words are the reader's: a card rendered in one language is not shown in another."""
    card = _env(ctx).from_string(_CARD)
    post_id = await _post(ctx, ana, "words")
    [view] = await _cached(ctx, ANONYMOUS, [post_id])
    now = clock.now()
    for language in ("en", "nl"):
        with i18n.use(language):
            card.render(post=view, now=now, me=None, request=None, csrf_token="t")
    keys = list(hot_rows.cards(ctx.db.engine.sync_engine)._items)
    assert sorted(k[0] for k in keys) == ["en", "nl"]
