"""Roles across instances: holders on any instance, claims from afar, terms that follow.

At the role's home (instance A):
- every change of a role's holders or terms (``role.assigned``, ``role.released``,
  ``role.term_changed``, ``role.term_renewed``, ``role.term_ended``, ``role.created``) sends an
  ``Update`` of the role ``Page`` from the Group to the community's remote members (and a remote
  holder), next to the ``Add`` / ``Remove`` of the holder that ``outgoing`` sends;
- a ``Join`` whose object is one of its roles is a claim by a remote member: handled like a local
  claim (open: held at once; approval: requested until a manager approves) and answered with an
  ``Accept`` once held, a ``Reject`` when refused or declined; a ``Leave`` of the role gives it up.

At a partner (instance B): a member's claim of a remote role (``role.remote_claimed``) is a ``Join``
of the role sent to the Group, giving it up (``role.remote_released``) a ``Leave``; the Group's
``Update`` of a role refreshes our copy (``role_sync``), its ``Accept`` / ``Reject`` of our member's
``Join`` settles the pending claim.

The inbound routing table (``inbound.py``) sends ``Join``/``Leave`` of our roles, ``Update`` of a
role ``Page`` and ``Accept``/``Reject`` of our members' claims here.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from aiohttp import web
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from server import event_kinds as kinds
from server.activitypub.communities.answers import send_join_answer
from server.activitypub.communities.objects import role_object
from server.activitypub.core import convert
from server.activitypub.core.common import actor_by_uri, actor_row, ctx_of, the_actor
from server.activitypub.core.recipients import remote_followers
from server.activitypub.core.vocab import first_id, same_origin, type_of
from server.activitypub.roles import sync as role_sync
from server.context import Context
from server.errors import Forbidden, KoersError, NotFound
from server.events import Event
from server.services import role_lookup, roles
from server.services.remote_groups import ensure_remote_community

log = logging.getLogger(__name__)
CHANGES = (
    kinds.ROLE_CREATED,
    kinds.ROLE_ASSIGNED,
    kinds.ROLE_RELEASED,
    kinds.ROLE_TERM_CHANGED,
    kinds.ROLE_TERM_RENEWED,
    kinds.ROLE_TERM_ENDED,
)


def _stamp() -> str:
    return secrets.token_hex(6)


def _role_key(role_uri: str) -> str:
    return hashlib.sha256(role_uri.encode()).hexdigest()[:16]


def join_id(actor_uri: str, role_uri: str) -> str:
    """The id of a member's ``Join`` of a role, without its stamp: ``{actor}#roles/join/{key of the role}``.

    The Group's answer names our ``Join`` by id only (the transport keeps no embedded object from
    another host), and a Group answering later (a manager approved) no longer has that id: so the
    id itself says whose claim of which role it is, and both sides build it the same way.
    """
    return f"{actor_uri}#roles/join/{_role_key(role_uri)}"


class RoleOutbox:
    """In-transaction listeners: they only enqueue."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def role_changed(self, conn: AsyncConnection, event: Event) -> None:
        """Home side: ``Update`` of the role Page to the Group's remote members (and a remote holder)."""
        found = await role_lookup.role_and_group(conn, event.data["role_id"])
        if found is None or found[1].domain is not None:
            return
        role, group = found
        obj = await role_object(conn, self.ctx.base, role.id)
        if obj is None:
            return
        body = {k: v for k, v in obj.items() if k != "@context"}
        doc = convert.activity(
            self.ctx.base,
            "Update",
            id=f"{obj['id']}#updates/{_stamp()}",
            actor=group.uri,
            object=body,
            to=obj["to"],
            cc=[group.followers_url],
            audience=group.uri,
        )
        people = await remote_followers(conn, group.id)
        holder = event.data.get("actor_id")
        if holder is not None and (await actor_row(conn, holder)).domain is not None:
            people.append(holder)
        await enqueue(
            conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, people)
        )

    async def answer(self, conn: AsyncConnection, event: Event) -> None:
        """Home side: ``Accept`` (now held) or ``Reject`` (declined) of a remote member's claim."""
        kind = "Accept" if event.kind == kinds.ROLE_ASSIGNED else "Reject"
        await send_answer(conn, self.ctx.base, event.data["role_id"], event.data["actor_id"], kind)

    async def claim_sent(self, conn: AsyncConnection, event: Event) -> None:
        """Partner side: our member's ``Join`` (claim) or ``Leave`` of a remote role, to its Group."""
        found = await role_lookup.role_and_group(conn, event.data["role_id"])
        actor = await actor_row(conn, event.data["actor_id"])
        if found is None or found[1].domain is None or actor.domain is not None or not found[0].uri:
            return
        role, group = found
        kind = "Join" if event.kind == kinds.ROLE_REMOTE_CLAIMED else "Leave"
        activity_id = (
            f"{join_id(actor.uri, role.uri)}/{_stamp()}"
            if kind == "Join"
            else f"{actor.uri}#roles/leave/{_stamp()}"
        )
        doc = convert.activity(
            self.ctx.base,
            kind,
            id=activity_id,
            actor=actor.uri,
            object=role.uri,
            to=[group.uri],
        )
        await enqueue(
            conn, activity=doc, actor_id=actor.id, inboxes=await inboxes_for(conn, [group.id])
        )


async def send_answer(
    conn: AsyncConnection,
    base: str,
    role_id: int,
    actor_id: int,
    kind: str,
    join: str | None = None,
) -> None:
    """The Group's ``Accept`` / ``Reject`` of a remote actor's ``Join`` of a local role."""
    found = await role_lookup.role_and_group(conn, role_id)
    actor = await actor_row(conn, actor_id)
    if found is None or found[1].domain is not None or actor.domain is None or not found[0].uri:
        return
    role, group = found
    await send_join_answer(
        conn,
        base,
        group=group,
        actor=actor,
        kind=kind,
        answer_id=f"{role.uri}#{kind.lower()}/{actor.id}/{_stamp()}",
        join_id=join or join_id(actor.uri, role.uri),
        joined=role.uri,
    )


async def local_role(app: web.Application, uri: str | None) -> int | None:
    """The id of our own role with this id, if it is one."""
    if not uri or not uri.startswith(ctx_of(app).base + "/"):
        return None
    async with ctx_of(app).db.read() as conn:
        found = await role_lookup.role_id_by_uri(conn, uri)
        return None if found is None or await roles.is_remote_role(conn, found) else found


async def on_join(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Join`` of one of our roles: a remote member's claim, handled like a local one."""
    role_id = await local_role(app, first_id(activity.get("object")))
    assert role_id is not None
    actor_id = await the_actor(app, activity, signer_id)
    ctx = ctx_of(app)
    try:
        state = await roles.claim_role(ctx, actor_id, role_id)
    except KoersError as exc:
        log.info("claim of role %s by actor %s refused: %s", role_id, actor_id, exc.message)
        async with ctx.db.write() as conn:
            await send_answer(conn, ctx.base, role_id, actor_id, "Reject", first_id(activity))
        return
    log.info("remote claim of role %s by actor %s: %s", role_id, actor_id, state)


async def on_leave(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Leave`` of one of our roles: the remote member gives it up (or withdraws the request)."""
    role_id = await local_role(app, first_id(activity.get("object")))
    assert role_id is not None
    actor_id = await the_actor(app, activity, signer_id)
    try:
        await roles.release_role(ctx_of(app), actor_id, role_id)
    except NotFound:
        raise Ignore("nothing_to_undo", "the actor neither holds nor asked for that role") from None


def is_role_update(activity: dict[str, Any]) -> bool:
    """Is the object of this ``Update`` a role ``Page``?"""
    doc = activity.get("object")
    return role_sync.is_role_document(doc) and type_of(doc) == "Page"


async def on_update(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """``Update`` of a role ``Page`` by its remote Group: our copy of the role is refreshed."""
    doc = activity.get("object")
    assert isinstance(doc, dict)
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.read() as conn:
        group = await actor_row(conn, actor_id)
    if group.kind != "group" or group.domain is None or not same_origin(doc["id"], group.uri):
        raise Ignore("not_the_community", "only a community updates its own roles")
    actors = await role_sync.resolve_holders(app, [doc])
    async with ctx_of(app).db.write() as conn:
        community_id = await ensure_remote_community(conn, group)
        if await role_sync.store_remote_role(conn, community_id, doc, actors) is None:
            raise Ignore("not_the_community", "a role of another community")


async def claim_answered(app: web.Application, activity: dict[str, Any]) -> tuple[Row, Row] | None:
    """(role, member) when the activity answers one of our members' ``Join`` of a remote role."""
    inner = activity.get("object")
    answered = first_id(inner)
    if not answered or "#roles/join/" not in answered:
        return None
    member_uri, _, rest = answered.partition("#roles/join/")
    key = rest.split("/")[0]
    async with ctx_of(app).db.read() as conn:
        member = await actor_by_uri(conn, member_uri)
        if member is None or member.domain is not None:
            return None
        for role in await role_lookup.remote_roles_claimed_by(conn, member.id):
            if _role_key(role.uri) == key:
                return role, member
    return None


async def _settle(
    app: web.Application, activity: dict[str, Any], signer_id: int, *, accepted: bool
) -> None:
    found = await claim_answered(app, activity)
    if found is None:
        raise Ignore("unknown_claim", "no claim of ours matches this answer")
    actor_id = await the_actor(app, activity, signer_id)
    async with ctx_of(app).db.write() as conn:
        try:
            await roles.settle_remote_claim(
                conn, found[0], found[1].id, actor_id, accepted=accepted
            )
        except Forbidden as exc:
            raise Ignore("actor_mismatch", exc.message) from None


async def on_claim_accepted(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """The Group accepted our member's claim (``Join``) of its role: now held."""
    await _settle(app, activity, signer_id, accepted=True)


async def on_claim_rejected(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """The Group refused our member's claim of its role: the request goes."""
    await _settle(app, activity, signer_id, accepted=False)
