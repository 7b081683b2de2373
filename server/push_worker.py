"""Sends queued Web Push notifications to the apps' push services.

Each delivery is claimed with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several worker
processes share the queue; a batch is sent side by side, each push within ``SEND_TIMEOUT``, so none is
still being sent when its lease runs out and another process could claim it), encrypted for the subscription (RFC 8291, ``aes128gcm``), signed with
the instance's VAPID key (RFC 8292) and POSTed through the same guarded HTTP session as federation
(private addresses refused unless the operator allows them). 2xx: sent. 404/410: the app is gone,
its subscription is removed. 429 and 5xx: retried with back-off for a day. Other answers: failed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from aiohttp import web

from federation.errors import FederationError
from federation.state import FETCHER
from server import clock, periodic
from server.context import Context
from server.i18n import N_, gettext, use
from server.keys import CTX
from server.services import filters, push
from server.services.text import html_to_text
from server.services.views import load_actors
from server.storage import schema as t

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 20
SEND_TIMEOUT = (
    30.0  # seconds per push; a batch is sent side by side, so it ends well within its LEASE
)
IDLE_SECONDS = 2.0
GIVE_UP_AFTER = timedelta(days=1)
KEEP_FINISHED = timedelta(days=7)  # sent and failed deliveries are kept this long, for the record
PURGE_EVERY = 3600.0  # seconds
TTL_SECONDS = 48 * 3600
# Translated into the member's language (``users.language``, else KOERS_LANGUAGE).
TITLES = {
    "mention": N_("%(name)s mentioned you"),
    "status": N_("%(name)s posted"),
    "reblog": N_("%(name)s boosted your post"),
    "follow": N_("%(name)s followed you"),
    "follow_request": N_("%(name)s asked to follow you"),
    "favourite": N_("%(name)s favourited your post"),
    "poll": N_("A poll has ended"),
    "update": N_("%(name)s edited a post"),
    "admin.sign_up": N_("%(name)s signed up"),
    "admin.report": N_("%(name)s filed a report"),
}


async def claim(ctx: Context, *, limit: int = BATCH) -> list[int]:
    """Lease up to ``limit`` due deliveries; their ids."""
    now = clock.now()
    d = t.push_deliveries
    async with ctx.db.write() as conn:
        q = (
            sa.select(d.c.id)
            .where(
                d.c.state == "new",
                d.c.next_attempt_at <= now,
                sa.or_(d.c.locked_until.is_(None), d.c.locked_until < now),
            )
            .order_by(d.c.id)
            .limit(limit)
        )
        if not ctx.db.is_sqlite:
            q = q.with_for_update(skip_locked=True)
        ids = [int(r[0]) for r in await conn.execute(q)]
        if ids:
            await conn.execute(d.update().where(d.c.id.in_(ids)).values(locked_until=now + LEASE))
    return ids


async def payload(ctx: Context, delivery_id: int) -> tuple[sa.Row, dict[str, Any]] | None:
    """(subscription row, the JSON the app receives) for a delivery; None when its parts are gone or
    a ``hide`` filter of the member's notifications matches its post."""
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(
                    t.push_subscriptions,
                    t.notifications.c.id.label("notification_id"),
                    t.notifications.c.type.label("type"),
                    t.notifications.c.from_actor_id,
                    t.notifications.c.post_id,
                )
                .join(
                    t.push_deliveries,
                    t.push_deliveries.c.subscription_id == t.push_subscriptions.c.id,
                )
                .join(t.notifications, t.notifications.c.id == t.push_deliveries.c.notification_id)
                .where(t.push_deliveries.c.id == delivery_id)
            )
        ).first()
        if row is None:
            return None
        if row.post_id is not None and await filters.hides(
            conn, row.actor_id, row.post_id, "notifications"
        ):
            return None  # the app's notifications leave it out: no push shows it either
        actors = await load_actors(
            conn, {row.from_actor_id} if row.from_actor_id else set(), ctx.base, ctx.settings.domain
        )
        sender = actors.get(row.from_actor_id) if row.from_actor_id else None
        body = ""
        if row.post_id is not None:
            content = (
                await conn.execute(
                    sa.select(t.posts.c.content_html, t.posts.c.spoiler_text).where(
                        t.posts.c.id == row.post_id
                    )
                )
            ).first()
            if content is not None:
                body = content.spoiler_text or html_to_text(content.content_html)
        elif sender is not None:
            body = html_to_text(sender.summary_html)
        chosen = (
            await conn.execute(
                sa.select(t.users.c.language).where(t.users.c.actor_id == row.actor_id)
            )
        ).scalar()
    language = chosen or ctx.settings.language
    kind = push.PUSHED_AS.get(row.type, row.type)
    name = (sender.display_name or sender.username) if sender else ctx.settings.instance_name
    with use(language):
        title = gettext(TITLES.get(kind, "%(name)s")) % {"name": name}
    data = {
        "access_token": "",
        "preferred_locale": language,
        "notification_id": str(row.notification_id),
        "notification_type": kind,
        "icon": (sender.avatar_url if sender else None) or f"{ctx.base}/static/avatar-missing.png",
        "title": title,
        "body": body[:140] + ("…" if len(body) > 140 else ""),
    }
    return row, data


def encrypt(
    data: dict[str, Any], p256dh: str, auth: str, *, standard: bool
) -> tuple[bytes, dict[str, str]]:
    """The encrypted body and its headers: RFC 8291 ``aes128gcm`` when ``standard``, else the older
    ``aesgcm`` draft (salt and sender key in ``Encryption`` / ``Crypto-Key``), a fresh key per message."""
    import http_ece  # only once a push goes out: not at start-up (tests/test_startup_imports.py)
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    sender = ec.generate_private_key(ec.SECP256R1())
    salt = os.urandom(16)
    plain = json.dumps(data).encode()
    dh, secret = push.b64url_decode(p256dh), push.b64url_decode(auth)
    if standard:
        body = http_ece.encrypt(
            plain, salt=salt, private_key=sender, dh=dh, auth_secret=secret, version="aes128gcm"
        )
        return body, {"Content-Encoding": "aes128gcm"}
    body = http_ece.encrypt(
        plain, salt=salt, private_key=sender, dh=dh, auth_secret=secret, version="aesgcm"
    )
    sender_public = sender.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return body, {
        "Content-Encoding": "aesgcm",
        "Encryption": f"salt={_b64(salt)}",
        "Crypto-Key": f"dh={_b64(sender_public)}",
    }


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def headers_for(ctx: Context, endpoint: str, *, standard: bool) -> dict[str, str]:
    """VAPID authorisation and the Web Push headers for one POST to ``endpoint``."""
    parts = urlsplit(endpoint)
    # Who to contact about these messages: the instance's https address, else its admin mailbox.
    sub = (
        ctx.settings.url
        if ctx.settings.url.startswith("https://")
        else f"mailto:admin@{urlsplit(ctx.settings.url).hostname}"
    )
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "sub": sub,
        "exp": int((clock.now() + timedelta(hours=12)).timestamp()),
    }
    key = push.vapid_key(ctx.settings)
    if standard:  # RFC 8292: "vapid t=…, k=…"
        signed = key.sign(claims)
    else:  # the draft Mastodon sends with aesgcm: "WebPush <jwt>" and the key in Crypto-Key
        from py_vapid import Vapid01  # as http_ece above

        legacy = Vapid01.from_pem(key.private_pem())
        signed = legacy.sign(claims)
    return {
        **signed,
        "Content-Type": "application/octet-stream",
        "TTL": str(TTL_SECONDS),
        "Urgency": "normal",
    }


async def _finish(
    ctx: Context,
    delivery_id: int,
    *,
    state: str | None = None,
    error: str | None = None,
    retry: bool = False,
    drop_subscription: int | None = None,
) -> None:
    d = t.push_deliveries
    async with ctx.db.write() as conn:
        row = (await conn.execute(sa.select(d).where(d.c.id == delivery_id))).first()
        if row is None:
            return
        if drop_subscription is not None:
            await conn.execute(
                t.push_subscriptions.delete().where(t.push_subscriptions.c.id == drop_subscription)
            )
            return
        values: dict[str, Any] = {
            "attempts": row.attempts + 1,
            "locked_until": None,
            "last_error": error,
        }
        if retry and clock.aware(row.created_at) + GIVE_UP_AFTER > clock.now():
            values["next_attempt_at"] = clock.now() + timedelta(
                seconds=min(3600, 30 * 2**row.attempts)
            )
        else:
            values["state"] = state or "failed"
        await conn.execute(d.update().where(d.c.id == delivery_id).values(**values))


async def send_one(app: web.Application, delivery_id: int) -> str:
    """Push one delivery; returns what became of it (sent, gone, retry, failed, dropped)."""
    ctx = app[CTX]
    found = await payload(ctx, delivery_id)
    if found is None:
        async with ctx.db.write() as conn:
            await conn.execute(
                t.push_deliveries.delete().where(t.push_deliveries.c.id == delivery_id)
            )
        return "dropped"
    sub, data = found
    try:
        body, encoding = encrypt(data, sub.p256dh, sub.auth, standard=sub.standard)
        headers = headers_for(ctx, sub.endpoint, standard=sub.standard)
        if (
            "Crypto-Key" in headers and "Crypto-Key" in encoding
        ):  # both keys in one header, as the draft says
            encoding["Crypto-Key"] = f"{encoding['Crypto-Key']};{headers.pop('Crypto-Key')}"
        status = await app[FETCHER].post_bytes(
            sub.endpoint, body, {**headers, **encoding}, total=SEND_TIMEOUT
        )
    except (FederationError, ValueError) as exc:
        await _finish(ctx, delivery_id, error=str(exc), retry=isinstance(exc, FederationError))
        return "retry"
    if 200 <= status < 300:
        await _finish(ctx, delivery_id, state="sent")
        return "sent"
    if status in (404, 410):
        log.info("push subscription %s is gone (%s): removed", sub.id, status)
        await _finish(ctx, delivery_id, drop_subscription=sub.id)
        return "gone"
    retry = status == 429 or status >= 500
    await _finish(ctx, delivery_id, error=f"push service answered {status}", retry=retry)
    return "retry" if retry else "failed"


async def run_once(app: web.Application) -> int:
    """Send what is due now; how many deliveries were handled."""
    ids = await claim(app[CTX])
    # Side by side, each within SEND_TIMEOUT: the last is sent before the batch's lease runs out.
    await asyncio.gather(*(send_one(app, delivery_id) for delivery_id in ids))
    return len(ids)


async def purge(ctx: Context, *, older_than: timedelta = KEEP_FINISHED) -> int:
    """Forget deliveries that were sent or gave up more than ``older_than`` ago; how many."""
    d = t.push_deliveries
    async with ctx.db.write() as conn:
        res = await conn.execute(
            d.delete().where(
                d.c.state.in_(("sent", "failed")), d.c.created_at < clock.now() - older_than
            )
        )
    return int(res.rowcount or 0)


def setup(app: web.Application) -> None:
    """Run the push sender with the workers (``settings.run_workers``)."""

    async def lifecycle(app: web.Application) -> Any:
        task = None
        if app[CTX].settings.run_workers:

            async def loop() -> None:
                purged_at = 0.0
                while True:
                    try:
                        if time.monotonic() - purged_at > PURGE_EVERY:
                            await purge(app[CTX])
                            purged_at = time.monotonic()
                        if not await run_once(app):
                            await asyncio.sleep(IDLE_SECONDS)
                    except (OSError, sa.exc.SQLAlchemyError):
                        if periodic.being_cancelled():  # our own cancellation, turned into this
                            raise
                        log.exception("push delivery failed; trying again shortly")
                        await asyncio.sleep(IDLE_SECONDS * 5)

            task = asyncio.create_task(loop(), name="koers-push")
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.cleanup_ctx.append(lifecycle)
