"""A remote server on loopback that behaves as GoToSocial does where Koers met trouble (issue 14).

Built from these facts, not from GoToSocial's code:
- an account's key id is ``/users/NAME/main-key``, which answers a cut-down actor (``id``, ``type``,
  ``preferredUsername``, ``publicKey``; no ``inbox``); the full actor at ``/users/NAME`` and every
  status answer signed GETs only;
- accounts have their own inbox (no shared inbox); every POST must be signed by its actor;
- an ``Update`` of an actor is refused unless the actor it carries has a ``publicKey``;
- it boosts objects only: an ``Announce`` of an activity (``Create`` …) is refused;
- NodeInfo names the software ``gotosocial``.
Stricter than GoToSocial on one point: dates must be xsd:dateTime with a zone (``Z`` or an
offset), as ActivityStreams requires; a document with another date does not resolve (nor its key).
Signatures are real (``federation.signatures``) both ways; keys of Koers actors are fetched from
the Koers instance as any peer does.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.signatures import SignatureError, sign_request, verify_request
from server.services.keys import generate_key_pair
from tests.conftest import free_port
from tests.federation.conftest import Signer, post_activity

AP = "application/activity+json"
ACTIVITY_TYPES = {"Create", "Update", "Delete", "Like", "Undo", "Add", "Remove", "Announce"}
ACTOR_TYPES = {
    "Person",
    "Group",
    "Organization",
    "Service",
    "Application",
}  # the actor kinds it keeps
DATE_KEYS = ("published", "updated", "startTime", "endTime", "deleted")
XSD_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)")


def datetime_errors(doc: Any) -> list[str]:
    """The dates in ``doc`` (at any depth) that a strict xsd:dateTime reader cannot read."""
    if isinstance(doc, list):
        return [e for item in doc for e in datetime_errors(item)]
    if not isinstance(doc, dict):
        return []
    errors = [
        f"{key}={doc[key]!r}"
        for key in DATE_KEYS
        if doc.get(key) is not None
        and not (isinstance(doc[key], str) and XSD_DATETIME.fullmatch(doc[key]))
    ]
    return errors + [e for value in doc.values() for e in datetime_errors(value)]


@dataclass
class Account:
    name: str
    uri: str
    private_pem: str
    public_pem: str

    @property
    def key_id(self) -> str:
        return f"{self.uri}/main-key"

    @property
    def signer(self) -> Signer:
        return Signer(self.uri, self.key_id, self.private_pem)


@dataclass
class GoToSocialPeer:
    """The peer's state, as the tests read it."""

    base: str
    accounts: dict[str, Account] = field(default_factory=dict)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (activity type, reason)
    boosts: list[tuple[str, str]] = field(default_factory=list)  # (booster, boosted object id)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # actor id -> last Update
    serves_nodeinfo: bool = True

    def add_account(self, name: str) -> Account:
        private_pem, public_pem = generate_key_pair()
        account = Account(name, f"{self.base}/users/{name}", private_pem, public_pem)
        self.accounts[name] = account
        return account

    def actor(self, account: Account) -> dict[str, Any]:
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": account.uri,
            "type": "Person",
            "preferredUsername": account.name,
            "name": account.name.title(),
            "inbox": f"{account.uri}/inbox",
            "outbox": f"{account.uri}/outbox",
            "followers": f"{account.uri}/followers",
            "following": f"{account.uri}/following",
            "publicKey": {
                "id": account.key_id,
                "owner": account.uri,
                "publicKeyPem": account.public_pem,
            },
        }

    def key_document(self, account: Account) -> dict[str, Any]:
        """What GoToSocial answers at the key id: the actor cut down to its key."""
        full = self.actor(account)
        return {k: full[k] for k in ("@context", "id", "type", "preferredUsername", "publicKey")}

    def activity(self, account: Account, kind: str, **fields: Any) -> dict[str, Any]:
        doc = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{account.uri}/activities/{uuid.uuid4().hex}",
            "type": kind,
            "actor": account.uri,
        }
        return {**doc, **fields}

    def status(self, account: Account, content: str, **fields: Any) -> dict[str, Any]:
        """A new status of ``account``, served (to signed GETs) at its id."""
        doc = {
            "id": f"{account.uri}/statuses/{uuid.uuid4().hex[:12]}",
            "type": "Note",
            "attributedTo": account.uri,
            "content": content,
            "published": "2026-12-01T10:00:00Z",
            **fields,
        }
        self.statuses[urlsplit(doc["id"]).path] = doc
        return doc

    async def post(self, url: str, activity: dict[str, Any], account: Account) -> tuple[int, str]:
        """POST ``activity`` to ``url`` signed by ``account``."""
        return await post_activity(url, activity, account.signer)

    async def get(self, url: str, account: Account) -> tuple[int, Any]:
        """A signed GET of ``url`` as ``account``: (status, JSON or text)."""
        headers = sign_request(
            "GET", url, {"Accept": AP}, None, account.key_id, account.private_pem
        )
        async with aiohttp.ClientSession() as session:
            async with session.get(url, headers=headers) as resp:
                text = await resp.text()
                try:
                    return resp.status, json.loads(text)
                except ValueError:
                    return resp.status, text


async def _fetch_key(key_id: str, refresh: bool) -> tuple[str, str] | None:
    """The PEM and owner of a (Koers) key id, fetched unsigned as a peer would."""
    url = key_id.split("#", 1)[0]
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Accept": AP}) as resp:
            if resp.status != 200:
                return None
            doc = await resp.json(content_type=None)
    if datetime_errors(doc):
        return None  # the actor does not resolve, so its key is unknown
    key = doc.get("publicKey") or {}
    if key.get("id") != key_id:
        return None
    return key["publicKeyPem"], key["owner"]


def _app(peer: GoToSocialPeer) -> web.Application:
    app = web.Application()

    async def verified(request: web.Request, body: bytes | None) -> str | None:
        try:
            result = await verify_request(
                request.method, request.raw_path, request.headers, body, _fetch_key
            )
        except SignatureError:
            return None
        return result.owner

    def account_of(request: web.Request) -> Account:
        account = peer.accounts.get(request.match_info["name"])
        if account is None:
            raise web.HTTPNotFound()
        return account

    async def nodeinfo_links(_request: web.Request) -> web.Response:
        if not peer.serves_nodeinfo:
            raise web.HTTPNotFound()
        rel = "http://nodeinfo.diaspora.software/ns/schema/2.0"
        return web.json_response({"links": [{"rel": rel, "href": f"{peer.base}/nodeinfo/2.0"}]})

    async def nodeinfo(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "version": "2.0",
                "software": {"name": "gotosocial", "version": "0.20.0"},
                "protocols": ["activitypub"],
            }
        )

    async def main_key(request: web.Request) -> web.Response:
        return web.json_response(peer.key_document(account_of(request)), content_type=AP)

    async def actor(request: web.Request) -> web.Response:
        account = account_of(request)
        if await verified(request, None) is None:
            raise web.HTTPUnauthorized(text="signature required")
        return web.json_response(peer.actor(account), content_type=AP)

    async def status(request: web.Request) -> web.Response:
        doc = peer.statuses.get(request.path)
        if doc is None:
            raise web.HTTPNotFound()
        if await verified(request, None) is None:
            raise web.HTTPUnauthorized(text="signature required")
        return web.json_response(doc, content_type=AP)

    def refuse(kind: str, reason: str) -> web.Response:
        peer.refused.append((kind, reason))
        return web.Response(status=400, text=reason)

    async def inbox(request: web.Request) -> web.Response:
        account_of(request)
        body = await request.read()
        signer = await verified(request, body)
        activity = json.loads(body)
        if signer is None or signer != activity.get("actor"):
            raise web.HTTPUnauthorized(text="bad signature")
        kind = activity.get("type")
        obj = activity.get("object")
        if bad := datetime_errors(activity):
            return refuse(str(kind), f"{bad[0]} cannot be interpreted as xsd:dateTime")
        if kind == "Update" and isinstance(obj, dict) and obj.get("type") in ACTOR_TYPES:
            if not isinstance(obj.get("publicKey"), dict):
                return refuse(kind, "public key property was nil")
            peer.profiles[obj["id"]] = obj
        if kind == "Announce":
            inner = obj.get("type") if isinstance(obj, dict) else None
            if inner in ACTIVITY_TYPES:
                return refuse(kind, f"cannot resolve {inner} as statusable")
            peer.boosts.append((activity["actor"], obj["id"] if isinstance(obj, dict) else obj))
        peer.received.append(activity)
        return web.Response(status=202)

    app.router.add_get("/.well-known/nodeinfo", nodeinfo_links)
    app.router.add_get("/nodeinfo/2.0", nodeinfo)
    app.router.add_get("/users/{name}/main-key", main_key)
    app.router.add_get("/users/{name}", actor)
    app.router.add_get("/users/{name}/statuses/{sid}", status)
    app.router.add_post("/users/{name}/inbox", inbox)
    return app


async def start_peer() -> tuple[GoToSocialPeer, TestServer]:
    """A running peer on a loopback port (close the server when done)."""
    port = free_port()
    peer = GoToSocialPeer(base=f"http://127.0.0.1:{port}")
    server = TestServer(_app(peer), host="127.0.0.1", port=port)
    await server.start_server()
    return peer, server
