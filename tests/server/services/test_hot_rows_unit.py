"""The caches of hot rows (``services/hot_rows.py``): a hit costs no statement, and every write
that changes what a page or the API decides (a token revoked, a member suspended, a profile or a
community changed) is seen by the very next read in this process."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from server.context import Context
from server.errors import NotFound
from server.services import accounts, communities, hot_rows, oauth, purpose
from server.services.views import actors_in
from server.storage import caches
from server.storage import schema as t
from server.storage.caches import watch_of
from server.storage.db import Database


class Statements:
    """Counts the SELECTs every engine runs (the async one and the unit threads')."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> Statements:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.count += statement.lstrip().upper().startswith("SELECT")


async def test_a_member_is_read_once_and_a_suspension_is_seen_at_once(
    unit_db: Database, member: accounts.Account
) -> None:
    first = await accounts.cached_user(unit_db, member.user_id)
    assert first is not None and not first.suspended
    with Statements() as seen:
        again = await accounts.cached_user(unit_db, member.user_id)
    assert again == first and seen.count == 0
    async with unit_db.write() as conn:
        await conn.execute(
            t.actors.update().where(t.actors.c.id == member.actor_id).values(suspended=True)
        )
    after = await accounts.cached_user(unit_db, member.user_id)
    assert after is not None and after.suspended


async def test_a_revoked_token_stops_working_at_once(ctx: Context, api_token: str) -> None:
    holder = await oauth.cached_token_holder(ctx.db, api_token)
    assert holder is not None
    with Statements() as seen:
        assert await oauth.cached_token_holder(ctx.db, api_token) == holder
    assert seen.count == 0
    app = await ctx.db.read(
        lambda c: c.execute(sa.select(t.oauth_apps).where(t.oauth_apps.c.id == holder.app_id)).one()
    )
    await oauth.revoke(ctx, app, api_token)
    assert await oauth.cached_token_holder(ctx.db, api_token) is None


async def test_a_token_of_a_deleted_app_stops_working(ctx: Context, api_token: str) -> None:
    holder = await oauth.cached_token_holder(ctx.db, api_token)
    assert holder is not None
    async with ctx.db.write() as conn:  # its tokens go by the foreign key, unseen by statements
        await conn.execute(t.oauth_apps.delete().where(t.oauth_apps.c.id == holder.app_id))
    assert await oauth.cached_token_holder(ctx.db, api_token) is None


async def test_a_community_is_cached_by_handle_and_a_rename_is_seen(
    ctx: Context, member: accounts.Account
) -> None:
    made = await communities.create_community(
        ctx, member.actor_id, handle="garden", name="Garden", purpose_text="Grow things"
    )
    async with ctx.db.read() as conn:
        assert (await communities.get_by_handle(conn, "Garden")).name == "Garden"
    with Statements() as seen:
        assert (await ctx.db.read(communities.get_by_handle, "garden")).id == made.id
    assert seen.count == 0
    async with ctx.db.write() as conn:
        await conn.execute(
            t.communities.update().where(t.communities.c.id == made.id).values(name="Orchard")
        )
    assert (await ctx.db.read(communities.get_by_handle, "garden")).name == "Orchard"


async def test_actor_views_are_cached_and_a_profile_change_is_seen(
    ctx: Context, member: accounts.Account
) -> None:
    base, domain = ctx.base, ctx.settings.domain
    first = await ctx.db.read(actors_in, {member.actor_id}, base, domain)
    with Statements() as seen:
        again = await ctx.db.read(actors_in, {member.actor_id}, base, domain)
    assert again == first and seen.count == 0
    await accounts.update_profile(ctx.db, member.user_id, display_name="Ana Cached")
    changed = await ctx.db.read(actors_in, {member.actor_id}, base, domain)
    assert changed[member.actor_id].display_name == "Ana Cached"


async def test_a_write_rolled_back_is_forgotten_too(
    unit_db: Database, member: accounts.Account
) -> None:
    class Undo(Exception):
        pass

    await accounts.cached_user(unit_db, member.user_id)

    cache = hot_rows.users(unit_db.engine.sync_engine)

    def suspend_then_fail(conn: sa.Connection) -> None:
        conn.execute(
            t.actors.update().where(t.actors.c.id == member.actor_id).values(suspended=True)
        )
        # what a read inside this transaction would cache: its own, uncommitted row …
        row = conn.execute(sa.select(t.actors).where(t.actors.c.id == member.actor_id)).one()
        cache.put(member.user_id, row, cache.generation)
        assert cache.get(member.user_id) is not None
        raise Undo

    try:
        await unit_db.write(suspend_then_fail)
    except Undo:
        pass
    after = await accounts.cached_user(unit_db, member.user_id)  # … but not after the rollback
    assert after is not None and not after.suspended


async def test_commits_report_the_cached_tables_they_wrote(
    unit_db: Database, member: accounts.Account
) -> None:
    watch = watch_of(unit_db.engine.sync_engine)
    hot_rows.users(unit_db.engine.sync_engine)  # the cache exists, so its tables are watched
    reported: list[frozenset[str]] = []
    watch.on_commit.append(reported.append)
    try:
        await unit_db.write(
            lambda c: c.execute(
                t.actors.update().where(t.actors.c.id == member.actor_id).values(bot=True)
            )
        )

        def fails(conn: sa.Connection) -> None:
            conn.execute(
                t.users.update().where(t.users.c.id == member.user_id).values(is_admin=True)
            )
            raise LookupError

        try:
            await unit_db.write(fails)
        except LookupError:
            pass
    finally:
        watch.on_commit.remove(reported.append)
    assert reported and all("actors" in r for r in reported)
    assert not any("users" in r for r in reported)  # the rolled back write is not reported


async def test_tables_written_elsewhere_empty_the_caches_of_those_tables(
    unit_db: Database, member: accounts.Account
) -> None:
    cache = hot_rows.users(unit_db.engine.sync_engine)
    await accounts.cached_user(unit_db, member.user_id)
    assert cache.get(member.user_id) is not None
    watch_of(unit_db.engine.sync_engine).tables_written(["posts"])
    assert cache.get(member.user_id) is not None
    watch_of(unit_db.engine.sync_engine).tables_written(["users"])
    assert cache.get(member.user_id) is None


async def test_a_local_actor_is_cached_by_username_and_a_suspension_is_seen(
    ctx: Context, member: accounts.Account
) -> None:
    assert (await ctx.db.read(accounts.get_local_actor, "Ana")).id == member.actor_id
    with Statements() as seen:
        assert (await ctx.db.read(accounts.get_local_actor, "ana")).id == member.actor_id
    assert seen.count == 0
    async with ctx.db.write() as conn:
        await conn.execute(
            t.actors.update().where(t.actors.c.id == member.actor_id).values(suspended=True)
        )
    with pytest.raises(NotFound):
        await ctx.db.read(accounts.get_local_actor, "ana")


async def test_what_is_loaded_while_a_commit_lands_is_not_kept(
    unit_db: Database, member: accounts.Account
) -> None:
    """SQLAlchemy reports a commit just before the database makes it: a row read in between may
    be the old one, so for a moment after a commit nothing loaded is kept."""
    cache = hot_rows.users(unit_db.engine.sync_engine)
    await unit_db.write(
        lambda c: c.execute(
            t.actors.update().where(t.actors.c.id == member.actor_id).values(bot=True)
        )
    )
    cache.put(member.user_id, "old row read during the commit", cache.generation)
    assert cache.get(member.user_id) is None
    await asyncio.sleep(caches.SETTLE_SECONDS + 0.05)
    cache.put(member.user_id, "row read after", cache.generation)
    assert cache.get(member.user_id) == "row read after"


async def test_the_purpose_in_force_is_cached_and_a_new_version_is_seen(
    ctx: Context, member: accounts.Account
) -> None:
    made = await communities.create_community(
        ctx, member.actor_id, handle="pond", name="Pond", purpose_text="Keep the water clean"
    )
    first = await ctx.db.read(purpose.current_shown, made.id)
    assert first is not None and first.version == 1
    with Statements() as seen:
        assert await ctx.db.read(purpose.current_shown, made.id) == first
    assert seen.count == 0
    await purpose.change_purpose(ctx, member.actor_id, made.id, "Keep the water alive", "wider")
    after = await ctx.db.read(purpose.current_shown, made.id)
    assert after is not None and after.version == 2
