"""The roadmap of a community hosted on another instance, as this instance keeps it: one
``roadmap_items`` row per item its Group publishes (keyed by the item's id), with the status
changes it reports and our members who follow an item told of them. Nobody here creates or moves
these items; ``server/activitypub/roadmap/sync.py`` reads them from the Group's documents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.services import notifications, remote_communities, roadmap
from server.services.remote_groups import ensure_remote_community
from server.storage import schema as t
from server.storage.rows import inserted_id


async def keep_item(
    conn: AsyncConnection, group: sa.Row, uri: str, fields: dict[str, Any], *, notify: bool = True
) -> int | None:
    """Insert or refresh our row of the item ``uri`` the remote ``group`` publishes, with the
    ``fields`` read from its document; None when another community already uses that id.

    A changed status is recorded and, with ``notify``, our members who follow the item are told.
    """
    community_id = await ensure_remote_community(conn, group)
    status = fields["status"]
    now = clock.now()
    values = {**fields, "updated_at": now}
    ri = t.roadmap_items
    found = (
        await conn.execute(
            sa.select(ri.c.id, ri.c.status, ri.c.community_id).where(ri.c.uri == uri)
        )
    ).first()
    if found is not None and found.community_id != community_id:
        return None  # an id another community already uses
    if found is None:
        res = await conn.execute(
            ri.insert().values(uri=uri, community_id=community_id, created_at=now, **values)
        )
        item_id = inserted_id(res)
        await _record_change(conn, item_id, None, status, now)
        return item_id
    item_id = int(found.id)
    await conn.execute(ri.update().where(ri.c.id == item_id).values(**values))
    if found.status != status:
        await _record_change(conn, item_id, found.status, status, now)
        if notify:
            await _notify_followers(conn, item_id, group, community_id, values["title"], status)
    return item_id


async def _record_change(
    conn: AsyncConnection, item_id: int, from_status: str | None, to_status: str, now: datetime
) -> None:
    await conn.execute(
        t.roadmap_status_changes.insert().values(
            item_id=item_id,
            from_status=from_status,
            to_status=to_status,
            actor_id=None,
            note="",
            created_at=now,
        )
    )


async def _notify_followers(
    conn: AsyncConnection, item_id: int, group: sa.Row, community_id: int, title: str, status: str
) -> None:
    """Tell our members who follow the item about its new status (with a line and a link to show)."""
    page = f"{remote_communities.page_path(group.username, group.domain)}/roadmap#item-{item_id}"
    extra = {
        "item_id": item_id,
        "status": status,
        "title": title,
        "link": page,
        "text": f"“{title}” is now {roadmap.STATUS_LABELS[status].lower()}",
    }
    followers = await conn.execute(
        sa.select(t.roadmap_followers.c.actor_id).where(t.roadmap_followers.c.item_id == item_id)
    )
    for (follower,) in followers:
        await notifications.notify(
            conn,
            int(follower),
            "koers.roadmap_status",
            from_actor_id=group.id,
            community_id=community_id,
            extra=extra,
        )


async def remember_sent(
    conn: AsyncConnection, item_id: int, actor_id: int, uri: str, *, support: bool
) -> None:
    """Our member's support (``roadmap_supports``) or, without ``support``, follow
    (``roadmap_followers``) of a remote item went out as the activity ``uri``: kept, so its
    ``Undo`` names it."""
    table = t.roadmap_supports if support else t.roadmap_followers
    await conn.execute(
        table.update()
        .where(table.c.item_id == item_id, table.c.actor_id == actor_id)
        .values(uri=uri)
    )


async def count_support(conn: AsyncConnection, item_id: int, step: int) -> None:
    """A support of a remote item is counted at its home; until the home's next report, count
    ours at once (``step`` +1 or -1, never below zero)."""
    reported = t.roadmap_items.c.supports_reported
    await conn.execute(
        t.roadmap_items.update()
        .where(t.roadmap_items.c.id == item_id, reported + step >= 0)
        .values(supports_reported=reported + step)
    )
