"""The weekly digest: what happened in a member's communities over the last week.

Results, roadmap status changes, purpose phases begun, decisions still open and new members of the
local communities the member belongs to; every item goes through ``server/visibility.py`` for that
member. A member gets one a week (counted from their last, or from when they joined), unless they
turned it off or have not confirmed their address; a week with nothing in it sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server.context import Context
from server.i18n.messages import Message
from server.services import mail_members, mail_queue
from server.services.purpose_phases import LABELS as PHASE_LABELS
from server.services.roadmap import STATUS_LABELS
from server.storage import schema as t
from server.visibility import Viewer, can_see_members, items_visible_to, posts_visible_to

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
PER_SECTION = 10
BATCH = 50


async def due(conn: AsyncConnection, now: datetime, *, limit: int = BATCH) -> list[sa.Row]:
    """Active members whose last digest (or sign-up) is a week old or more: user and actor ids."""
    m = t.mail_members
    last = sa.func.coalesce(m.c.digest_sent_at, t.users.c.created_at)
    q = (
        sa.select(t.users.c.id.label("user_id"), t.users.c.actor_id, last.label("since"))
        .select_from(t.users.outerjoin(m, m.c.user_id == t.users.c.id))
        .where(
            t.users.c.state == "active",
            sa.or_(
                m.c.user_id.is_(None), sa.and_(m.c.digest.is_(True), m.c.unconfirmed.is_(False))
            ),
            last <= now - WEEK,
        )
        .order_by(t.users.c.id)
        .limit(limit)
    )
    return list(await conn.execute(q))


async def contents(
    conn: AsyncConnection, base: str, actor_id: int, since: datetime
) -> dict[str, Any]:
    """The digest's sections for one member (each a list of {"title", "community", "link"}); a title
    the digest words itself is a ``Message`` as data, translated when the mail is made."""
    viewer = Viewer(actor_id=actor_id, local=True)
    c, f = t.communities, t.follows
    mine = list(
        await conn.execute(
            sa.select(c.c.id, c.c.name, c.c.actor_id, t.actors.c.username.label("handle"))
            .join(t.actors, t.actors.c.id == c.c.actor_id)
            .join(f, f.c.target_id == c.c.actor_id)
            .where(f.c.follower_id == actor_id, f.c.state == "accepted", c.c.local.is_(True))
        )
    )
    names = {r.id: r.name for r in mine}
    pages = {r.id: urls.community_page(base, r.handle) for r in mine}
    ids = list(names)
    sections: dict[str, Any] = {
        "results": [],
        "roadmap": [],
        "phases": [],
        "decisions": [],
        "members": [],
    }
    if not ids:
        return sections
    p = t.posts
    for r in await conn.execute(
        sa.select(p.c.id, p.c.title, p.c.url, p.c.uri, p.c.community_id)
        .where(p.c.kind == "result", p.c.community_id.in_(ids), p.c.created_at >= since)
        .where(posts_visible_to(viewer))
        .order_by(p.c.created_at.desc())
        .limit(PER_SECTION)
    ):
        sections["results"].append(
            {
                "title": r.title or Message("A result").as_data(),
                "community": names[r.community_id],
                "link": r.url or r.uri,
            }
        )
    ri, sc = t.roadmap_items, t.roadmap_status_changes
    for item in await conn.execute(
        sa.select(ri.c.id, ri.c.title, ri.c.community_id, sc.c.to_status)
        .join(sc, sc.c.item_id == ri.c.id)
        .where(ri.c.community_id.in_(ids), sc.c.created_at >= since, items_visible_to(viewer))
        .order_by(sc.c.created_at.desc())
        .limit(PER_SECTION)
    ):
        status = Message(dict.get(STATUS_LABELS, item.to_status, item.to_status))
        sections["roadmap"].append(
            {
                "title": Message(
                    "%(title)s: %(status)s", title=item.title, status=status
                ).as_data(),
                "community": names[item.community_id],
                "link": f"{pages[item.community_id]}/roadmap/{item.id}",
            }
        )
    ph = t.purpose_phases
    for phase in await conn.execute(
        sa.select(ph.c.community_id, ph.c.phase)
        .where(ph.c.community_id.in_(ids), ph.c.started_at >= since)
        .order_by(ph.c.started_at.desc())
        .limit(PER_SECTION)
    ):
        sections["phases"].append(
            {
                "title": Message(
                    "The purpose is now in its %(phase)s phase",
                    phase=Message(dict.get(PHASE_LABELS, phase.phase, phase.phase)),
                ).as_data(),
                "community": names[phase.community_id],
                "link": f"{pages[phase.community_id]}/purpose",
            }
        )
    d = t.purpose_decisions
    for decision in await conn.execute(
        sa.select(d.c.community_id, d.c.method)
        .where(d.c.community_id.in_(ids), d.c.closed_at.is_(None))
        .order_by(d.c.opened_at.desc())
        .limit(PER_SECTION)
    ):
        sections["decisions"].append(
            {
                "title": (
                    Message("A consent round on the purpose is open")
                    if decision.method == "consent"
                    else Message("A decision on the purpose is open")
                ).as_data(),
                "community": names[decision.community_id],
                "link": f"{pages[decision.community_id]}/purpose",
            }
        )
    for community in mine:
        if not await can_see_members(conn, viewer, community.id):
            continue
        for person in await conn.execute(
            sa.select(
                t.actors.c.display_name, t.actors.c.username, t.actors.c.domain, t.actors.c.url
            )
            .join(f, f.c.follower_id == t.actors.c.id)
            .where(
                f.c.target_id == community.actor_id,
                f.c.state == "accepted",
                f.c.created_at >= since,
                f.c.follower_id != actor_id,
            )
            .order_by(f.c.created_at.desc())
            .limit(PER_SECTION)
        ):
            handle = (
                f"@{person.username}@{person.domain}" if person.domain else f"@{person.username}"
            )
            sections["members"].append(
                {
                    "title": person.display_name or handle,
                    "community": community.name,
                    "link": person.url or "",
                }
            )
    return sections


async def queue_due(ctx: Context, *, limit: int = BATCH) -> int:
    """Queue the digests that are due now; how many were queued (empty weeks are skipped)."""
    now = clock.now()
    found: list[tuple[int, dict[str, Any] | None]] = []
    async with ctx.db.read() as conn:
        for member in await due(conn, now, limit=limit):
            since = max(clock.aware(member.since), now - WEEK)
            week = await contents(conn, ctx.base, member.actor_id, since)
            found.append((member.user_id, week if any(week.values()) else None))
    if not found:
        return 0
    queued = 0
    async with ctx.db.write() as conn:
        for user_id, sections in found:
            await mail_members.update(conn, user_id, digest_sent_at=now)
            if sections is not None and await mail_members.wants(conn, user_id, "digest"):
                await mail_queue.enqueue(
                    conn, "digest", user_id=user_id, params={"sections": sections}
                )
                queued += 1
    if queued:
        log.info("queued %d weekly digests", queued)
    return queued
