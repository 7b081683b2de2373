"""Web Push: Mastodon.py subscribes, a notification is pushed to a real push service on loopback,
encrypted (the older ``aesgcm`` Mastodon.py decrypts, and RFC 8291 ``aes128gcm``) and signed with
the instance's VAPID key; gone subscriptions are removed, failures retried, bad input refused."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import http_ece
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from mastodon import MastodonAPIError, MastodonNotFoundError

from federation.state import FETCHER
from server import push_worker
from server.services import posts
from server.storage import schema as t
from server.visibility import Audience
from tests.api.conftest import api_token, in_thread, mastodon_for
from tests.conftest import Instance


@dataclass
class PushService:
    """A push service on loopback: records what it is sent, answers ``status``."""

    url: str = ""
    status: int = 201
    delay: float = 0.0  # seconds before answering
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
async def push_service() -> Any:
    service = PushService()

    async def receive(request: web.Request) -> web.Response:
        service.received.append((dict(request.headers), await request.read()))
        await asyncio.sleep(service.delay)
        return web.Response(status=service.status)

    app = web.Application()
    app.router.add_post("/push/{token}", receive)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    service.url = str(server.make_url("/push/device-1"))
    yield service
    await server.close()


def _b64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _verify_jwt(token: str, public_key_b64: str) -> dict[str, Any]:
    """Check an ES256 JWT against the instance's VAPID public key; its claims."""
    head, claims, sig = token.split(".")
    raw = _b64(sig)
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64(public_key_b64))
    key.verify(
        encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
        f"{head}.{claims}".encode(),
        ec.ECDSA(hashes.SHA256()),
    )
    return json.loads(_b64(claims))


async def _mention_ann(instance: Instance, bob_id: int) -> int:
    return await posts.create_post(
        instance.ctx,
        bob_id,
        posts.Draft(source="@ann the keys are under the mat", audience=Audience.PUBLIC),
    )


async def test_mastodon_py_subscribes_and_decrypts_a_pushed_mention(
    make_instance, push_service: PushService
) -> None:  # type: ignore[no-untyped-def]
    instance = await make_instance(run_workers=False)  # the test sends the queue itself
    await instance.create_member("ann")
    bob = await instance.create_member("bob")
    ann = await mastodon_for(instance, "ann", scopes=("read", "write", "follow", "push"))
    private, public = await in_thread(ann.push_subscription_generate_keys)
    sub = await in_thread(
        ann.push_subscription_set,
        push_service.url,
        public,
        mention_events=True,
        favourite_events=False,
    )
    server_key = (await (await instance.client.get("/api/v2/instance")).json())["configuration"][
        "vapid"
    ]["public_key"]
    assert (
        sub["server_key"] == server_key
        and sub["alerts"]["mention"] is True
        and sub["alerts"]["favourite"] is False
    )
    assert (await in_thread(ann.push_subscription))["endpoint"] == push_service.url

    post_id = await _mention_ann(instance, bob.actor_id)
    assert await push_worker.run_once(instance.app) == 1
    [(headers, body)] = push_service.received
    assert headers["Content-Encoding"] == "aesgcm" and headers["TTL"]
    pushed = await in_thread(
        ann.push_subscription_decrypt_push,
        body,
        private,
        headers["Encryption"],
        headers["Crypto-Key"],
    )
    assert pushed["notification_type"] == "mention" and pushed["title"] == "bob mentioned you"
    assert "keys are under the mat" in pushed["body"]
    [notification] = await in_thread(ann.notifications)
    assert str(notification["id"]) == str(pushed["notification_id"]) and str(
        notification["status"]["id"]
    ) == str(post_id)
    scheme, _, jwt = headers["Authorization"].partition(" ")
    assert scheme == "WebPush"
    claims = _verify_jwt(jwt, server_key)
    assert claims["aud"] == push_service.url.split("/push/")[0]

    # A favourite is not wanted by this subscription: nothing is queued for it.
    await posts.favourite(
        instance.ctx,
        bob.actor_id,
        await posts.create_post(
            instance.ctx,
            (await in_thread(ann.me))["id"],
            posts.Draft(source="Mine", audience=Audience.PUBLIC),
        ),
    )
    assert await push_worker.run_once(instance.app) == 0


async def test_standard_encoding_gone_and_failing_push_services(
    make_instance, push_service: PushService
) -> None:  # type: ignore[no-untyped-def]
    instance = await make_instance(run_workers=False)
    await instance.create_member("ann")
    bob = await instance.create_member("bob")
    token = await api_token(instance, "ann", scopes="read write push")
    receiver = ec.generate_private_key(ec.SECP256R1())
    point = receiver.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    secret = b"0123456789abcdef"
    form = {
        "subscription[endpoint]": push_service.url,
        "subscription[standard]": "true",
        "subscription[keys][p256dh]": base64.urlsafe_b64encode(point).decode().rstrip("="),
        "subscription[keys][auth]": base64.urlsafe_b64encode(secret).decode().rstrip("="),
        "data[alerts][mention]": "true",
        "data[policy]": "all",
    }
    auth = {"Authorization": f"Bearer {token}"}
    resp = await instance.client.post("/api/v1/push/subscription", data=form, headers=auth)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["standard"] is True

    await _mention_ann(instance, bob.actor_id)
    await push_worker.run_once(instance.app)
    [(headers, body)] = push_service.received
    assert headers["Content-Encoding"] == "aes128gcm" and headers["Authorization"].startswith(
        "vapid t="
    )
    plain = http_ece.decrypt(body, private_key=receiver, auth_secret=secret, version="aes128gcm")
    assert json.loads(plain)["notification_type"] == "mention"

    # The push service fails: retried later, not lost.
    push_service.status = 503
    await _mention_ann(instance, bob.actor_id)
    await push_worker.run_once(instance.app)
    async with instance.db.read() as conn:
        row = (
            await conn.execute(sa.select(t.push_deliveries).order_by(t.push_deliveries.c.id.desc()))
        ).first()
    assert (
        row.state == "new" and row.attempts == 1 and row.last_error == "push service answered 503"
    )

    # The app is gone (410): the subscription is removed.
    push_service.status = 410
    async with instance.db.write() as conn:
        await conn.execute(
            t.push_deliveries.update().values(next_attempt_at=t.push_deliveries.c.created_at)
        )
    await push_worker.run_once(instance.app)
    assert (await instance.client.get("/api/v1/push/subscription", headers=auth)).status == 404


async def test_bad_subscriptions_are_refused(make_instance, push_service: PushService) -> None:  # type: ignore[no-untyped-def]
    instance = await make_instance(run_workers=False)
    await instance.create_member("ann")
    ann = await mastodon_for(instance, "ann", scopes=("read", "write", "follow", "push"))
    _, public = await in_thread(ann.push_subscription_generate_keys)
    with pytest.raises(MastodonAPIError, match="p256dh"):
        await in_thread(
            ann.push_subscription_set,
            push_service.url,
            {"pubkey": b"short", "auth": public["auth"]},
        )
    token = await api_token(instance, "ann", scopes="read push")
    auth = {"Authorization": f"Bearer {token}"}
    good = {
        "subscription[endpoint]": push_service.url,
        "subscription[keys][p256dh]": base64.b64encode(public["pubkey"]).decode(),
        "subscription[keys][auth]": base64.b64encode(public["auth"]).decode(),
    }
    for change, message in (
        ({"subscription[endpoint]": "ftp://push.example/x"}, "endpoint"),
        ({"subscription[keys][auth]": "c2hvcnQ="}, "auth"),
        ({"subscription[keys][p256dh]": "%%%"}, "p256dh"),
        ({"data[policy]": "everyone"}, "policy"),
    ):
        resp = await instance.client.post(
            "/api/v1/push/subscription", data={**good, **change}, headers=auth
        )
        assert resp.status == 422 and message in (await resp.json())["error"], (
            change,
            await resp.text(),
        )
    with pytest.raises(MastodonNotFoundError):
        await in_thread(ann.push_subscription)
    # Unknown alert names (a newer Mastodon's) are ignored, not refused.
    resp = await instance.client.post(
        "/api/v1/push/subscription", data={**good, "data[alerts][teleport]": "true"}, headers=auth
    )
    assert resp.status == 200 and "teleport" not in (await resp.json())["alerts"]
    # Without the push scope: refused.
    token = await api_token(instance, "ann", scopes="read")
    resp = await instance.client.get(
        "/api/v1/push/subscription", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 403


async def test_private_push_endpoints_are_refused_unless_allowed(
    make_instance, push_service: PushService
) -> None:  # type: ignore[no-untyped-def]
    instance = await make_instance(run_workers=False)
    fetcher = instance.app[FETCHER]  # as an operator who did not allow private addresses
    fetcher.settings = dataclasses.replace(fetcher.settings, allow_private_addresses=False)
    await instance.create_member("ann")
    bob = await instance.create_member("bob")
    token = await api_token(instance, "ann", scopes="read write push")
    receiver = ec.generate_private_key(ec.SECP256R1())
    point = receiver.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    https_url = push_service.url.replace(
        "http://", "https://"
    )  # passes the form check; the address is loopback
    form = {
        "subscription[endpoint]": https_url,
        "subscription[keys][p256dh]": base64.urlsafe_b64encode(point).decode(),
        "subscription[keys][auth]": base64.urlsafe_b64encode(b"0123456789abcdef").decode(),
        "data[alerts][mention]": "true",
    }
    resp = await instance.client.post(
        "/api/v1/push/subscription", data=form, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 200
    await _mention_ann(instance, bob.actor_id)
    await push_worker.run_once(instance.app)
    assert push_service.received == []
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.push_deliveries))).first()
    assert "private" in (row.last_error or "")


def test_pushed_kinds_match_what_the_api_shows() -> None:
    """A Koers notification is pushed as the Mastodon type the API then shows it as (or not at all)."""
    from server.api.notifications import DEGRADED
    from server.services.push import PUSHED_AS

    assert PUSHED_AS == DEGRADED


async def test_a_key_that_is_no_point_of_the_curve_is_refused(
    make_instance, push_service: PushService
) -> None:  # type: ignore[no-untyped-def]
    # 65 bytes starting with 4 but not a P-256 point: nothing could ever be encrypted for it, so the
    # app learns now (422) instead of every push failing silently later.
    instance = await make_instance(run_workers=False)
    await instance.create_member("ann")
    token = await api_token(instance, "ann", scopes="read push")
    form = {
        "subscription[endpoint]": push_service.url,
        "subscription[keys][p256dh]": base64.urlsafe_b64encode(b"\x04" + b"\x01" * 64).decode(),
        "subscription[keys][auth]": base64.urlsafe_b64encode(b"0123456789abcdef").decode(),
    }
    resp = await instance.client.post(
        "/api/v1/push/subscription", data=form, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status == 422 and "p256dh" in (await resp.json())["error"]


async def _ann_subscribed(make_instance, push_service: PushService):  # type: ignore[no-untyped-def]
    """(instance, ann's Mastodon.py client subscribed to mentions at the push service, bob)."""
    instance = await make_instance(run_workers=False)
    await instance.create_member("ann")
    bob = await instance.create_member("bob")
    ann = await mastodon_for(instance, "ann", scopes=("read", "write", "follow", "push"))
    _, public = await in_thread(ann.push_subscription_generate_keys)
    await in_thread(ann.push_subscription_set, push_service.url, public, mention_events=True)
    return instance, ann, bob


async def test_a_batch_is_sent_within_its_lease_even_when_push_services_stall(
    make_instance, push_service: PushService, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    # A batch is leased as a whole: its deliveries are sent side by side, each within a time limit, so
    # a stalling push service cannot keep the last of them past the lease (when another worker process
    # would claim and send them a second time).
    monkeypatch.setattr(push_worker, "SEND_TIMEOUT", 0.5)
    push_service.delay = 3.0
    instance, ann, bob = await _ann_subscribed(make_instance, push_service)
    for _ in range(3):
        await _mention_ann(instance, bob.actor_id)
    started = asyncio.get_running_loop().time()
    assert await push_worker.run_once(instance.app) == 3
    assert asyncio.get_running_loop().time() - started < 2.5
    async with instance.db.read() as conn:
        rows = list(await conn.execute(sa.select(t.push_deliveries)))
    assert [(r.state, r.attempts) for r in rows] == [("new", 1)] * 3 and all(
        "timed out" in r.last_error for r in rows
    )


async def test_a_notification_a_hide_filter_leaves_out_is_not_pushed(
    make_instance, push_service: PushService
) -> None:  # type: ignore[no-untyped-def]
    # The app would never show it (the notifications list leaves it out): its push must not show it either.
    instance, ann, bob = await _ann_subscribed(make_instance, push_service)
    made = await in_thread(
        ann.create_filter_v2,
        title="Not the keys",
        context=["notifications"],
        filter_action="hide",
        keywords_attributes=[{"keyword": "mat"}],
    )
    await _mention_ann(instance, bob.actor_id)
    assert await push_worker.run_once(instance.app) == 1 and push_service.received == []
    # A warning filter only marks the notification: it is pushed.
    await in_thread(ann.update_filter_v2, made["id"], filter_action="warn")
    await _mention_ann(instance, bob.actor_id)
    await push_worker.run_once(instance.app)
    assert len(push_service.received) == 1


async def test_finished_deliveries_are_purged_after_a_week(instance: Instance) -> None:
    """Sent and failed deliveries are kept for a week, then forgotten; waiting ones are never purged."""
    from datetime import timedelta

    from server import clock

    await instance.create_member("ann")
    token = await api_token(instance, "ann", scopes="read write push")
    async with instance.db.read() as conn:
        token_id = (await conn.execute(sa.select(t.oauth_tokens.c.id))).scalars().all()[-1]
        ann_id = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.username == "ann"))
        ).scalar_one()
    assert token
    old, now = clock.now() - timedelta(days=8), clock.now()
    async with instance.db.write() as conn:
        sub = (
            await conn.execute(
                t.push_subscriptions.insert().values(
                    token_id=token_id,
                    actor_id=ann_id,
                    endpoint="https://push.example/x",
                    p256dh="k",
                    auth="a",
                    alerts={},
                    created_at=now,
                )
            )
        ).inserted_primary_key[0]
        note = (
            await conn.execute(
                t.notifications.insert().values(
                    actor_id=ann_id, type="follow", extra={}, created_at=now
                )
            )
        ).inserted_primary_key[0]
        for state, at in (("sent", old), ("failed", old), ("new", old), ("sent", now)):
            await conn.execute(
                t.push_deliveries.insert().values(
                    subscription_id=sub,
                    notification_id=note,
                    state=state,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
    assert await push_worker.purge(instance.ctx) == 2
    async with instance.db.read() as conn:
        left = sorted((await conn.execute(sa.select(t.push_deliveries.c.state))).scalars().all())
    assert left == ["new", "sent"]
