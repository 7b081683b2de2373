"""Sends the queued mail (``server/services/mail_queue.py``), and queues the weekly digests.

With ``KOERS_SMTP_URL`` each message goes to that server with ``aiosmtplib`` (``smtps://``: TLS
from the start; ``?starttls=true``: STARTTLS after connecting). Without it every message is
written as an ``.eml`` file under ``DATA_DIR/mail/`` (named after its row, so a retry rewrites the
same file), which lets every flow be tried locally. An SMTP answer of 4xx, a refused or dropped
connection or a timeout is temporary (retried); any other refusal is final. A batch is sent side
by side, each message within ``SEND_TIMEOUT``, well inside the lease.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jinja2
import sqlalchemy as sa
from aiohttp import web

from server import periodic
from server.config import Settings
from server.context import Context
from server.keys import CTX
from server.services import mail_digest, mail_queue, mail_render

log = logging.getLogger(__name__)

SEND_TIMEOUT = 30.0
IDLE_SECONDS = 1.0
HOURLY = 3600.0


class Temporary(Exception):
    """The mail server could not take the message now; try again later."""


class Refused(Exception):
    """The mail server refused the message for good."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """``smtp://user:password@host:port?starttls=true`` or ``smtps://…`` (checked by config)."""
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        return cls(
            hostname=parts.hostname or "localhost",
            port=parts.port or (465 if implicit else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=implicit,
            start_tls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes", "on"),
        )


def eml_path(settings: Settings, row: sa.Row) -> Path:
    """Where the file transport writes a message: one name per queued row."""
    stamp = row.created_at.strftime("%Y%m%d-%H%M%S")
    return settings.mail_dir / f"{stamp}-{row.id:06d}-{row.template}.eml"


def write_file(settings: Settings, row: sa.Row, message: EmailMessage) -> Path:
    """Write the message as an ``.eml`` file (whole or not at all)."""
    path = eml_path(settings, row)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(message.as_bytes())
    os.replace(partial, path)
    return path


async def send_smtp(server: SmtpServer, message: EmailMessage) -> None:
    """Hand one message to the SMTP server; Temporary or Refused when it does not take it."""
    # Flattened here, not by aiosmtplib (its SMTP policy folds at 78 columns and would turn a long
    # List-Unsubscribe into an encoded word).
    raw = message.as_bytes(policy=mail_render.POLICY.clone(linesep="\r\n"))
    # Imported here: an instance without KOERS_SMTP_URL writes .eml files and never loads it.
    import aiosmtplib

    try:
        await aiosmtplib.send(
            raw,
            sender=parseaddr(str(message["From"]))[1],
            recipients=[str(message["To"])],
            hostname=server.hostname,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            timeout=SEND_TIMEOUT,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [r.code for r in exc.recipients]
        if codes and all(400 <= c < 500 for c in codes):
            raise Temporary(str(exc)) from exc
        raise Refused(str(exc)) from exc
    except aiosmtplib.SMTPResponseException as exc:
        if 400 <= exc.code < 500:
            raise Temporary(f"{exc.code} {exc.message}") from exc
        raise Refused(f"{exc.code} {exc.message}") from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise Temporary(str(exc) or type(exc).__name__) from exc


async def send_one(ctx: Context, row: sa.Row) -> str:
    """Render and send one leased message; what became of it (sent, new, failed, dropped)."""
    try:
        message = await mail_render.compose(ctx, row)
    except (jinja2.TemplateError, KeyError, TypeError) as exc:  # a row its template cannot show
        log.error("mail %s cannot be rendered: %s", row.id, exc)
        return await mail_queue.finish(ctx.db, row.id, "failed", error=f"render: {exc}"[:1000])
    if message is None:
        return await mail_queue.finish(ctx.db, row.id, "failed", error="nothing left to send")
    try:
        if ctx.settings.smtp_url:
            await send_smtp(SmtpServer.from_url(ctx.settings.smtp_url), message)
        else:
            write_file(ctx.settings, row, message)
    except Temporary as exc:
        log.warning("mail %s not sent yet (%s); will retry", row.id, exc)
        return await mail_queue.finish(ctx.db, row.id, "retry", error=str(exc)[:1000])
    except (Refused, OSError) as exc:  # OSError here: the mail folder cannot be written
        log.error("mail %s refused: %s", row.id, exc)
        return await mail_queue.finish(ctx.db, row.id, "failed", error=str(exc)[:1000])
    return await mail_queue.finish(ctx.db, row.id, "sent")


async def run_once(ctx: Context) -> int:
    """Send what is due now; how many messages were tried."""
    rows = await mail_queue.claim(ctx.db)
    await asyncio.gather(*(send_one(ctx, row) for row in rows))
    return len(rows)


async def hourly(ctx: Context) -> None:
    """Queue the digests that are due and forget old sent mail."""
    await mail_digest.queue_due(ctx)
    await mail_queue.purge(ctx.db)


def describe(settings: Settings) -> str:
    """Where mail goes, for the log (no password)."""
    if not settings.smtp_url:
        return f"no KOERS_SMTP_URL: mail is written as .eml files to {settings.mail_dir}"
    server = SmtpServer.from_url(settings.smtp_url)
    how = "TLS" if server.use_tls else "STARTTLS" if server.start_tls else "plain"
    return f"mail goes to {server.hostname}:{server.port} ({how})"


async def drain(ctx: Context) -> None:
    """Send batches until nothing is due."""
    while await run_once(ctx):
        pass


def setup(app: web.Application) -> None:
    """Run the mail sender and the hourly digest round with the workers (``settings.run_workers``)."""

    async def lifecycle(app: web.Application) -> Any:
        ctx = app[CTX]
        tasks = []
        if ctx.settings.run_workers:
            log.info("%s", describe(ctx.settings))
            tasks = [
                periodic.start("koers-mail", lambda: drain(ctx), IDLE_SECONDS),
                periodic.start("koers-mail-hourly", lambda: hourly(ctx), HOURLY),
            ]
        yield
        for task in tasks:
            await periodic.stop(task)

    app.cleanup_ctx.append(lifecycle)
