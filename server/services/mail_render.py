"""Turning a queued message into an e-mail: text and HTML from ``templates/mail/``, the headers.

Every message is ``multipart/alternative`` (plain text first, then HTML), rendered when it is sent
from the row's template name and parameters, so a message waiting in the queue shows the member's
current address. Everything but security mail (address confirmation, password reset) carries
``List-Unsubscribe`` and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` (RFC 8058): a signed
link that stops that kind of mail without logging in (for an invitation, which goes to an address
that is no member's, the link carries the address: ``mail_opt_outs``). The ``Message-ID`` is derived from the row,
so a message retried after a lost answer keeps its identity.
"""

from __future__ import annotations

import email.policy
import functools
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import jinja2
import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncConnection

from server.config import Settings, templates_dir
from server.context import Context
from server.i18n import N_, gettext, use
from server.i18n import jinja as i18n_jinja
from server.i18n.messages import shown
from server.services import mail_opt_outs
from server.services.text import html_to_text
from server.storage import schema as t

# Translated into the recipient's language, then filled in from the message's values.
SUBJECTS = {
    "confirm": N_("Confirm your e-mail address for %(instance)s"),
    "reset": N_("Reset your password on %(instance)s"),
    "email_change": N_("Confirm your new e-mail address for %(instance)s"),
    "email_changed": N_("Your e-mail address on %(instance)s was changed"),
    "invite": N_("%(inviter)s invites you to %(instance)s"),
    "notification": "%(title)s",
    "digest": N_("Your week on %(instance)s"),
}
# Security mail: it answers something the member (or someone with their address) just did, and no
# one may opt out of it.
SECURITY = frozenset({"confirm", "reset", "email_change", "email_changed"})
TITLES = {
    "mention": N_("%(name)s mentioned you"),
    "direct": N_("%(name)s sent you a direct post"),
    "join_request": N_("%(name)s asks to join %(community)s"),
    "approval": N_("You are now a member of %(community)s"),
    "decision_opened": N_("A decision opened in %(community)s"),
}


# Headers are folded at RFC 5322's hard limit only: a long List-Unsubscribe URL must stay one
# unencoded line (the default 78 would fold it into an RFC 2047 encoded word no client reads).
POLICY = email.policy.default.clone(max_line_length=998)


@dataclass(frozen=True, slots=True)
class Recipient:
    address: str
    name: str
    user_id: int | None
    language: str | None = None  # the member's choice; None: the instance's KOERS_LANGUAGE


@functools.cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "mail")),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    i18n_jinja.install(env)
    env.filters["message"] = shown  # a title kept as Message data, in the mail's language
    return env


def _signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret, salt="koers-mail-unsubscribe")


def unsubscribe_token(settings: Settings, user_id: int, kind: str) -> str:
    """The signed part of a one-click unsubscribe link for one kind of mail."""
    return _signer(settings).dumps([user_id, kind])


def read_unsubscribe_token(settings: Settings, token: str) -> tuple[int, str] | None:
    """(member, kind of mail) of an unsubscribe link; None when it is not one of ours."""
    try:
        user_id, kind = _signer(settings).loads(token[:500])
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not isinstance(kind, str):
        return None
    return user_id, kind


def _address_signer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret, salt="koers-mail-unsubscribe-address")


def address_unsubscribe_token(settings: Settings, address: str, kind: str) -> str:
    """The signed part of a one-click unsubscribe link for mail to an address that is no
    member's (an invitation)."""
    return _address_signer(settings).dumps([address, kind])


def read_address_unsubscribe_token(settings: Settings, token: str) -> tuple[str, str] | None:
    """(address, kind of mail) of an address's unsubscribe link; None when it is not one of ours."""
    try:
        address, kind = _address_signer(settings).loads(token[:1000])
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(address, str) or not isinstance(kind, str):
        return None
    return address, kind


async def recipient(conn: AsyncConnection, row: sa.Row) -> Recipient | None:
    """Who a queued message goes to now; None when the member is gone."""
    if row.to_address:
        language = None
        if row.user_id is not None:
            language = (
                await conn.execute(sa.select(t.users.c.language).where(t.users.c.id == row.user_id))
            ).scalar()
        return Recipient(row.to_address, "", row.user_id, language)
    found = (
        await conn.execute(
            sa.select(
                t.users.c.email, t.actors.c.display_name, t.actors.c.username, t.users.c.language
            )
            .join(t.actors, t.actors.c.id == t.users.c.actor_id)
            .where(t.users.c.id == row.user_id, t.users.c.state == "active")
        )
    ).first()
    if found is None:
        return None
    return Recipient(found.email, found.display_name or found.username, row.user_id, found.language)


async def notification_params(conn: AsyncConnection, ctx: Context, params: dict) -> dict | None:
    """What a notification e-mail shows: who, about what, the text and the link; None if gone."""
    n = t.notifications
    row = (await conn.execute(sa.select(n).where(n.c.id == params["notification_id"]))).first()
    if row is None:
        return None
    who = ""
    if row.from_actor_id is not None:
        actor = (
            await conn.execute(
                sa.select(t.actors.c.display_name, t.actors.c.username, t.actors.c.domain).where(
                    t.actors.c.id == row.from_actor_id
                )
            )
        ).first()
        if actor is not None:
            who = actor.display_name or (
                f"@{actor.username}@{actor.domain}" if actor.domain else f"@{actor.username}"
            )
    community = ""
    if row.community_id is not None:
        community = (
            await conn.execute(
                sa.select(t.communities.c.name).where(t.communities.c.id == row.community_id)
            )
        ).scalar() or ""
    text, link = "", f"{ctx.base}/notifications"
    if row.post_id is not None:
        post = (
            await conn.execute(
                sa.select(t.posts.c.content_html, t.posts.c.spoiler_text, t.posts.c.url).where(
                    t.posts.c.id == row.post_id, t.posts.c.deleted_at.is_(None)
                )
            )
        ).first()
        if post is None:
            return None
        text = post.spoiler_text or html_to_text(post.content_html)
        link = post.url or link
    kind = params["kind"]
    title = gettext(TITLES.get(kind, "%(name)s")) % {
        "name": who or gettext("Someone"),
        "community": community,
    }
    return {"kind": kind, "title": title, "who": who, "text": text[:1000], "link": link}


def build(
    settings: Settings,
    row: sa.Row,
    to: Recipient,
    params: dict[str, Any],
) -> EmailMessage:
    """The message of a queued row, ready to send, in the recipient's language."""
    with use(to.language or settings.language):
        return _build(settings, row, to, params)


def _build(
    settings: Settings,
    row: sa.Row,
    to: Recipient,
    params: dict[str, Any],
) -> EmailMessage:
    env = _env()
    values = {"instance": settings.instance_name, "base": settings.url, "name": to.name, **params}
    unsubscribe = None
    if row.template not in SECURITY and to.user_id is not None:
        kind = "digest" if row.template == "digest" else str(params.get("kind", row.template))
        unsubscribe = (
            f"{settings.url}/mail/unsubscribe/{unsubscribe_token(settings, to.user_id, kind)}"
        )
    elif row.template not in SECURITY:  # to an address that is no member's (an invitation)
        token = address_unsubscribe_token(settings, to.address, row.template)
        unsubscribe = f"{settings.url}/mail/unsubscribe/{token}"
    values["unsubscribe"] = unsubscribe
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = (gettext(SUBJECTS[row.template]) % values).strip()[:200]
    msg["From"] = settings.mail_sender
    msg["To"] = to.address
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    stamp = int(row.created_at.timestamp())
    msg["Message-ID"] = f"<koers-mail-{row.id}.{stamp}@{settings.hostname or 'localhost'}>"
    msg["Auto-Submitted"] = "auto-generated"
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # quoted-printable: readable in an .eml file, safe for any server
    text = env.get_template(f"{row.template}.txt").render(values)
    msg.set_content(text, cte="quoted-printable")
    html = env.get_template(f"{row.template}.html").render(values)
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    return msg


async def compose(ctx: Context, row: sa.Row) -> EmailMessage | None:
    """Render a queued row; None when what it was about (the member, the notification) is gone."""
    async with ctx.db.read() as conn:
        to = await recipient(conn, row)
        if to is None:
            return None
        if to.user_id is None and await mail_opt_outs.opted_out(conn, to.address, row.template):
            return None
        params = dict(row.params or {})
        if row.template == "notification":
            with use(to.language or ctx.settings.language):
                found = await notification_params(conn, ctx, params)
            if found is None:
                return None
            params = found
    return build(ctx.settings, row, to, params)
