"""Remote actors: fetch, validate and cache them in the ``actors`` table; keys for verification.

``resolve_actor`` does network I/O and its own write transaction, so never call it inside
``db.write()`` (on SQLite that would deadlock).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from aiohttp import web

from federation import context as vocab
from federation import limits
from federation.discovery import remember_software, resolve_handle
from federation.errors import ActorError, FetchError
from federation.signatures import KeyLookup, SignatureError
from federation.state import FETCHER, REMOTE_ACTOR_HOOKS
from server import clock
from server.keys import CTX
from server.storage import schema as t
from server.storage.rows import inserted_id

log = logging.getLogger(__name__)

ACTOR_TYPES = {
    "Person": "person",
    "Group": "group",
    "Organization": "organization",
    "Service": "service",
    "Application": "application",
}
REFRESH_AFTER = timedelta(days=1)


async def instance_signer(app: web.Application, actor_id: int | None = None) -> tuple[str, str]:
    """(key id, private key PEM) that signs the instance's fetches: the organisation actor's, or
    the local actor ``actor_id``'s (to fetch what only that actor may see)."""
    ctx = app[CTX]
    q = sa.select(t.actors.c.key_id, t.actors.c.private_key_pem).where(t.actors.c.domain.is_(None))
    q = (
        q.where(t.actors.c.id == actor_id)
        if actor_id is not None
        else q.where(t.actors.c.kind == "organization")
    )
    async with ctx.db.read() as conn:
        row = (await conn.execute(q)).one()
    return row.key_id, row.private_key_pem


async def fetch_signed(
    app: web.Application, url: str, *, refresh: bool = False, as_actor: int | None = None
) -> dict[str, Any]:
    """GET a remote document signed by the instance actor (or by the local actor ``as_actor``)."""
    key_id, pem = await instance_signer(app, as_actor)
    # Documents fetched as a particular actor may be private to it: never share them via the cache.
    max_age = 0 if refresh or as_actor is not None else 300
    return await app[FETCHER].fetch_json(url, key_id=key_id, private_key_pem=pem, max_age=max_age)


def _strip_fragment(uri: str) -> str:
    p = urlsplit(uri)
    return urlunsplit((p.scheme, p.netloc, p.path, p.query, ""))


def _url_of(value: Any) -> str | None:
    """The first href of an AS ``url``/``icon`` value (string, Link, Image or a list of them)."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("href") or value.get("url")
        return _url_of(value)
    return value if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def _public_key(doc: dict[str, Any]) -> dict[str, Any]:
    key = doc.get("publicKey")
    if isinstance(key, list):
        key = next((k for k in key if isinstance(k, dict) and k.get("publicKeyPem")), None)
    if not isinstance(key, dict) or not key.get("publicKeyPem") or not key.get("id"):
        raise ActorError("no_key", f"{doc.get('id')} has no usable publicKey")
    if key.get("owner") != doc.get("id"):
        raise ActorError("key_owner", f"the key of {doc.get('id')} is owned by {key.get('owner')}")
    return key


def actor_values(
    doc: dict[str, Any], uri: str, sanitise: Callable[[str], str] = html.escape
) -> dict[str, Any]:
    """Validate an actor document fetched from ``uri`` and turn it into ``actors`` column values.

    ``sanitise`` cleans the HTML of the bio and the profile fields (escaped unless one is given).
    """
    actor_id = doc.get("id")
    if (
        not isinstance(actor_id, str)
        or urlsplit(actor_id).netloc.lower() != urlsplit(uri).netloc.lower()
    ):
        raise ActorError("id_host", f"document at {uri} claims id {actor_id}")
    kind = ACTOR_TYPES.get(type_) if isinstance(type_ := doc.get("type"), str) else None
    if kind is None:
        raise ActorError("type", f"{actor_id} is a {doc.get('type')!r}, not an actor")
    inbox = doc.get("inbox")
    if not isinstance(inbox, str):
        raise ActorError("no_inbox", f"{actor_id} has no inbox")
    key = _public_key(doc)
    endpoints = e if isinstance(e := doc.get("endpoints"), dict) else {}
    username = (
        doc.get("preferredUsername") or urlsplit(actor_id).path.rstrip("/").rsplit("/", 1)[-1]
    )
    listed = doc.get("attachment")
    properties = [
        a
        for a in (listed if isinstance(listed, list) else [listed])
        if isinstance(a, dict) and a.get("type") == "PropertyValue"
    ][: limits.PROFILE_FIELDS]
    fields = [
        {
            "name": str(a.get("name", ""))[: limits.FIELD_NAME_CHARS],
            "value": sanitise(str(a.get("value", ""))[: limits.FIELD_VALUE_CHARS]),
        }
        for a in properties
    ]
    return {
        "uri": actor_id,
        "kind": kind,
        "username": str(username)[: limits.USERNAME_CHARS],
        "domain": urlsplit(actor_id).netloc.lower(),
        "display_name": str(doc.get("name") or "")[: limits.DISPLAY_NAME_CHARS],
        "summary_html": sanitise(str(doc.get("summary") or "")[: limits.BIO_CHARS]),
        "url": _url_of(doc.get("url")) or actor_id,
        "inbox": inbox,
        "shared_inbox": endpoints.get("sharedInbox")
        if isinstance(endpoints.get("sharedInbox"), str)
        else None,
        "outbox": doc.get("outbox") if isinstance(doc.get("outbox"), str) else None,
        "followers_url": doc.get("followers") if isinstance(doc.get("followers"), str) else None,
        "following_url": doc.get("following") if isinstance(doc.get("following"), str) else None,
        "featured_url": doc.get("featured") if isinstance(doc.get("featured"), str) else None,
        "key_id": key["id"],
        "public_key_pem": key["publicKeyPem"],
        "avatar_url": _url_of(doc.get("icon")),
        "header_url": _url_of(doc.get("image")),
        "fields": fields,
        "manually_approves_followers": bool(doc.get("manuallyApprovesFollowers", False)),
        "discoverable": bool(doc.get("discoverable", False)),
        "bot": kind in ("service", "application"),
        "extra": vocab.koers_terms(doc),
    }


def values_for(app: web.Application, doc: dict[str, Any], uri: str) -> dict[str, Any]:
    """``actor_values`` with the app's sanitiser, adjusted by its ``prepare`` hooks."""
    hooks = app[REMOTE_ACTOR_HOOKS]
    values = actor_values(doc, uri, hooks.sanitise)
    for prepare in hooks.prepare:
        prepare(doc, values)
    return values


async def store_actor(app: web.Application, values: dict[str, Any]) -> int:
    """Insert or update a remote actor row from ``actor_values``; returns its id.

    Two requests may fetch the same new actor at once (two signed GETs, say); on PostgreSQL the
    second insert then hits the unique uri. It is retried once, and finds the row to update.
    """
    try:
        return await _store_actor_once(app, values)
    except sa.exc.IntegrityError:
        log.info("actor %s was stored concurrently; updating it instead", values["uri"])
        return await _store_actor_once(app, values)


async def _store_actor_once(app: web.Application, values: dict[str, Any]) -> int:
    now = clock.now()
    async with app[CTX].db.write() as conn:
        row = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == values["uri"]))
        ).first()
        clash = (
            await conn.execute(
                sa.select(t.actors.c.id).where(
                    t.actors.c.username == values["username"],
                    t.actors.c.domain == values["domain"],
                    t.actors.c.uri != values["uri"],
                )
            )
        ).first()
        if (
            clash
        ):  # the handle moved to a new actor id: the old row keeps its content under another name
            await conn.execute(
                sa.update(t.actors)
                .where(t.actors.c.id == clash.id)
                .values(username=f"{values['username']}~{clash.id}")
            )
        if row:
            await conn.execute(
                sa.update(t.actors)
                .where(t.actors.c.id == row.id)
                .values(**values, updated_at=now, fetched_at=now)
            )
            actor_id = int(row.id)
        else:
            result = await conn.execute(
                sa.insert(t.actors).values(**values, created_at=now, updated_at=now, fetched_at=now)
            )
            actor_id = inserted_id(result)
        for stored in app[REMOTE_ACTOR_HOOKS].stored:  # e.g. its competencies, for the finder
            await stored(conn, actor_id, values)
        return actor_id


async def resolve_actor(app: web.Application, uri: str, *, refresh: bool = False) -> int:
    """The ``actors`` id of ``uri``: local actors directly, remote ones fetched when new or stale.

    Raises ``ActorError`` (unusable document) or ``FetchError`` (unreachable).
    """
    uri = _strip_fragment(uri)
    ctx = app[CTX]
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.actors.c.id, t.actors.c.domain, t.actors.c.fetched_at).where(
                    t.actors.c.uri == uri
                )
            )
        ).first()
    if row and row.domain is None:
        return int(row.id)
    if urlsplit(uri).netloc.lower() == ctx.settings.domain.lower():
        raise ActorError("unknown_local", f"no local actor {uri}")
    fresh = row and row.fetched_at and clock.now() - clock.aware(row.fetched_at) < REFRESH_AFTER
    if row and fresh and not refresh:
        return int(row.id)
    doc = await fetch_signed(app, uri, refresh=True)
    values = values_for(app, doc, uri)
    await remember_software(app, values["domain"], retry_unknown=row is not None)
    return await store_actor(app, values)


async def key_lookup(app: web.Application, key_id: str, refresh: bool) -> tuple[str, str] | None:
    """(public key PEM, owner actor URI) for ``key_id``, from the table or fetched from its host."""
    ctx = app[CTX]
    if not refresh:
        async with ctx.db.read() as conn:
            row = (
                await conn.execute(
                    sa.select(t.actors.c.public_key_pem, t.actors.c.uri).where(
                        t.actors.c.key_id == key_id, t.actors.c.suspended.is_(False)
                    )
                )
            ).first()
        if row and row.public_key_pem:
            return row.public_key_pem, row.uri
    if urlsplit(key_id).netloc.lower() == ctx.settings.domain.lower():
        return None
    try:
        values = await _key_owner(app, key_id)
    except (FetchError, ActorError) as exc:
        log.info("cannot resolve key %s: %s", key_id, exc)
        return None
    if values is None:
        return None
    if values["key_id"] != key_id:
        raise SignatureError("key_mismatch", f"{values['uri']} does not own the key {key_id}")
    await remember_software(app, values["domain"])
    await store_actor(app, values)
    return values["public_key_pem"], values["uri"]


async def _key_owner(app: web.Application, key_id: str) -> dict[str, Any] | None:
    """The actor values of the owner of ``key_id``, fetched from its host.

    The key id may answer a ``Key``, the complete actor (``…#main-key``), or a cut-down actor with
    only its id, type, name and key (GoToSocial's ``…/main-key``). Unless it is a complete actor,
    the owner it names is fetched, and the key must be found on that document (as Mastodon does).
    """
    doc = await fetch_signed(app, _strip_fragment(key_id), refresh=True)
    if doc.get("type") in ("Key", "CryptographicKey"):
        owner = doc.get("owner")
    else:
        key = doc.get("publicKey")
        owner = key.get("owner") if isinstance(key, dict) else None
        owner = owner if isinstance(owner, str) else doc.get("id")
        if isinstance(owner, str) and owner == doc.get("id"):
            try:
                return values_for(app, doc, owner)
            except ActorError as exc:
                if _strip_fragment(key_id) == owner:
                    raise
                log.info("key document %s is not a complete actor (%s): fetching it", key_id, exc)
    if not isinstance(owner, str):
        return None
    return values_for(app, await fetch_signed(app, owner, refresh=True), owner)


def key_lookup_for(app: web.Application) -> KeyLookup:
    """``key_lookup`` bound to ``app``, in the shape ``verify_request`` wants."""

    async def lookup(key_id: str, refresh: bool) -> tuple[str, str] | None:
        return await key_lookup(app, key_id, refresh)

    return lookup


async def resolve_handle_to_actor(app: web.Application, handle: str) -> int:
    """``user@host`` (with or without a leading ``@``) → the actor's id, via WebFinger."""
    user, _, host = handle.lstrip("@").partition("@")
    if not user or not host:
        raise ActorError("bad_handle", f"{handle!r} is not user@host")
    return await resolve_actor(app, await resolve_handle(app[FETCHER], user, host))
