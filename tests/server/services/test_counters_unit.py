"""The counts an account and a post show come from the denormalised counters, moved in the
transaction of each service's change: post, reply, delete, follow, accept, reject, unfollow."""

from __future__ import annotations

import sqlalchemy as sa

from server.services import accounts, counters, follows, posts
from server.services.account_counts import account_extras_in
from server.services.views import posts_in
from server.storage import schema as t
from server.visibility import ANONYMOUS


async def _counts(db, actor_id):  # type: ignore[no-untyped-def]
    extras = (await db.read(account_extras_in, {actor_id}))[actor_id]
    return extras.statuses_count, extras.followers_count, extras.following_count


async def test_service_changes_move_the_counters_an_account_shows(ctx, make_member) -> None:
    ana, bo, cy = [await make_member(n) for n in ("ana", "bo", "cy")]
    await accounts.update_profile(ctx.db, cy.user_id, locked=True)
    first = await posts.create_post(ctx, ana.actor_id, posts.Draft("one"))
    second = await posts.create_post(ctx, ana.actor_id, posts.Draft("two"))
    await follows.follow(ctx, bo.actor_id, ana.actor_id)
    await follows.follow(ctx, ana.actor_id, cy.actor_id)  # pending: not counted yet
    assert await _counts(ctx.db, ana.actor_id) == (2, 1, 0)
    await follows.accept_follow(ctx, cy.actor_id, ana.actor_id, cy.actor_id)
    assert await _counts(ctx.db, ana.actor_id) == (2, 1, 1)
    assert await _counts(ctx.db, cy.actor_id) == (0, 1, 0)
    await posts.delete_post(ctx, ana.actor_id, second)
    await follows.unfollow(ctx, bo.actor_id, ana.actor_id)
    assert await _counts(ctx.db, ana.actor_id) == (1, 0, 1)
    extras = (await ctx.db.read(account_extras_in, {ana.actor_id}))[ana.actor_id]
    async with ctx.db.read() as conn:
        created = await conn.scalar(sa.select(t.posts.c.created_at).where(t.posts.c.id == first))
    assert extras.last_status_at is not None and created is not None
    assert extras.last_status_at.replace(tzinfo=None) == created.replace(tzinfo=None)
    assert await ctx.db.read(counters.stored) == await ctx.db.read(counters.recount)


async def test_anonymous_reply_counts_are_the_open_audiences(ctx, make_member) -> None:
    ana = await make_member("ana")
    bo = await make_member("bo")
    top = await posts.create_post(ctx, ana.actor_id, posts.Draft("top"))
    for audience in (posts.Audience.PUBLIC, posts.Audience.UNLISTED, posts.Audience.FOLLOWERS):
        await posts.create_post(
            ctx, bo.actor_id, posts.Draft("re", audience=audience, in_reply_to_id=top)
        )
    gone = await posts.create_post(ctx, bo.actor_id, posts.Draft("re", in_reply_to_id=top))
    await posts.delete_post(ctx, bo.actor_id, gone)

    def shown(conn: sa.Connection) -> int:
        return posts_in(conn, ANONYMOUS, [top], ctx.base, ctx.settings.domain)[0].replies_count

    assert await ctx.db.read(shown) == 2
