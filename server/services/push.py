"""Web Push subscriptions of Mastodon apps, and the queue of notifications to push.

An app subscribes per access token: its push service's endpoint, the keys to encrypt for (RFC 8291)
and which notification types it wants. ``enqueue`` runs inside the transaction that writes a
notification (``notifications.notify``) and queues one delivery per matching subscription, so a
notification that was rolled back is never pushed. ``server/push_worker.py`` sends them, signed
with the instance's VAPID key (RFC 8292), which lives in the data directory.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.config import Settings
from server.context import Context
from server.errors import NotFound, ValidationError
from server.i18n.messages import Message
from server.storage import schema as t

if TYPE_CHECKING:
    from py_vapid import Vapid02

ALERTS = (
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
    "quote",
    "quoted_update",
)
POLICIES = ("all", "followed", "follower", "none")
# Koers' own notification kinds are pushed as the Mastodon kind the client API shows them as
# (``server.api.notifications.DEGRADED``; a test keeps the two equal); the others are not pushed.
PUSHED_AS = {
    "koers.proposal": "status",
    "koers.decision_opened": "status",
    "koers.result": "status",
    "koers.idea": "status",
    "koers.idea_update": "status",
    "koers.decision_closed": "poll",
}
VAPID_FILE = "vapid_private.pem"


@dataclass(frozen=True, slots=True)
class Subscription:
    """A push subscription as the API shows it."""

    id: int
    endpoint: str
    alerts: dict[str, bool]
    policy: str
    standard: bool = False


def b64url_decode(value: str) -> bytes:
    """Base64url (padding optional), or ValueError."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


_KEYS: dict[str, Vapid02] = {}


def vapid_key(settings: Settings) -> Vapid02:
    """The instance's VAPID key pair, created in the data directory on first use."""
    # Imported here: py_vapid is needed once an app asks for the key or a push goes out, not
    # at start-up (``tests/test_startup_imports.py``).
    from py_vapid import Vapid02

    path = Path(settings.data_dir) / VAPID_FILE
    if str(path) in _KEYS:
        return _KEYS[str(path)]
    if path.exists():
        return _KEYS.setdefault(str(path), Vapid02.from_file(str(path)))
    key = Vapid02()
    key.generate_keys()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(key.private_pem())
    os.chmod(tmp, 0o600)
    try:
        os.link(tmp, path)  # only if absent: a process that raced us keeps its key, and we read it
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return _KEYS.setdefault(str(path), Vapid02.from_file(str(path)))


def vapid_public_key(settings: Settings) -> str:
    """The public key apps give their push service (base64url, uncompressed point)."""
    from cryptography.hazmat.primitives import serialization  # not at start-up

    raw = vapid_key(settings).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def check_alerts(given: dict[str, Any], current: dict[str, bool] | None = None) -> dict[str, bool]:
    """Alerts from the request; unnamed ones keep their value (or are off). Names this server does not
    know (a newer Mastodon's) are ignored, as apps send what their own version knows."""
    out = {a: bool((current or {}).get(a, False)) for a in ALERTS}
    out.update({k: bool(v) for k, v in given.items() if k in ALERTS})
    return out


def _check_policy(policy: str | None) -> str:
    if policy in (None, ""):
        return "all"
    if policy not in POLICIES:
        raise ValidationError(
            Message("data[policy]: one of %(choices)s", choices=", ".join(POLICIES)),
            field="data[policy]",
        )
    return policy


def _check_endpoint(endpoint: str, keys: tuple[str, str], *, allow_http: bool) -> None:
    parts = urlsplit(endpoint)
    if (
        parts.scheme not in (("https", "http") if allow_http else ("https",))
        or not parts.hostname
        or len(endpoint) > 2048
    ):
        raise ValidationError(
            "subscription[endpoint]: an https URL", field="subscription[endpoint]"
        )
    from cryptography.hazmat.primitives.asymmetric import ec  # not at start-up

    p256dh, auth = keys
    try:
        point, secret = b64url_decode(p256dh), b64url_decode(auth)
    except ValueError:
        raise ValidationError(
            "subscription[keys]: base64url values", field="subscription[keys]"
        ) from None
    try:  # an uncompressed P-256 point, on the curve (nothing could be encrypted for anything else)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        on_curve = len(point) == 65
    except ValueError:
        on_curve = False
    if not on_curve:
        raise ValidationError(
            "subscription[keys][p256dh]: a P-256 public key", field="subscription[keys][p256dh]"
        )
    if len(secret) != 16:
        raise ValidationError(
            "subscription[keys][auth]: 16 bytes", field="subscription[keys][auth]"
        )


async def subscribe(
    ctx: Context,
    token_id: int,
    actor_id: int,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    alerts: dict[str, Any],
    policy: str | None,
    standard: bool = False,
) -> None:
    """Create the token's subscription, replacing the one it had (as Mastodon does)."""
    _check_endpoint(endpoint, (p256dh, auth), allow_http=ctx.settings.allow_private_addresses)
    checked, policy = check_alerts(alerts), _check_policy(policy)
    async with ctx.db.write() as conn:
        await conn.execute(
            t.push_subscriptions.delete().where(t.push_subscriptions.c.token_id == token_id)
        )
        await conn.execute(
            t.push_subscriptions.insert().values(
                token_id=token_id,
                actor_id=actor_id,
                endpoint=endpoint,
                p256dh=p256dh,
                auth=auth,
                alerts=checked,
                policy=policy,
                standard=standard,
                created_at=clock.now(),
            )
        )


async def get(conn: AsyncConnection, token_id: int) -> Subscription:
    """The token's subscription, or NotFound."""
    row = (
        await conn.execute(
            sa.select(t.push_subscriptions).where(t.push_subscriptions.c.token_id == token_id)
        )
    ).first()
    if row is None:
        raise NotFound("Record not found")
    return Subscription(
        id=row.id,
        endpoint=row.endpoint,
        alerts=dict(row.alerts),
        policy=row.policy,
        standard=row.standard,
    )


async def update(
    ctx: Context, token_id: int, *, alerts: dict[str, Any], policy: str | None
) -> None:
    """Change which notifications the token's subscription wants."""
    async with ctx.db.write() as conn:
        current = await get(conn, token_id)
        values: dict[str, Any] = {"alerts": check_alerts(alerts, current.alerts)}
        if policy not in (None, ""):
            values["policy"] = _check_policy(policy)
        await conn.execute(
            t.push_subscriptions.update()
            .where(t.push_subscriptions.c.id == current.id)
            .values(**values)
        )


async def unsubscribe(ctx: Context, token_id: int) -> None:
    """Remove the token's subscription (nothing to remove is fine)."""
    async with ctx.db.write() as conn:
        await conn.execute(
            t.push_subscriptions.delete().where(t.push_subscriptions.c.token_id == token_id)
        )


async def _follows(conn: AsyncConnection, follower_id: int, target_id: int) -> bool:
    found = await conn.execute(
        sa.select(1).where(
            t.follows.c.follower_id == follower_id,
            t.follows.c.target_id == target_id,
            t.follows.c.state == "accepted",
        )
    )
    return found.first() is not None


async def enqueue(
    conn: AsyncConnection,
    notification_id: int,
    actor_id: int,
    type_: str,
    from_actor_id: int | None,
) -> int:
    """In the notification's transaction: queue it for the member's matching subscriptions."""
    kind = PUSHED_AS.get(type_, type_)
    if kind not in ALERTS:
        return 0
    now = clock.now()
    live = sa.and_(
        t.oauth_tokens.c.revoked_at.is_(None),
        sa.or_(t.oauth_tokens.c.expires_at.is_(None), t.oauth_tokens.c.expires_at > now),
    )
    subs = list(
        await conn.execute(
            sa.select(t.push_subscriptions)
            .join(t.oauth_tokens, t.oauth_tokens.c.id == t.push_subscriptions.c.token_id)
            .where(t.push_subscriptions.c.actor_id == actor_id, live)
        )
    )
    queued = 0
    for sub in subs:
        if not sub.alerts.get(kind) or sub.policy == "none":
            continue
        if sub.policy == "followed" and (
            from_actor_id is None or not await _follows(conn, actor_id, from_actor_id)
        ):
            continue
        if sub.policy == "follower" and (
            from_actor_id is None or not await _follows(conn, from_actor_id, actor_id)
        ):
            continue
        await conn.execute(
            t.push_deliveries.insert().values(
                subscription_id=sub.id,
                notification_id=notification_id,
                next_attempt_at=now,
                created_at=now,
            )
        )
        queued += 1
    return queued
