"""A local community's managers (``moderators``, as Lemmy and FEP-1b12 call them) over ActivityPub.

Managers may be on partner instances. Adding or removing one is sent as ``Add``/``Remove`` of the
person to ``{group}/moderators`` by the Group, to the community's remote members, whose instances
keep their copy of the community's managers (``incoming_posts._moderators``). The collection is
public, like the Group's ``attributedTo``.
"""

from __future__ import annotations

import logging

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.documents import activity_json, ap_viewer
from server import clock
from server import event_kinds as kinds
from server.activitypub.communities.documents import _community_id
from server.activitypub.core import convert
from server.activitypub.core.collections import ordered_collection
from server.activitypub.core.recipients import remote_followers
from server.context import Context
from server.events import Event
from server.keys import CTX
from server.services import community_documents as reads

log = logging.getLogger(__name__)
routes = web.RouteTableDef()


def moderators_uri(group_uri: str) -> str:
    """The id of a Group's moderators collection."""
    return f"{group_uri}/moderators"


@routes.get("/communities/{handle}/moderators")
async def moderators_collection(request: web.Request) -> web.Response:
    """The community's managers, local and remote."""
    await ap_viewer(request)  # public, but in secure mode a 401 unsigned
    ctx = request.app[CTX]
    community_id = await _community_id(request, request.match_info["handle"])
    async with ctx.db.read() as conn:
        items = await reads.manager_uris(conn, community_id)
    return activity_json(ordered_collection(ctx.base, f"{ctx.base}{request.path}", items))


async def manager_changed(ctx: Context, conn: AsyncConnection, event: Event) -> None:
    """``Add`` / ``Remove`` of a local community's manager, to its remote members (in-transaction)."""
    group = await reads.local_group(conn, event.data["community_id"])
    if group is None:
        return
    person = await reads.actor_uri(conn, event.data["actor_id"])
    kind = "Add" if event.kind == kinds.COMMUNITY_MANAGER_ADDED else "Remove"
    stamp = clock.now().strftime("%Y%m%d%H%M%S%f")
    doc = convert.activity(
        ctx.base,
        kind,
        id=f"{group.uri}/moderators#{kind.lower()}-{event.data['actor_id']}-{stamp}",
        actor=group.uri,
        object=person,
        target=moderators_uri(group.uri),
        to=[group.followers_url],
        audience=group.uri,
    )
    await enqueue(
        conn,
        activity=doc,
        actor_id=group.id,
        inboxes=await inboxes_for(conn, await remote_followers(conn, group.id)),
    )
