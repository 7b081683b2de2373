"""The parts of the fast test layer that are not fixtures: a key pool, a recording transport, the
application built (never started) around a fresh database, and remote actors.

The fixtures in ``tests/conftest.py`` put them together; unit tests import the types from here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.actors import actor_values, store_actor
from federation.delivery import run_delivery_once
from federation.errors import FetchError
from federation.inbox import process_inbox_once, store_incoming
from federation.signatures import sign_request
from federation.state import DELIVERY, FETCHER
from server.config import Settings
from server.context import Context
from server.events import Event
from server.keys import CTX, SETTINGS
from server.services.accounts import Account
from server.services.communities import Community
from server.services.keys import generate_key_pair
from server.storage import schema as t
from server.storage.db import Database
from server.visibility import Viewer
from tests.federation.conftest import Signer

REMOTE_HOST = "remote.example"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"

# Argon2 at its smallest cost: password checks stay real, but a member costs milliseconds.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class KeyPool:
    """RSA key pairs made once per test process and handed out in order, one per new actor.

    Generating a 2048-bit key takes 50–300 ms; a test rarely makes more than a few actors, so the
    pool grows to the largest number one test needs and each test starts again at the first key.
    Keys are distinct within a test, which is all signatures and key lookups need.
    """

    def __init__(self) -> None:
        self._keys: list[tuple[str, str]] = []
        self._next = 0

    def rewind(self) -> None:
        self._next = 0

    def take(self) -> tuple[str, str]:
        """The next (private PEM, public PEM) pair."""
        if self._next == len(self._keys):
            self._keys.append(generate_key_pair())
        pair = self._keys[self._next]
        self._next += 1
        return pair


KEYS = KeyPool()


@dataclass(frozen=True)
class Sent:
    """One delivery the worker made: where to, the activity, and the request as sent."""

    inbox: str
    activity: dict[str, Any]
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


class RecordingTransport:
    """Stands in for the application's fetcher: signed POSTs are recorded (and answered with
    ``status``), GETs are served from ``documents`` and fail as unreachable otherwise."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.status = 202
        self.documents: dict[str, dict[str, Any]] = {}
        self.fetched: list[str] = []
        self.settings: Settings | None = None

    async def post_signed(
        self, url: str, body: bytes, key_id: str, private_key_pem: str, **_kw: Any
    ) -> tuple[int, Mapping[str, str]]:
        return await self.post_presigned(url, body, {})

    async def post_presigned(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, Mapping[str, str]]:
        self.sent.append(Sent(url, json.loads(body), body, dict(headers)))
        return self.status, {}

    async def post_bytes(
        self, url: str, body: bytes, headers: Mapping[str, str], **_kw: Any
    ) -> int:
        self.sent.append(Sent(url, {"type": "bytes", "size": len(body)}))
        return self.status

    async def fetch_json(self, url: str, **_kw: Any) -> dict[str, Any]:
        self.fetched.append(url)
        if url in self.documents:
            return self.documents[url]
        raise FetchError("network", f"the unit layer reaches no network ({url})")

    def forget(self, url: str) -> None:
        self.documents.pop(url, None)

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class RemoteActor(Signer):
    """A person on another instance, stored here as if fetched; it signs what it sends
    (``activity()`` makes a new activity by it, as the federation tests' ``Signer`` does)."""

    id: int
    public_key_pem: str
    document: dict[str, Any]

    @property
    def inbox(self) -> str:
        return f"{self.uri}/inbox"

    def sign(self, method: str, url: str, body: bytes = b"") -> dict[str, str]:
        """Signed request headers, as its server would send them."""
        headers = {"Content-Type": "application/activity+json"}
        return sign_request(method, url, headers, body, self.key_id, self.private_key_pem)


def person_document(username: str, host: str, public_pem: str, **extra: Any) -> dict[str, Any]:
    """A Mastodon-shaped ``Person`` document for ``username`` on ``host``."""
    uri = f"https://{host}/users/{username}"
    doc: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": uri,
        "type": "Person",
        "preferredUsername": username,
        "name": username.title(),
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "following": f"{uri}/following",
        "url": f"https://{host}/@{username}",
        "endpoints": {"sharedInbox": f"https://{host}/inbox"},
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": public_pem},
    }
    doc.update(extra)
    return doc


@dataclass
class Wired:
    """The application built around the test database but never started: no server, no
    background workers. Its context carries every listener the areas' ``setup()`` registers
    (the federation outbox, notifications, …), and its inbox handlers are in place.

    ``cycle()`` runs what the workers would: one inbox pass and one delivery pass, the deliveries
    landing in ``transport.sent`` instead of the network.
    """

    app: web.Application
    transport: RecordingTransport = field(default_factory=RecordingTransport)

    def __post_init__(self) -> None:
        self.transport.settings = self.app[SETTINGS]
        self.app[FETCHER] = self.transport  # type: ignore[assignment]
        self.app[DELIVERY].fetcher = self.transport  # type: ignore[assignment]

    @property
    def ctx(self) -> Context:
        return self.app[CTX]

    async def remote_actor(
        self, username: str, host: str = REMOTE_HOST, **extra: Any
    ) -> RemoteActor:
        """Store a remote person from its actor document, as the fetcher would."""
        private_pem, public_pem = KEYS.take()
        doc = person_document(username, host, public_pem, **extra)
        actor_id = await store_actor(self.app, actor_values(doc, doc["id"]))
        return RemoteActor(
            doc["id"], doc["publicKey"]["id"], private_pem, actor_id, public_pem, doc
        )

    async def receive(
        self, activity: dict[str, Any], signer: RemoteActor | None = None
    ) -> int | None:
        """Store an incoming activity as the inbox does once the signature checked out."""
        return await store_incoming(self.app, activity, signer.uri if signer else activity["actor"])

    async def cycle(self) -> tuple[int, int]:
        """One inbox pass, then one delivery pass; returns (activities handled, deliveries made)."""
        handled = await process_inbox_once(self.app)
        delivered = await run_delivery_once(self.app)
        return handled, delivered

    def sent_types(self) -> list[tuple[str, str]]:
        """(inbox, activity type) of every delivery so far."""
        return [(s.inbox, s.activity["type"]) for s in self.transport.sent]


@dataclass(frozen=True)
class Crew:
    """The community ``garden``: ana founded and manages it, bo and cy joined, dan is outside."""

    community: Community
    ana: Account
    bo: Account
    cy: Account
    dan: Account

    @staticmethod
    def viewer(person: Account) -> Viewer:
        """A local member as the visibility policy sees them."""
        return Viewer(actor_id=person.actor_id, local=True)


def record_events(ctx: Context, kind: str = "*") -> list[Event]:
    """Every event of ``kind`` (of any kind with ``*``) emitted through ``ctx`` from now on."""
    seen: list[Event] = []

    async def record(_conn: AsyncConnection, event: Event) -> None:
        seen.append(event)

    ctx.events.on(kind, record)
    return seen


async def notifications_of(db: Database, actor_id: int) -> list[sa.Row]:
    """A person's notifications, oldest first."""
    async with db.read() as conn:
        return list(
            await conn.execute(
                sa.select(t.notifications)
                .where(t.notifications.c.actor_id == actor_id)
                .order_by(t.notifications.c.id)
            )
        )
