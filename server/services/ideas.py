"""The idea box of a community: submitting ideas, supporting them, and what managers do with them.

An idea is a row in ``ideas`` plus the post that carries it (its discussion thread, and what a
Mastodon app or a partner instance sees). Ideas come from local members (``submit_idea``), from
partner members and outsiders through federation (``record_remote_idea``, called by the inbox).
Supports are one per person: local supports are rows in ``idea_supports``; a Like of the idea's post
(from anywhere) counts as a support too. Managers merge duplicates, decline, or promote an idea to a
roadmap item; the author is told wherever they are (``server.services.idea_outcomes``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationError
from server.i18n.messages import Message
from server.services import notifications, posts, text
from server.services.communities import is_manager, require_manager
from server.services.follows import community_managers
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Audience, Viewer, can_see_idea, ideas_visible_to

log = logging.getLogger(__name__)

STATUSES = ("open", "merged", "promoted", "declined")
AUDIENCES = ("public", "community")
MAX_TITLE = 200
MAX_TEXT = 4000


@dataclass(frozen=True, slots=True)
class IdeaView:
    """An idea as pages and the API show it."""

    id: int
    community_id: int
    title: str
    text_html: str
    audience: str
    status: str
    author_id: int
    author_handle: str
    author_url: str
    author_local: bool
    post_id: int | None
    merged_into_id: int | None
    promoted_kind: str | None
    promoted_to_id: int | None
    supports: int
    supported_by_me: bool
    created_at: datetime


def supporters_query() -> sa.CompoundSelect:
    """(idea_id, actor_id) of every support: rows of ``idea_supports`` and Likes of the idea's post."""
    own = sa.select(
        t.idea_supports.c.idea_id.label("idea_id"), t.idea_supports.c.actor_id.label("actor_id")
    )
    likes = sa.select(
        t.ideas.c.id.label("idea_id"), t.favourites.c.actor_id.label("actor_id")
    ).join(t.favourites, t.favourites.c.post_id == t.ideas.c.post_id)
    return sa.union(own, likes)


def _select(viewer: Viewer) -> sa.Select:
    s = supporters_query().subquery("s")
    counts = (
        sa.select(s.c.idea_id, sa.func.count().label("n")).group_by(s.c.idea_id).subquery("counts")
    )
    me: sa.ColumnElement[bool] = sa.literal(False)
    if viewer.actor_id is not None:
        me = sa.exists(
            sa.select(1).where(s.c.idea_id == t.ideas.c.id, s.c.actor_id == viewer.actor_id)
        )
    return (
        sa.select(
            t.ideas,
            t.actors.c.username,
            t.actors.c.domain,
            t.actors.c.url.label("actor_url"),
            t.actors.c.uri.label("actor_uri"),
            sa.func.coalesce(counts.c.n, 0).label("supports"),
            me.label("mine"),
        )
        .join(t.actors, t.actors.c.id == t.ideas.c.author_id)
        .outerjoin(counts, counts.c.idea_id == t.ideas.c.id)
        .where(ideas_visible_to(viewer))
    )


def _view(row: sa.Row) -> IdeaView:
    handle = row.username if row.domain is None else f"{row.username}@{row.domain}"
    url = f"/@{row.username}" if row.domain is None else (row.actor_url or row.actor_uri)
    return IdeaView(
        id=row.id,
        community_id=row.community_id,
        title=row.title,
        text_html=row.text_html,
        audience=row.audience,
        status=row.status,
        author_id=row.author_id,
        author_handle=handle,
        author_url=url,
        author_local=row.domain is None,
        post_id=row.post_id,
        merged_into_id=row.merged_into_id,
        promoted_kind=row.promoted_kind,
        promoted_to_id=row.promoted_to_id,
        supports=int(row.supports),
        supported_by_me=bool(row.mine),
        created_at=clock.aware(row.created_at),
    )


async def list_ideas(
    conn: AsyncConnection, viewer: Viewer, community_id: int, *, status: str | None = None
) -> list[IdeaView]:
    """The community's ideas the viewer may see, most supported first (``status`` filters)."""
    if status is not None and status not in STATUSES:
        raise ValidationError(
            Message("status: one of %(choices)s", choices=", ".join(STATUSES)), field="status"
        )
    q = _select(viewer).where(t.ideas.c.community_id == community_id)
    if status is not None:
        q = q.where(t.ideas.c.status == status)
    q = q.order_by(sa.desc("supports"), t.ideas.c.id.desc()).limit(200)
    return [_view(r) for r in await conn.execute(q)]


async def get_idea(conn: AsyncConnection, viewer: Viewer, idea_id: int) -> IdeaView:
    """One idea (NotFound when it does not exist or the viewer may not see it)."""
    row = (await conn.execute(_select(viewer).where(t.ideas.c.id == idea_id))).first()
    if row is None:
        raise NotFound("no such idea")
    return _view(row)


def title_from(html: str) -> str:
    """A title for an idea that arrived as a post: its text without leading mentions, shortened."""
    plain = (
        re.sub(r"^(\s*@[\w.@-]+)+", "", text.html_to_text(html)).strip().removeprefix("💡").strip()
    )
    first = plain.splitlines()[0] if plain else ""
    if len(first) > MAX_TITLE:
        first = first[: MAX_TITLE - 1].rstrip() + "…"
    return first or "An idea"


async def submit_idea(
    ctx: Context,
    author_id: int,
    community_id: int,
    *,
    title: str,
    description: str = "",
    audience: str = "public",
) -> int:
    """A member adds an idea; it is also posted to the community (its thread). Returns the idea id."""
    title = title.strip()
    found = FieldErrors()
    if not title:
        found.add("title", "title: say what your idea is")
    if len(title) > MAX_TITLE:
        found.add("title", Message("title: at most %(num)s characters", num=MAX_TITLE))
    if len(description) > MAX_TEXT:
        found.add("text", Message("text: at most %(num)s characters", num=MAX_TEXT))
    if audience not in AUDIENCES:
        found.add("audience", "audience: choose who may see your idea from the list")
    found.raise_any()
    source = f"💡 {title}" + (f"\n\n{description.strip()}" if description.strip() else "")
    # create_post checks membership and the community, and federates the post with koers:idea.
    post_id = await posts.create_post(
        ctx,
        author_id,
        posts.Draft(
            source=source,
            audience=Audience(audience),
            community_id=community_id,
            extra={"idea": True},
        ),
    )
    body = text.render(description).html if description.strip() else ""
    async with ctx.db.write() as conn:
        idea_id = await _insert(
            conn,
            community_id,
            author_id,
            title=title,
            html=body,
            post_id=post_id,
            audience=audience,
        )
        event = await ctx.events.emit(
            conn, kinds.IDEA_CREATED, idea_id=idea_id, community_id=community_id
        )
    await ctx.events.committed(event)
    return idea_id


async def _insert(
    conn: AsyncConnection,
    community_id: int,
    author_id: int,
    *,
    title: str,
    html: str,
    post_id: int | None,
    audience: str,
) -> int:
    now = clock.now()
    res = await conn.execute(
        t.ideas.insert().values(
            community_id=community_id,
            author_id=author_id,
            title=title,
            text_html=html,
            post_id=post_id,
            audience=audience,
            status="open",
            created_at=now,
            updated_at=now,
        )
    )
    idea_id = inserted_id(res)
    for manager in await community_managers(conn, community_id):
        await notifications.notify(
            conn,
            manager,
            "koers.idea",
            from_actor_id=author_id,
            post_id=post_id,
            community_id=community_id,
            extra={"idea_id": idea_id},
        )
    return idea_id


async def record_remote_idea(conn: AsyncConnection, post: sa.Row) -> int:
    """Inside the inbox's write: a remote post to a local community becomes an idea (once)."""
    existing = (
        await conn.execute(sa.select(t.ideas.c.id).where(t.ideas.c.post_id == post.id))
    ).scalar()
    if existing is not None:
        return int(existing)
    await conn.execute(
        t.posts.update()
        .where(t.posts.c.id == post.id)
        .values(extra={**(post.extra or {}), "idea": True})
    )
    audience = (
        "public"
        if post.audience in (Audience.PUBLIC.value, Audience.UNLISTED.value)
        else "community"
    )
    return await _insert(
        conn,
        post.community_id,
        post.author_id,
        title=title_from(post.content_html),
        html=post.content_html,
        post_id=post.id,
        audience=audience,
    )


async def is_call_for_ideas(conn: AsyncConnection, post_id: int | None) -> bool:
    """Is this post a manager's call for ideas (replies to it from anyone are ideas)?"""
    if post_id is None:
        return False
    extra = (await conn.execute(sa.select(t.posts.c.extra).where(t.posts.c.id == post_id))).scalar()
    return bool((extra or {}).get("call_for_ideas"))


async def call_for_ideas(ctx: Context, manager_id: int, community_id: int, source: str) -> int:
    """A manager asks for ideas in a public post to the community; replies to it become ideas."""
    async with ctx.db.read() as conn:
        await require_manager(conn, community_id, manager_id)
    return await posts.create_post(
        ctx,
        manager_id,
        posts.Draft(
            source=source,
            audience=Audience.PUBLIC,
            community_id=community_id,
            extra={"call_for_ideas": True},
        ),
    )


async def _visible_idea(conn: AsyncConnection, actor_id: int, idea_id: int) -> sa.Row:
    viewer = await posts.viewer_for_actor(conn, actor_id)
    if not await can_see_idea(conn, viewer, idea_id):
        raise NotFound("no such idea")
    return (await conn.execute(sa.select(t.ideas).where(t.ideas.c.id == idea_id))).one()


async def _liked_at_home(ctx: Context, actor_id: int, idea_id: int, on: bool) -> bool:
    """An idea of a community on another instance is supported by a like of its post (the Like
    reaches the home, which counts it); True when that was the case and the like is done."""
    async with ctx.db.read() as conn:
        idea = await _visible_idea(conn, actor_id, idea_id)
        local = (
            await conn.execute(
                sa.select(t.communities.c.local).where(t.communities.c.id == idea.community_id)
            )
        ).scalar()
    if local or idea.post_id is None:
        return False
    if on and idea.status != "open":
        raise Conflict("only open ideas can be supported")
    await (posts.favourite if on else posts.unfavourite)(ctx, actor_id, idea.post_id)
    return True


async def support(ctx: Context, actor_id: int, idea_id: int) -> None:
    """Support an open idea (once per person; supporting again changes nothing)."""
    if await _liked_at_home(ctx, actor_id, idea_id, True):
        return
    async with ctx.db.write() as conn:
        idea = await _visible_idea(conn, actor_id, idea_id)
        if idea.status != "open":
            raise Conflict("only open ideas can be supported")
        s = supporters_query().subquery("s")
        have = await conn.execute(
            sa.select(1).where(s.c.idea_id == idea_id, s.c.actor_id == actor_id)
        )
        if have.first() is not None:
            return
        await conn.execute(
            t.idea_supports.insert().values(
                idea_id=idea_id, actor_id=actor_id, created_at=clock.now()
            )
        )
        event = await ctx.events.emit(
            conn, kinds.IDEA_SUPPORTED, idea_id=idea_id, actor_id=actor_id
        )
    await ctx.events.committed(event)


async def unsupport(ctx: Context, actor_id: int, idea_id: int) -> None:
    """Withdraw one's support (a Like of the idea's post is withdrawn by un-liking it)."""
    if await _liked_at_home(ctx, actor_id, idea_id, False):
        return
    async with ctx.db.write() as conn:
        await _visible_idea(conn, actor_id, idea_id)
        await conn.execute(
            t.idea_supports.delete().where(
                t.idea_supports.c.idea_id == idea_id, t.idea_supports.c.actor_id == actor_id
            )
        )


async def _managed_idea(conn: AsyncConnection, manager_id: int, idea_id: int) -> sa.Row:
    idea = (await conn.execute(sa.select(t.ideas).where(t.ideas.c.id == idea_id))).first()
    if idea is None:
        raise NotFound("no such idea")
    if not await is_manager(conn, idea.community_id, manager_id):
        raise Forbidden("only community managers can do this")
    local = (
        await conn.execute(
            sa.select(t.communities.c.local).where(t.communities.c.id == idea.community_id)
        )
    ).scalar()
    if not local:  # our copy of another instance's idea box: its home decides, and tells us
        raise Forbidden(
            "this idea box belongs to a community on another instance; its managers decide there"
        )
    if idea.status != "open":
        raise Conflict(Message("this idea is already %(status)s", status=idea.status))
    return idea


async def merge(ctx: Context, manager_id: int, idea_id: int, into_id: int) -> None:
    """Merge a duplicate into another open idea of the community: its supports move over."""
    if idea_id == into_id:
        raise ValidationError("an idea cannot be merged into itself", field="into_id")
    async with ctx.db.write() as conn:
        idea = await _managed_idea(conn, manager_id, idea_id)
        kept = (await conn.execute(sa.select(t.ideas).where(t.ideas.c.id == into_id))).first()
        if kept is None or kept.community_id != idea.community_id:
            raise ValidationError("choose an idea of this community to keep", field="into_id")
        if kept.status != "open":
            raise ValidationError("the idea to keep must be open", field="into_id")
        s = supporters_query().subquery("s")
        moving = {
            r[0] for r in await conn.execute(sa.select(s.c.actor_id).where(s.c.idea_id == idea_id))
        }
        moving.add(idea.author_id)  # the duplicate's author evidently supports the kept idea
        have = {
            r[0] for r in await conn.execute(sa.select(s.c.actor_id).where(s.c.idea_id == into_id))
        }
        now = clock.now()
        new = sorted(moving - have - {kept.author_id})
        if new:
            await conn.execute(
                t.idea_supports.insert(),
                [{"idea_id": into_id, "actor_id": a, "created_at": now} for a in new],
            )
        await conn.execute(t.idea_supports.delete().where(t.idea_supports.c.idea_id == idea_id))
        await conn.execute(
            t.ideas.update()
            .where(t.ideas.c.id == idea_id)
            .values(status="merged", merged_into_id=into_id, updated_at=now)
        )
        event = await ctx.events.emit(
            conn, kinds.IDEA_MERGED, idea_id=idea_id, into_id=into_id, actor_id=manager_id
        )
    await ctx.events.committed(event)


async def decline(ctx: Context, manager_id: int, idea_id: int) -> None:
    """Close an idea without taking it up."""
    async with ctx.db.write() as conn:
        await _managed_idea(conn, manager_id, idea_id)
        await conn.execute(
            t.ideas.update()
            .where(t.ideas.c.id == idea_id)
            .values(status="declined", updated_at=clock.now())
        )
        event = await ctx.events.emit(
            conn, kinds.IDEA_DECLINED, idea_id=idea_id, actor_id=manager_id
        )
    await ctx.events.committed(event)


async def check_promotable(ctx: Context, manager_id: int, idea_id: int) -> sa.Row:
    """The idea row, when ``manager_id`` may promote it now (managers, open ideas)."""
    async with ctx.db.read() as conn:
        return await _managed_idea(conn, manager_id, idea_id)


async def mark_promoted(
    ctx: Context, manager_id: int, idea_id: int, kind: str, target_id: int
) -> None:
    """Record what an idea became (``roadmap`` item or purpose ``proposal``)."""
    async with ctx.db.write() as conn:
        await _managed_idea(conn, manager_id, idea_id)
        await conn.execute(
            t.ideas.update()
            .where(t.ideas.c.id == idea_id)
            .values(
                status="promoted",
                promoted_kind=kind,
                promoted_to_id=target_id,
                updated_at=clock.now(),
            )
        )
        event = await ctx.events.emit(
            conn, kinds.IDEA_PROMOTED, idea_id=idea_id, target_kind=kind, target_id=target_id
        )
    await ctx.events.committed(event)
