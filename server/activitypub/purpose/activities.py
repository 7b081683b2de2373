"""The purpose process over ActivityPub.

- Proposals and consent answers are posts with ``koers:proposal`` / ``koers:consent`` terms; the
  listener ``purpose_proposals.index_post`` indexes them on ``post.created`` and ``post.received``.
- A decision poll is an ordinary poll post (a ``Question``): Mastodon-style votes need nothing new.
- Endorsing the purpose in force is a ``Like`` of the purpose version's id: sent here when a local
  member endorses a community on another instance, recorded by ``on_like`` when one arrives;
  withdrawing it is the ``Undo`` of that ``Like``.
- Where the process stands: the Group's actor document carries ``koers:purposePhase`` (the phase,
  its dates and note) and ``koers:purposeProcess``, a document listing the proposals and decisions
  (with their states) the requester may see. When the phase changes or a decision opens or closes
  the Group sends an ``Update`` of itself to its remote members; their instances refetch both
  (``purpose_sync``), as Mastodon refetches an actor after its ``Update``.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import context as federation_context
from federation.delivery import enqueue, inboxes_for
from federation.documents import activity_json
from federation.state import ActorExtra
from server import event_kinds as kinds
from server.activitypub.core import convert
from server.activitypub.core.actor_updates import whole_actor_update
from server.activitypub.core.documents import viewer_of
from server.activitypub.core.recipients import remote_followers
from server.activitypub.core.vocab import context
from server.clock import iso
from server.context import Context
from server.events import Event
from server.keys import CTX
from server.services import community_documents, purpose_documents, purpose_phases

routes = web.RouteTableDef()


def setup_terms() -> None:
    """Declare the purpose process's Koers terms in the JSON-LD context."""
    for term in ("purposePhase", "phase", "proposals", "decisions", "method", "state"):
        federation_context.add_term(term)
    federation_context.add_term("purposeProcess", id_valued=True)
    federation_context.add_term("decision", id_valued=True)


# Events after which the Group tells its remote members to look again.
PROCESS_EVENTS = (kinds.PURPOSE_PHASE_CHANGED, kinds.PURPOSE_DECISION_OPENED, kinds.PURPOSE_DECIDED)


async def endorsed(ctx: Context, conn: AsyncConnection, event: Event) -> None:
    """Our member endorsed a remote community's purpose: ``Like`` of the version to its Group."""
    await send_endorsement(ctx, conn, event, undo=False)


async def withdrawn(ctx: Context, conn: AsyncConnection, event: Event) -> None:
    """Our member withdrew that endorsement: ``Undo`` of the ``Like``."""
    await send_endorsement(ctx, conn, event, undo=True)


async def process_moved(
    ctx: Context, extras: list[ActorExtra], conn: AsyncConnection, event: Event
) -> None:
    """The purpose process moved (phase, decision): ``Update`` of the Group to its remote members
    (``extras``: what the actor document adds, ``federation.state.ACTOR_EXTRAS``)."""
    await send_group_update(ctx, extras, conn, event.data["community_id"])


async def send_endorsement(
    ctx: Context, conn: AsyncConnection, event: Event, *, undo: bool = False
) -> None:
    """A local member endorsed (or stopped endorsing) a remote community's purpose: ``Like`` of the
    version (or its ``Undo``), to the Group."""
    row = await purpose_documents.remote_endorsement_target(conn, event.data["purpose_version_id"])
    actor = await community_documents.actor(conn, event.data["actor_id"])
    if row is None or row.uri is None or actor is None or actor.domain is not None:
        return
    like_id = f"{actor.uri}#endorsements/{event.data['purpose_version_id']}"
    like = convert.activity(
        ctx.base, "Like", id=like_id, actor=actor.uri, object=row.uri, to=[row.group_uri]
    )
    doc = like
    if undo:
        inner = {k: v for k, v in like.items() if k != "@context"}
        doc = convert.activity(
            ctx.base,
            "Undo",
            id=f"{like_id}/undo/{uuid.uuid4().hex[:12]}",
            actor=actor.uri,
            object=inner,
            to=[row.group_uri],
        )
    await enqueue(
        conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [row.group_id])
    )


# --- the Group's side: where the process stands -----------------------------------------------------


async def phase_object(conn: AsyncConnection, community_id: int) -> dict[str, Any]:
    """The phase in force as the ``koers:purposePhase`` of the Group's document."""
    phase = await purpose_phases.current(conn, community_id)
    return {
        "koers:phase": phase.phase,
        "name": phase.label,
        "startTime": iso(phase.started_at),
        "endTime": iso(phase.planned_end),
        "summary": phase.note or None,
    }


async def send_group_update(
    ctx: Context, extras: list[ActorExtra], conn: AsyncConnection, community_id: int
) -> None:
    """An ``Update`` of a local Group (its whole document, with its phase) to its remote members:
    their instances refetch it and the purpose process."""
    group = await community_documents.local_group(conn, community_id)
    if group is None:
        return
    followers = await remote_followers(conn, group.id)
    if not followers:
        return
    # the whole Group, whose koers:purposePhase and koers:purposeProcess say where the process is
    doc = await whole_actor_update(
        conn, ctx.base, group, extras, activity_id=f"{group.uri}#updates/purpose/{uuid.uuid4().hex}"
    )
    await enqueue(conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, followers))


@routes.get("/communities/{handle}/purpose/process")
async def process_document(request: web.Request) -> web.Response:
    """The phase, and the proposals and decisions the (signed) requester may see, with their states."""
    ctx = request.app[CTX]
    viewer = await viewer_of(request)
    async with ctx.db.read() as conn:
        community_id = await community_documents.local_community_id(
            conn, request.match_info["handle"]
        )
        group = (
            None
            if community_id is None
            else await community_documents.local_group(conn, community_id)
        )
        if community_id is None or group is None:
            raise web.HTTPNotFound()
        proposals = await purpose_documents.visible_proposals(conn, community_id, viewer)
        post_of_proposal = {}
        proposal_items = []
        for p in proposals:
            post_of_proposal[p.id] = p.post_uri
            proposal_items.append(
                {
                    "id": p.post_uri,
                    "koers:state": p.state,
                    "content": p.text_source,
                    "summary": p.reason or None,
                    "koers:version": p.base_version,
                    "published": iso(p.created_at),
                }
            )
        decisions = await purpose_documents.visible_decisions(conn, community_id, viewer)
        decision_items = []
        for d in decisions:
            chosen = [
                post_of_proposal[i]
                for i in await purpose_documents.proposals_of_decision(conn, d.id)
                if i in post_of_proposal
            ]
            decision_items.append(
                {
                    "id": d.post_uri,
                    "koers:method": d.method,
                    "published": iso(d.opened_at),
                    "endTime": iso(d.closed_at),
                    "koers:result": d.result,
                    "koers:proposals": chosen,
                }
            )
            for uri in chosen:
                next(i for i in proposal_items if i["id"] == uri)["koers:decision"] = d.post_uri
        phase = await phase_object(conn, community_id)
    doc = {
        "@context": context(ctx.base),
        "id": f"{group.uri}/purpose/process",
        "type": "Collection",
        "attributedTo": group.uri,
        "koers:purposePhase": phase,
        "koers:proposals": proposal_items,
        "koers:decisions": decision_items,
    }
    return activity_json(doc)
