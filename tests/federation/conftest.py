"""Helpers for federation tests: an actor's signing key, and signed POSTs from a test peer."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa

from federation.delivery import enqueue
from federation.signatures import sign_request
from server.storage import schema as t


@dataclass(frozen=True)
class Signer:
    uri: str
    key_id: str
    private_key_pem: str

    def activity(self, type_: str = "Create", **fields: Any) -> dict[str, Any]:
        """A fresh activity by this actor with a unique id on its host."""
        doc = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{self.uri}/activities/{uuid.uuid4().hex}",
            "type": type_,
            "actor": self.uri,
        }
        doc.update(fields)
        return doc


async def signer_for(instance: Any, username: str) -> Signer:
    """The signing identity of a local actor of ``instance``."""
    async with instance.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.actors).where(
                    t.actors.c.username == username, t.actors.c.domain.is_(None)
                )
            )
        ).one()
    return Signer(row.uri, row.key_id, row.private_key_pem)


async def post_activity(
    url: str,
    body: dict[str, Any] | bytes,
    signer: Signer | None,
    *,
    tamper: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, str]:
    """POST ``body`` to ``url`` signed by ``signer`` (unsigned when None); ``tamper`` replaces the body after signing."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"Content-Type": "application/activity+json", **(headers or {})}
    if signer is not None:
        hdrs = sign_request("POST", url, hdrs, data, signer.key_id, signer.private_key_pem)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, data=tamper if tamper is not None else data, headers=hdrs
        ) as resp:
            return resp.status, await resp.text()


async def activity_rows(instance: Any, direction: str = "in") -> list[Any]:
    async with instance.db.read() as conn:
        return list(
            await conn.execute(
                sa.select(t.activities)
                .where(t.activities.c.direction == direction)
                .order_by(t.activities.c.id)
            )
        )


async def deliveries(instance) -> list:  # type: ignore[no-untyped-def]
    async with instance.db.read() as conn:
        return list(await conn.execute(sa.select(t.deliveries).order_by(t.deliveries.c.id)))


async def queue(
    instance, username: str, inboxes: list[str], activity: dict | None = None
) -> int | None:  # type: ignore[no-untyped-def]
    signer = await signer_for(instance, username)
    async with instance.db.read() as conn:
        actor_id = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri == signer.uri))
        ).scalar_one()
    activity = activity or signer.activity(
        "Create", object={"id": f"{signer.uri}/notes/1", "type": "Note"}
    )
    async with instance.db.write() as conn:
        return await enqueue(conn, activity=activity, actor_id=actor_id, inboxes=inboxes)


@pytest.fixture
async def pair(make_instance):  # type: ignore[no-untyped-def]
    """Two instances without background workers (tests drive the queues): A with alice, B with bob."""
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    await a.create_member("alice")
    await b.create_member("bob")
    return a, b
