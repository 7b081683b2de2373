"""Local actor documents (Person, Group, Organization), the Koers context, and signed viewers.

Content negotiation: ``application/activity+json`` or ``application/ld+json`` gets the JSON
document (typed ``application/activity+json``); anything else is redirected to the HTML page.
``signed_viewer`` verifies a GET signature (authorized fetch); in secure mode unsigned GETs of
ActivityPub documents are refused with 401.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import context as vocab
from federation.actors import key_lookup_for
from federation.signatures import SignatureError, verify_request
from federation.state import ACTOR_EXTRAS, KEYS, ActorExtra
from server import clock
from server.keys import CTX
from server.storage import schema as t

log = logging.getLogger(__name__)

AP = "application/activity+json"
AP_TYPES = ("application/activity+json", "application/ld+json")
TYPES = {
    "person": "Person",
    "group": "Group",
    "organization": "Organization",
    "service": "Service",
    "application": "Application",
}
routes = web.RouteTableDef()


def wants_activitypub(request: web.Request) -> bool:
    """Whether the client asked for an ActivityStreams document rather than a page."""
    accept = request.headers.get("Accept", "").lower()
    return any(kind in accept for kind in AP_TYPES)


def activity_json(doc: dict[str, Any], *, status: int = 200) -> web.Response:
    """A JSON response typed ``application/activity+json``."""
    return web.json_response(doc, status=status, content_type=AP)


async def signed_viewer(request: web.Request) -> tuple[int, str] | None:
    """(actor id, domain) of a validly signed GET; ``None`` when unsigned.

    A signature that does not verify is a 401 in secure mode; otherwise the requester is treated
    as anonymous (as Mastodon does), so public documents stay readable when a peer's key is
    unreachable, and nothing private is shown.
    """
    headers = request.headers
    if "Signature" not in headers and not headers.get("Authorization", "").lower().startswith(
        "signature "
    ):
        return None
    app = request.app
    try:
        result = await verify_request(
            "GET", request.raw_path, headers, None, key_lookup_for(app), keys=app[KEYS]
        )
    except SignatureError as exc:
        if app[CTX].settings.secure_mode:
            raise web.HTTPUnauthorized(text=f"signature refused: {exc.reason}") from None
        log.info("signed GET %s treated as anonymous: %s", request.path, exc)
        return None
    async with app[CTX].db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.actors.c.id, t.actors.c.domain).where(t.actors.c.uri == result.owner)
            )
        ).first()
    if row is None:  # key_lookup stores every signer it believes, so this is a race with a delete
        return None
    return int(row.id), row.domain or app[CTX].settings.domain


async def ap_viewer(request: web.Request) -> tuple[int, str] | None:
    """``signed_viewer``, and in secure mode a 401 for unsigned requests."""
    viewer = await signed_viewer(request)
    if viewer is None and request.app[CTX].settings.secure_mode:
        raise web.HTTPUnauthorized(text="signature required (secure mode)")
    return viewer


def _media_url(base: str, path: str | None, url: str | None) -> dict[str, Any] | None:
    href = f"{base}/media/{path}" if path else url
    return {"type": "Image", "url": href} if href else None


async def actor_document(
    app: web.Application, row: Any, conn: AsyncConnection | None = None
) -> dict[str, Any]:
    """The ActivityStreams document of a local actor row, plus what ``ACTOR_EXTRAS`` add.

    ``conn`` reads inside a caller's transaction (an ``Update`` built with the change it reports).
    """
    if conn is None:
        async with app[CTX].db.read() as read:
            return await render_actor(read, app[CTX].settings.url, row, app[ACTOR_EXTRAS])
    return await render_actor(conn, app[CTX].settings.url, row, app[ACTOR_EXTRAS])


async def render_actor(
    conn: AsyncConnection, base: str, row: Any, extras: list[ActorExtra]
) -> dict[str, Any]:
    """The document of the local actor ``row`` on the instance at ``base``, with ``extras``' terms.

    An extra's list values (``attachment``) are appended to the actor's own; others replace.
    """
    doc: dict[str, Any] = {
        "@context": vocab.context(base),
        "id": row.uri,
        "type": TYPES.get(row.kind, "Person"),
        "preferredUsername": row.username,
        "name": row.display_name or row.username,
        "summary": row.summary_html or "",
        "url": row.url or row.uri,
        "inbox": row.inbox,
        "outbox": row.outbox,
        "followers": row.followers_url,
        "following": row.following_url,
        "featured": row.featured_url,
        "endpoints": {"sharedInbox": row.shared_inbox or f"{base}/inbox"},
        "manuallyApprovesFollowers": bool(row.manually_approves_followers),
        "discoverable": bool(row.discoverable),
        "published": clock.iso(row.created_at),  # xsd:dateTime with its zone (AS2 §2.3)
        "publicKey": {"id": row.key_id, "owner": row.uri, "publicKeyPem": row.public_key_pem},
        "attachment": [
            {"type": "PropertyValue", "name": f.get("name", ""), "value": f.get("value", "")}
            for f in row.fields or []
            if isinstance(f, dict)
        ],
    }
    if icon := _media_url(base, row.avatar_path, row.avatar_url):
        doc["icon"] = icon
    if image := _media_url(base, row.header_path, row.header_url):
        doc["image"] = image
    for extra in extras:
        for key, value in (await extra(conn, row)).items():
            if isinstance(value, list) and isinstance(doc.get(key), list):
                doc[key] = [*doc[key], *value]
            else:
                doc[key] = value
    return {k: v for k, v in doc.items() if v is not None}


async def _local_actor(request: web.Request, kind: str, username: str) -> Any:
    async with request.app[CTX].db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.actors, t.users.c.state.label("user_state"))
                .select_from(t.actors.outerjoin(t.users, t.users.c.actor_id == t.actors.c.id))
                .where(
                    t.actors.c.username == username.lower(),
                    t.actors.c.domain.is_(None),
                    t.actors.c.kind == kind,
                )
            )
        ).first()
    if row is not None and row.suspended:
        raise web.HTTPGone()  # suspended: other servers drop their copy (as after its Delete)
    if row is None or (kind == "person" and row.user_state != "active"):
        raise web.HTTPNotFound()
    return row


async def _serve(request: web.Request, row: Any, page: str) -> web.Response:
    if not wants_activitypub(request):
        raise web.HTTPFound(page)
    # The instance actor stays readable unsigned even in secure mode: peers fetch its key to
    # verify the very signatures secure mode asks for.
    # Its signed GETs are not verified either: verifying would fetch the signer's instance actor,
    # whose server would verify us the same way, and the two would wait on each other.
    if row.kind != "organization":
        await ap_viewer(request)
    return activity_json(await actor_document(request.app, row))


@routes.get("/users/{username}")
async def person(request: web.Request) -> web.Response:
    """A member as ``Person`` (JSON) or a redirect to ``/@username``."""
    row = await _local_actor(request, "person", request.match_info["username"])
    return await _serve(request, row, f"/@{row.username}")


@routes.get("/communities/{handle}")
async def community(request: web.Request) -> web.Response:
    """A community as ``Group`` (JSON) or a redirect to ``/c/handle``."""
    row = await _local_actor(request, "group", request.match_info["handle"])
    return await _serve(request, row, f"/c/{row.username}")


@routes.get("/actor")
async def organization(request: web.Request) -> web.Response:
    """The organisation (instance actor) as ``Organization`` (JSON) or a redirect to ``/``."""
    row = await _local_actor(request, "organization", "org")
    return await _serve(request, row, "/")


@routes.get(vocab.KOERS_PATH)
async def koers_context(request: web.Request) -> web.Response:
    """The Koers JSON-LD context document."""
    doc = vocab.context_document()
    return web.json_response(
        doc, content_type="application/ld+json", headers={"Access-Control-Allow-Origin": "*"}
    )
