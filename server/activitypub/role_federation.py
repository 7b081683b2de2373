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

The transport holds one handler per type, so ``install`` wraps ``Join``, ``Leave``, ``Update``,
``Accept`` and ``Reject`` (after ``roadmap_federation.install``): activities about roles come here,
everything else goes on to the handler registered before.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import enqueue, inboxes_for
from federation.errors import Ignore
from federation.state import INBOX_HANDLERS
from server import clock
from server.activitypub import convert, role_sync
from server.activitypub.community_objects import role_object
from server.activitypub.incoming_common import (
    actor_by_uri,
    ctx_of,
    ensure_remote_community,
    the_actor,
)
from server.activitypub.recipients import remote_followers
from server.activitypub.vocab import first_id, same_origin, type_of
from server.context import Context
from server.errors import KoersError, NotFound
from server.events import Event
from server.keys import CTX
from server.services import notifications, roles
from server.storage import schema as t

log = logging.getLogger(__name__)
Handler = Callable[[web.Application, dict[str, Any], int], Awaitable[None]]
CHANGES = (
    "role.created",
    "role.assigned",
    "role.released",
    "role.term_changed",
    "role.term_renewed",
    "role.term_ended",
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


async def _role_and_group(conn: AsyncConnection, role_id: int) -> tuple[sa.Row, sa.Row] | None:
    """The role and its community's Group actor."""
    role = (await conn.execute(sa.select(t.roles).where(t.roles.c.id == role_id))).first()
    if role is None:
        return None
    group = (
        await conn.execute(
            sa.select(t.actors)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == role.community_id)
        )
    ).first()
    return None if group is None else (role, group)


async def _actor(conn: AsyncConnection, actor_id: int) -> sa.Row:
    return (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()


class RoleOutbox:
    """In-transaction listeners: they only enqueue."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def register(self) -> None:
        on = self.ctx.events.on
        for kind in CHANGES:
            on(kind, self.role_changed)
        on("role.assigned", self.answer)
        on("role.request_declined", self.answer)
        on("role.remote_claimed", self.claim_sent)
        on("role.remote_released", self.claim_sent)

    async def role_changed(self, conn: AsyncConnection, event: Event) -> None:
        """Home side: ``Update`` of the role Page to the Group's remote members (and a remote holder)."""
        found = await _role_and_group(conn, event.data["role_id"])
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
        if holder is not None and (await _actor(conn, holder)).domain is not None:
            people.append(holder)
        await enqueue(
            conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, people)
        )

    async def answer(self, conn: AsyncConnection, event: Event) -> None:
        """Home side: ``Accept`` (now held) or ``Reject`` (declined) of a remote member's claim."""
        kind = "Accept" if event.kind == "role.assigned" else "Reject"
        await send_answer(conn, self.ctx.base, event.data["role_id"], event.data["actor_id"], kind)

    async def claim_sent(self, conn: AsyncConnection, event: Event) -> None:
        """Partner side: our member's ``Join`` (claim) or ``Leave`` of a remote role, to its Group."""
        found = await _role_and_group(conn, event.data["role_id"])
        actor = await _actor(conn, event.data["actor_id"])
        if found is None or found[1].domain is None or actor.domain is not None or not found[0].uri:
            return
        role, group = found
        kind = "Join" if event.kind == "role.remote_claimed" else "Leave"
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
    found = await _role_and_group(conn, role_id)
    actor = await _actor(conn, actor_id)
    if found is None or found[1].domain is not None or actor.domain is None or not found[0].uri:
        return
    role, group = found
    answered = {
        "id": join or join_id(actor.uri, role.uri),
        "type": "Join",
        "actor": actor.uri,
        "object": role.uri,
    }
    doc = convert.activity(
        base,
        kind,
        id=f"{role.uri}#{kind.lower()}/{actor.id}/{_stamp()}",
        actor=group.uri,
        object=answered,
        to=[actor.uri],
    )
    await enqueue(
        conn, activity=doc, actor_id=group.id, inboxes=await inboxes_for(conn, [actor.id])
    )


async def _local_role(app: web.Application, uri: str | None) -> int | None:
    """The id of our own role with this id, if it is one."""
    if not uri or not uri.startswith(ctx_of(app).base + "/"):
        return None
    async with ctx_of(app).db.read() as conn:
        found = (await conn.execute(sa.select(t.roles.c.id).where(t.roles.c.uri == uri))).scalar()
        return None if found is None or await roles.is_remote_role(conn, int(found)) else int(found)


def _join(previous: Handler) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        role_id = await _local_role(app, first_id(activity.get("object")))
        if role_id is None:
            return await previous(app, activity, signer_id)
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

    return handle


def _leave(previous: Handler) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        role_id = await _local_role(app, first_id(activity.get("object")))
        if role_id is None:
            return await previous(app, activity, signer_id)
        actor_id = await the_actor(app, activity, signer_id)
        try:
            await roles.release_role(ctx_of(app), actor_id, role_id)
        except NotFound:
            raise Ignore(
                "nothing_to_undo", "the actor neither holds nor asked for that role"
            ) from None

    return handle


def _update(previous: Handler) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        doc = activity.get("object")
        if not role_sync.is_role_document(doc) or type_of(doc) != "Page":
            return await previous(app, activity, signer_id)
        assert isinstance(doc, dict)
        actor_id = await the_actor(app, activity, signer_id)
        async with ctx_of(app).db.read() as conn:
            group = await _actor(conn, actor_id)
        if group.kind != "group" or group.domain is None or not same_origin(doc["id"], group.uri):
            raise Ignore("not_the_community", "only a community updates its own roles")
        actors = await role_sync.resolve_holders(app, [doc])
        async with ctx_of(app).db.write() as conn:
            community_id = await ensure_remote_community(conn, group)
            if await role_sync.store_remote_role(conn, community_id, doc, actors) is None:
                raise Ignore("not_the_community", "a role of another community")

    return handle


async def _claim_answered(
    app: web.Application, activity: dict[str, Any]
) -> tuple[sa.Row, sa.Row] | None:
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
        rh = t.role_holders
        for role in await conn.execute(
            sa.select(t.roles)
            .join(rh, rh.c.role_id == t.roles.c.id)
            .join(t.communities, t.communities.c.id == t.roles.c.community_id)
            .where(
                rh.c.actor_id == member.id,
                t.communities.c.local.is_(False),
                t.roles.c.uri.is_not(None),
            )
        ):
            if _role_key(role.uri) == key:
                return role, member
    return None


def _answer(previous: Handler, kind: str) -> Handler:
    async def handle(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
        found = await _claim_answered(app, activity)
        if found is None:
            return await previous(app, activity, signer_id)
        actor_id = await the_actor(app, activity, signer_id)
        await settle_claim(app, found[0], found[1], actor_id, accepted=kind == "Accept")

    return handle


async def settle_claim(
    app: web.Application, role: sa.Row, member: sa.Row, group_id: int, *, accepted: bool
) -> None:
    """The Group answered our member's claim: held (and told so), or the request is gone."""
    rh = t.role_holders
    where = (rh.c.role_id == role.id, rh.c.actor_id == member.id)
    async with ctx_of(app).db.write() as conn:
        group = (
            await conn.execute(
                sa.select(t.communities.c.actor_id).where(t.communities.c.id == role.community_id)
            )
        ).scalar()
        if group != group_id:
            raise Ignore("actor_mismatch", "only the role's community answers a claim")
        state = (await conn.execute(sa.select(rh.c.state).where(*where))).scalar()
        if not accepted:
            await conn.execute(rh.delete().where(*where, rh.c.state == "requested"))
            return
        if state == "held":
            return
        if state is None:
            await conn.execute(
                rh.insert().values(
                    role_id=role.id, actor_id=member.id, state="held", created_at=clock.now()
                )
            )
        else:
            await conn.execute(
                rh.update().where(*where).values(state="held", created_at=clock.now())
            )
        await notifications.notify(
            conn,
            member.id,
            "koers.role_assigned",
            from_actor_id=group_id,
            community_id=role.community_id,
            extra={"role_id": role.id, "role": role.name},
        )


def install(app: web.Application) -> None:
    """Wrap the inbox handlers, register the listeners and the roles syncer (after roadmap_federation)."""
    handlers = app[INBOX_HANDLERS]
    for name, wrap in (("Join", _join), ("Leave", _leave), ("Update", _update)):
        previous = handlers.get(name)
        assert previous is not None, f"{name} must be registered before role_federation.install"
        handlers.register(name, wrap(previous))
    for name in ("Accept", "Reject"):
        handlers.register(name, _answer(handlers.registered(name), name))
    RoleOutbox(app[CTX]).register()
    role_sync.install()
