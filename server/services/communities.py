"""Communities of purpose: creation, membership (joining = following the Group actor), managers.

Joining, leaving and deciding on join requests go through ``server.services.follows`` so the
openness rules (open / approval / invite), the join-request notifications and the last-manager rule
live in one place. The purpose is versioned in ``server.services.purpose``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server import event_kinds as kinds
from server.context import Context
from server.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationError
from server.i18n.messages import Message
from server.services import accounts, follows, hot_rows, notifications, purpose, text
from server.services.views import ActorView, actor_view
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Viewer, can_see_members

log = logging.getLogger(__name__)

OPENNESS = ("open", "approval", "invite")
MEMBER_LIST_VISIBILITY = ("public", "members", "instance")
MAX_NAME = 120
MAX_DESCRIPTION = 10000


@dataclass(frozen=True, slots=True)
class Community:
    """A local or remote community as pages and services need it."""

    id: int
    actor_id: int
    handle: str
    name: str
    description_html: str
    description_source: str
    openness: str
    member_list_visibility: str
    uri: str
    url: str
    created_at: datetime


def _select() -> sa.Select:
    return sa.select(
        t.communities,
        t.actors.c.username.label("handle"),
        t.actors.c.uri.label("actor_uri"),
        t.actors.c.url.label("actor_url"),
    ).join(t.actors, t.actors.c.id == t.communities.c.actor_id)


def _community(row: sa.Row) -> Community:
    return Community(
        id=row.id,
        actor_id=row.actor_id,
        handle=row.handle,
        name=row.name,
        description_html=row.description_html or "",
        description_source=row.description_source or "",
        openness=row.openness,
        member_list_visibility=row.member_list_visibility,
        uri=row.actor_uri,
        url=row.actor_url or row.actor_uri,
        created_at=clock.aware(row.created_at),
    )


async def get_by_handle(conn: AsyncConnection, handle: str) -> Community:
    """The local community with this handle, or NotFound (through ``hot_rows.communities``)."""
    key = handle.lower()
    cache = hot_rows.communities(hot_rows.engine_of(conn))
    found = await hot_rows.through(cache, key, lambda: _by_handle(conn, key))
    if found is None:
        raise NotFound(Message("no community called %(handle)s here", handle=repr(handle)))
    return found


async def _by_handle(conn: AsyncConnection, handle: str) -> Community | None:
    row = (
        await conn.execute(
            _select().where(
                t.actors.c.username == handle,
                t.actors.c.domain.is_(None),
                t.actors.c.suspended.is_(False),
            )
        )
    ).first()
    return _community(row) if row is not None else None


async def get(conn: AsyncConnection, community_id: int) -> Community:
    """The community with this id, or NotFound."""
    row = (await conn.execute(_select().where(t.communities.c.id == community_id))).first()
    if row is None:
        raise NotFound("no such community")
    return _community(row)


async def list_local(conn: AsyncConnection) -> list[Community]:
    """All local communities, by name."""
    rows = await conn.execute(
        _select()
        .where(t.communities.c.local.is_(True), t.actors.c.suspended.is_(False))
        .order_by(t.communities.c.name)
    )
    return [_community(r) for r in rows]


async def member_counts(conn: AsyncConnection, community_ids: list[int]) -> dict[int, int]:
    """Accepted members per community."""
    if not community_ids:
        return {}
    rows = await conn.execute(
        sa.select(t.communities.c.id, sa.func.count(t.follows.c.id))
        .join(t.follows, t.follows.c.target_id == t.communities.c.actor_id)
        .where(t.communities.c.id.in_(community_ids), t.follows.c.state == "accepted")
        .group_by(t.communities.c.id)
    )
    return {r[0]: r[1] for r in rows}


async def is_manager(conn: AsyncConnection, community_id: int, actor_id: int | None) -> bool:
    """Is this actor a manager of the community?"""
    if actor_id is None:
        return False
    row = await conn.execute(
        sa.select(1).where(
            t.community_managers.c.community_id == community_id,
            t.community_managers.c.actor_id == actor_id,
        )
    )
    return row.first() is not None


async def membership(
    conn: AsyncConnection, community: Community, actor_id: int | None
) -> str | None:
    """``accepted`` (member), ``pending`` (asked to join) or None."""
    if actor_id is None:
        return None
    return (
        await conn.execute(
            sa.select(t.follows.c.state).where(
                t.follows.c.follower_id == actor_id, t.follows.c.target_id == community.actor_id
            )
        )
    ).scalar()


async def require_manager(conn: AsyncConnection, community_id: int, actor_id: int) -> None:
    """Raise Forbidden unless the actor manages the community."""
    if not await is_manager(conn, community_id, actor_id):
        raise Forbidden("only community managers can do this")


def check_fields(
    handle: str, name: str, description: str, openness: str, member_list_visibility: str
) -> str:
    """Validate a community's handle and settings; returns the normalised handle. A
    ValidationError names the first problem and holds every field's."""
    found = FieldErrors()
    try:
        handle = accounts.check_username(handle)
    except ValidationError as exc:
        found.add("handle", exc.message.replace("username", "handle"))
    if not name.strip():
        found.add("name", "name: please give the community a name")
    if len(name) > MAX_NAME:
        found.add("name", Message("name: at most %(num)s characters", num=MAX_NAME))
    if len(description) > MAX_DESCRIPTION:
        found.add(
            "description", Message("description: at most %(num)s characters", num=MAX_DESCRIPTION)
        )
    if openness not in OPENNESS:
        found.add("openness", Message("openness: one of %(choices)s", choices=", ".join(OPENNESS)))
    if member_list_visibility not in MEMBER_LIST_VISIBILITY:
        found.add(
            "member_list_visibility",
            Message(
                "member list visibility: one of %(choices)s",
                choices=", ".join(MEMBER_LIST_VISIBILITY),
            ),
        )
    found.raise_any()
    return handle


async def create_community(
    ctx: Context,
    creator_actor_id: int,
    *,
    handle: str,
    name: str,
    purpose_text: str,
    description: str = "",
    openness: str = "open",
    member_list_visibility: str = "public",
) -> Community:
    """Start a community: its Group actor, purpose version 1, the creator as member and manager."""
    handle = check_fields(handle, name, description, openness, member_list_visibility)
    purpose.check_text(purpose_text)
    base = ctx.base
    async with ctx.db.write() as conn:
        if await accounts.handle_taken(conn, handle):
            raise Conflict(
                Message("the handle %(handle)s is already taken", handle=repr(handle)),
                field="handle",
            )
        creator = (
            await conn.execute(
                sa.select(t.actors.c.domain).where(t.actors.c.id == creator_actor_id)
            )
        ).first()
        if creator is None or creator.domain is not None:
            raise Forbidden("only local members can start a community")
        description_html = text.render(description).html if description.strip() else ""
        actor_id = await accounts.insert_local_actor(
            conn,
            ctx.settings,
            kind="group",
            username=handle,
            uri=urls.community(base, handle),
            page_url=urls.community_page(base, handle),
            display_name=name.strip(),
            summary_html=description_html,
            manually_approves=openness != "open",
        )
        now = clock.now()
        res = await conn.execute(
            t.communities.insert().values(
                actor_id=actor_id,
                name=name.strip(),
                description_html=description_html,
                description_source=description,
                openness=openness,
                member_list_visibility=member_list_visibility,
                created_by=creator_actor_id,
                local=True,
                created_at=now,
            )
        )
        community_id = inserted_id(res)
        await conn.execute(
            t.community_managers.insert().values(
                community_id=community_id, actor_id=creator_actor_id, created_at=now
            )
        )
        events = [await _insert_member(ctx, conn, creator_actor_id, actor_id)]
        await purpose.insert_version(
            conn,
            base=base,
            community_id=community_id,
            handle=handle,
            version=1,
            source=purpose_text,
            reason="",
            author_id=creator_actor_id,
        )
        events.append(
            await ctx.events.emit(
                conn, kinds.COMMUNITY_CREATED, community_id=community_id, actor_id=creator_actor_id
            )
        )
        community = await get(conn, community_id)
    await ctx.events.committed(*events)
    log.info("community %s created by actor %s", handle, creator_actor_id)
    return community


async def _insert_member(ctx: Context, conn: AsyncConnection, member_id: int, group_actor_id: int):
    res = await conn.execute(
        t.follows.insert().values(
            follower_id=member_id,
            target_id=group_actor_id,
            state="accepted",
            created_at=clock.now(),
        )
    )
    follow_id = inserted_id(res)
    return await ctx.events.emit(
        conn,
        kinds.FOLLOW_CREATED,
        follow_id=follow_id,
        follower_id=member_id,
        target_id=group_actor_id,
        state="accepted",
    )


async def join(ctx: Context, actor_id: int, community_id: int) -> str:
    """Join (open) or ask to join (approval); invite-only communities refuse. Returns the state."""
    async with ctx.db.read() as conn:
        community = await get(conn, community_id)
    return await follows.follow(ctx, actor_id, community.actor_id)


async def leave(ctx: Context, actor_id: int, community_id: int) -> None:
    """Leave (or withdraw a join request); gives up roles and management. The last manager cannot."""
    async with ctx.db.read() as conn:
        community = await get(conn, community_id)
    await follows.unfollow(ctx, actor_id, community.actor_id)


async def approve_join(ctx: Context, manager_id: int, community_id: int, actor_id: int) -> None:
    """A manager accepts a join request."""
    async with ctx.db.read() as conn:
        community = await get(conn, community_id)
    await follows.accept_follow(ctx, manager_id, actor_id, community.actor_id)


async def reject_join(ctx: Context, manager_id: int, community_id: int, actor_id: int) -> None:
    """A manager turns down a join request."""
    async with ctx.db.read() as conn:
        community = await get(conn, community_id)
        if not await is_manager(conn, community_id, manager_id):
            raise Forbidden("only community managers can decide on join requests")
        # A request, not a membership: declining must not throw out a member (or a fellow manager).
        if await membership(conn, community, actor_id) != "pending":
            raise NotFound("no pending request from this account")
    await follows.reject_follow(ctx, manager_id, actor_id, community.actor_id, pending_only=True)


async def add_member(ctx: Context, manager_id: int, community_id: int, username: str) -> int:
    """A manager adds a local member directly (how invite-only communities grow); returns the actor id.

    A pending request from that person is accepted; the person is notified.
    """
    async with ctx.db.write() as conn:
        community = await get(conn, community_id)
        await require_manager(conn, community_id, manager_id)
        person = (
            await conn.execute(
                sa.select(t.actors).where(
                    t.actors.c.username == username.strip().lstrip("@").lower(),
                    t.actors.c.domain.is_(None),
                    t.actors.c.kind == "person",
                )
            )
        ).first()
        if person is None or person.suspended:
            raise ValidationError(
                Message("no member called %(username)s here", username=repr(username)),
                field="username",
            )
        state = await membership(conn, community, person.id)
        if state == "accepted":
            raise Conflict(
                Message("@%(username)s is already a member", username=person.username),
                field="username",
            )
        if state == "pending":
            await conn.execute(
                t.follows.update()
                .where(
                    t.follows.c.follower_id == person.id,
                    t.follows.c.target_id == community.actor_id,
                )
                .values(state="accepted")
            )
            event = await ctx.events.emit(
                conn, kinds.FOLLOW_ACCEPTED, follower_id=person.id, target_id=community.actor_id
            )
        else:
            event = await _insert_member(ctx, conn, person.id, community.actor_id)
        await notifications.notify(
            conn,
            person.id,
            "koers.member_added",
            from_actor_id=manager_id,
            community_id=community_id,
        )
    await ctx.events.committed(event)
    return int(person.id)


async def _may_co_manage(conn: AsyncConnection, actor_id: int) -> bool:
    """Local members may manage; people of other instances only when theirs is an active partner."""
    domain = (
        await conn.execute(sa.select(t.actors.c.domain).where(t.actors.c.id == actor_id))
    ).scalar()
    if domain is None:
        return True
    partner = await conn.execute(
        sa.select(t.partners.c.id).where(
            t.partners.c.domain == domain, t.partners.c.state == "active"
        )
    )
    return partner.first() is not None


async def add_manager(ctx: Context, manager_id: int, community_id: int, actor_id: int) -> None:
    """A manager makes another member a manager."""
    async with ctx.db.write() as conn:
        community = await get(conn, community_id)
        await require_manager(conn, community_id, manager_id)
        if await membership(conn, community, actor_id) != "accepted":
            raise ValidationError("only members can become managers", field="actor_id")
        if not await _may_co_manage(conn, actor_id):
            raise ValidationError(
                "managers from other servers must belong to a partner organisation",
                field="actor_id",
            )
        if await is_manager(conn, community_id, actor_id):
            return
        await conn.execute(
            t.community_managers.insert().values(
                community_id=community_id, actor_id=actor_id, created_at=clock.now()
            )
        )
        event = await ctx.events.emit(
            conn,
            kinds.COMMUNITY_MANAGER_ADDED,
            community_id=community_id,
            actor_id=actor_id,
            by_actor_id=manager_id,
        )
    await ctx.events.committed(event)


async def remove_manager(ctx: Context, manager_id: int, community_id: int, actor_id: int) -> None:
    """A manager steps down or removes another manager; the last one cannot go."""
    async with ctx.db.write() as conn:
        await require_manager(conn, community_id, manager_id)
        current = await follows.community_managers(conn, community_id)
        if actor_id not in current:
            raise NotFound("that person is not a manager")
        if len(current) == 1:
            raise Forbidden("a community needs at least one manager")
        await conn.execute(
            t.community_managers.delete().where(
                t.community_managers.c.community_id == community_id,
                t.community_managers.c.actor_id == actor_id,
            )
        )
        event = await ctx.events.emit(
            conn,
            kinds.COMMUNITY_MANAGER_REMOVED,
            community_id=community_id,
            actor_id=actor_id,
            by_actor_id=manager_id,
        )
    await ctx.events.committed(event)


async def _actors_of(conn: AsyncConnection, ctx: Context, query: sa.Select) -> list[ActorView]:
    return [actor_view(r, ctx.base, ctx.settings.domain) for r in await conn.execute(query)]


async def members(
    conn: AsyncConnection, ctx: Context, viewer: Viewer, community: Community
) -> list[ActorView]:
    """Accepted members, newest first; Forbidden when the member list is hidden from the viewer."""
    if not await can_see_members(conn, viewer, community.id):
        raise Forbidden("the member list of this community is not visible to you")
    return await _actors_of(conn, ctx, follows.followers_query(community.actor_id))


async def join_requests(
    conn: AsyncConnection, ctx: Context, community: Community
) -> list[ActorView]:
    """People waiting for a manager's decision (callers check the viewer is a manager)."""
    return await _actors_of(conn, ctx, follows.followers_query(community.actor_id, state="pending"))


async def managers(conn: AsyncConnection, ctx: Context, community_id: int) -> list[ActorView]:
    """The community's managers."""
    query = (
        sa.select(t.actors)
        .join(t.community_managers, t.community_managers.c.actor_id == t.actors.c.id)
        .where(t.community_managers.c.community_id == community_id)
        .order_by(t.actors.c.username)
    )
    return await _actors_of(conn, ctx, query)


async def communities_of(conn: AsyncConnection, actor_id: int) -> list[Community]:
    """Communities an actor is an accepted member of (for profiles)."""
    rows = await conn.execute(
        _select()
        .join(t.follows, t.follows.c.target_id == t.communities.c.actor_id)
        .where(t.follows.c.follower_id == actor_id, t.follows.c.state == "accepted")
        .order_by(t.communities.c.name)
    )
    return [_community(r) for r in rows]
