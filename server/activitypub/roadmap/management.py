"""Managers on partner instances move a community's roadmap items from home.

An ``Update`` from a manager naming one of A's roadmap items by id, with the new ``koers:status``
(and an optional ``summary``, the note) on the activity itself, moves the item through
``roadmap.change_status`` (which checks that the signer manages the community); A records the
change and sends its own ``Update`` of the item. On the manager's instance B, ``send_item_status``
sends that ``Update``, signed by the manager, to the Group.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import clock
from server.activitypub.core import convert
from server.activitypub.core.common import ctx_of, the_actor
from server.activitypub.core.vocab import first_id
from server.context import Context
from server.errors import Forbidden, NotFound, ValidationError
from server.services import roadmap, roadmap_lookup
from server.services.community_requests import manager_and_group

# --- on the community's home (A) -----------------------------------------------------------------


async def status_update_item(conn: AsyncConnection, activity: dict[str, Any]) -> Row | None:
    """The local community's roadmap item an ``Update`` with ``koers:status`` names by id."""
    uri, status = first_id(activity.get("object")), activity.get("koers:status")
    if not uri or not isinstance(status, str):
        return None
    return await roadmap_lookup.local_item_by_uri(conn, uri)


async def on_status_update(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A manager on another instance moves one of our roadmap items (``Update`` with ``koers:status``)."""
    async with ctx_of(app).db.read() as conn:
        item = await status_update_item(conn, activity)
    if item is None:
        raise Ignore("unknown_item", "no roadmap item of ours by that id")
    status = activity["koers:status"]
    manager_id = await the_actor(app, activity, signer_id)
    if status == item.status:
        return
    summary = activity.get("summary")
    note = summary if isinstance(summary, str) else ""
    try:
        await roadmap.change_status(
            ctx_of(app), manager_id, int(item.id), status, note[: roadmap.MAX_NOTE]
        )
    except (Forbidden, NotFound, ValidationError) as exc:
        raise Ignore("not_allowed", exc.message) from None


# --- on the manager's instance (B) ---------------------------------------------------------------


async def send_item_status(
    ctx: Context, manager_id: int, community_id: int, item_id: int, status: str, note: str = ""
) -> None:
    """Move a remote community's roadmap item to ``status`` (its home applies it and tells everyone)."""
    if status not in roadmap.STATUSES:
        raise ValidationError(
            "status: choose one of " + ", ".join(roadmap.STATUSES), field="status"
        )
    if len(note) > roadmap.MAX_NOTE:
        raise ValidationError(f"note: at most {roadmap.MAX_NOTE} characters", field="note")
    async with ctx.db.write() as conn:
        manager, group = await manager_and_group(conn, manager_id, community_id)
        item = await roadmap_lookup.item_of_community(conn, community_id, item_id)
        if item is None or not item.uri:
            raise NotFound("no such roadmap item")
        stamp = int(clock.now().timestamp() * 1000)
        # The item is the home's object: it is named by id; the new status travels on the activity.
        status_term: dict[str, Any] = {"koers:status": status}
        doc = convert.activity(
            ctx.base,
            "Update",
            id=f"{manager.uri}#roadmap-status/{stamp}",
            actor=manager.uri,
            object=item.uri,
            to=[group.uri],
            summary=note.strip(),
            **status_term,
        )
        await enqueue(
            conn, activity=doc, actor_id=manager.id, inboxes=await inboxes_for(conn, [group.id])
        )
