"""E-mail end to end, with a real SMTP server (aiosmtpd) on loopback and a real HTTP client.

Sign-up mails a confirmation link that lets the member post once followed; a password reset mails
a link that sets the password and logs out every session; a mail server that is down or answers
4xx delays mail without losing it; a 5xx refusal fails it; a restarted instance sends nothing
twice. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import email
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from email.message import Message
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.app import create_app
from server.keys import CTX
from server.services import mail_queue
from server.storage import schema as t
from tests.conftest import PASSWORD, Instance, csrf_from, free_port

pytestmark = pytest.mark.slow


class Inbox:
    """An aiosmtpd handler that keeps what it receives, or answers ``reply`` to DATA."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.reply: str | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.reply:
            return self.reply
        assert isinstance(envelope.content, bytes)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Any:
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


async def until(check: Callable[[], Awaitable[bool] | bool], seconds: float = 15.0) -> None:
    for _ in range(int(seconds * 10)):
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("timed out waiting")


def text_of(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def link_in(message: Message, path: str) -> str:
    m = re.search(r"(https?://\S+" + re.escape(path) + r"\S+)", text_of(message))
    assert m, text_of(message)
    return m.group(1)


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    """A real HTTP client with its own cookies (loopback IPs allowed)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


async def submit(
    session: aiohttp.ClientSession, url: str, data: dict[str, str], *, page: str | None = None
) -> aiohttp.ClientResponse:
    async with session.get(page or url) as resp:
        token = csrf_from(await resp.text())
    resp = await session.post(url, data={"_csrf": token, **data}, allow_redirects=True)
    await resp.read()
    return resp


async def outbox(instance: Instance) -> list[Any]:
    async with instance.db.read() as conn:
        return list(await conn.execute(sa.select(t.mail_outbox).order_by(t.mail_outbox.c.id)))


async def test_sign_up_confirmation_arrives_and_its_link_lets_the_member_post(
    make_instance: Callable[..., Awaitable[Instance]], smtp: SmtpServer, browser: Any
) -> None:
    inst = await make_instance(
        smtp_url=f"smtp://127.0.0.1:{smtp.port}", mail_from="Koers <koers@example.test>"
    )
    resp = await submit(
        browser,
        f"{inst.url}/signup",
        {
            "username": "sam",
            "email": "sam@example.test",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert resp.status == 200 and "confirm your address" in await resp.text()
    await until(lambda: bool(smtp.inbox.to("sam@example.test")))
    (message,) = smtp.inbox.to("sam@example.test")
    assert message["From"] == "Koers <koers@example.test>"
    assert message["List-Unsubscribe"] is None  # security mail
    refused = await submit(browser, f"{inst.url}/compose", {"status": "too early"})
    assert refused.status == 403 and "confirm your e-mail address" in await refused.text()
    async with browser.get(link_in(message, "/mail/confirm/")) as resp:
        assert resp.status == 200 and "Address confirmed" in await resp.text()
    posted = await submit(browser, f"{inst.url}/compose", {"status": "now it works"})
    assert posted.status == 200 and "now it works" in await posted.text()
    async with browser.get(link_in(message, "/mail/confirm/")) as resp:
        assert resp.status == 410 and "used already" in await resp.text()


async def test_password_reset_by_mail_ends_every_session(
    make_instance: Callable[..., Awaitable[Instance]], smtp: SmtpServer, browser: Any
) -> None:
    inst = await make_instance(smtp_url=f"smtp://127.0.0.1:{smtp.port}")
    await inst.create_member("ana")
    old_session = await inst.login("ana")
    assert (await old_session.get("/settings/email")).status == 200

    for address in ("ana@example.test", "nobody@example.test"):
        resp = await submit(browser, f"{inst.url}/password/reset", {"email": address})
        assert resp.status == 200
        assert f"If {address} belongs to an account here" in await resp.text()
    bad = await submit(browser, f"{inst.url}/password/reset", {"email": "not an address"})
    assert bad.status == 422 and "not a valid address" in await bad.text()
    await until(lambda: bool(smtp.inbox.to("ana@example.test")))
    assert smtp.inbox.to("nobody@example.test") == []
    link = link_in(smtp.inbox.to("ana@example.test")[0], "/password/reset/")

    mismatch = await submit(
        browser, link, {"password": "brand new secret", "password_confirm": "other"}
    )
    assert mismatch.status == 422 and "do not match" in await mismatch.text()
    done = await submit(
        browser, link, {"password": "brand new secret", "password_confirm": "brand new secret"}
    )
    assert done.status == 200 and "Your password is changed" in await done.text()
    assert str(done.url).endswith("/login")
    again = await browser.get(link)
    assert again.status == 410 and "used already" in await again.text()

    stale = await old_session.get("/settings/email", allow_redirects=False)
    assert stale.status == 302 and "/login" in stale.headers["Location"]
    assert (await inst.login("ana", "brand new secret")) is not None


async def test_a_mail_server_that_is_down_delays_mail_without_losing_it(
    make_instance: Callable[..., Awaitable[Instance]],
    monkeypatch: pytest.MonkeyPatch,
    browser: Any,
) -> None:
    monkeypatch.setattr(mail_queue, "FIRST_RETRY_SECONDS", 1)
    # The port stays bound but does not listen, so connections are refused and no other test
    # can take it before the server starts there.
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    server = SmtpServer(holder.getsockname()[1])
    inst = await make_instance(smtp_url=f"smtp://127.0.0.1:{server.port}")
    await inst.create_member("ana")
    resp = await submit(browser, f"{inst.url}/password/reset", {"email": "ana@example.test"})
    assert resp.status == 200

    async def tried() -> bool:
        rows = await outbox(inst)
        return bool(rows) and rows[0].attempts >= 1

    await until(tried)
    (row,) = await outbox(inst)
    assert row.state == "new" and row.last_error
    holder.close()
    server.start()
    try:
        await until(lambda: bool(server.inbox.to("ana@example.test")))

        async def sent() -> bool:  # the row is marked once the SMTP session has ended
            return (await outbox(inst))[0].state == "sent"

        await until(sent)
        (row,) = await outbox(inst)
        assert row.attempts >= 2
    finally:
        server.stop()


async def test_a_4xx_is_retried_and_a_5xx_fails(
    make_instance: Callable[..., Awaitable[Instance]],
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(mail_queue, "FIRST_RETRY_SECONDS", 1)
    smtp.inbox.reply = "451 4.3.0 try again later"
    inst = await make_instance(smtp_url=f"smtp://127.0.0.1:{smtp.port}")
    await inst.create_member("ana")
    await inst.create_member("bo")
    from server.services import mail_accounts

    await mail_accounts.request_reset(inst.ctx, "ana@example.test", "127.0.0.1")

    async def retried() -> bool:
        rows = await outbox(inst)
        return rows[0].attempts >= 1

    await until(retried)
    assert (await outbox(inst))[0].state == "new"
    smtp.inbox.reply = None
    await until(lambda: bool(smtp.inbox.to("ana@example.test")))

    smtp.inbox.reply = "550 5.1.1 no such mailbox"
    await mail_accounts.request_reset(inst.ctx, "bo@example.test", "127.0.0.1")

    async def failed() -> bool:
        rows = await outbox(inst)
        return rows[-1].state == "failed"

    await until(failed)
    assert "550" in (await outbox(inst))[-1].last_error


async def test_a_restarted_instance_sends_nothing_twice(
    make_instance: Callable[..., Awaitable[Instance]], smtp: SmtpServer, tmp_path: Path
) -> None:
    inst = await make_instance(smtp_url=f"smtp://127.0.0.1:{smtp.port}")
    await inst.create_member("ana")
    from server.services import mail_accounts

    await mail_accounts.request_reset(inst.ctx, "ana@example.test", "127.0.0.1")
    await until(lambda: len(smtp.inbox.messages) == 1)
    await inst.client.close()  # the instance stops, its workers with it

    again = create_app(inst.settings)
    server = TestServer(again, host="127.0.0.1", port=free_port())
    client = TestClient(server)
    await client.start_server()
    try:
        await mail_accounts.request_reset(again[CTX], "ana@example.test", "127.0.0.1")
        await until(lambda: len(smtp.inbox.messages) == 2)
        await asyncio.sleep(2)  # a few rounds of the worker
        assert len(smtp.inbox.messages) == 2
        ids = {m["Message-ID"] for m in smtp.inbox.messages}
        assert len(ids) == 2
    finally:
        await client.close()


async def test_without_smtp_mail_is_written_as_eml_files(
    make_instance: Callable[..., Awaitable[Instance]], browser: Any
) -> None:
    inst = await make_instance()
    await inst.create_member("ana")
    await submit(browser, f"{inst.url}/password/reset", {"email": "ana@example.test"})
    folder = inst.settings.mail_dir
    await until(lambda: folder.is_dir() and any(folder.glob("*.eml")))
    (path,) = folder.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes())
    assert message["To"] == "ana@example.test"
    async with browser.get(link_in(message, "/password/reset/")) as resp:
        assert resp.status == 200 and "Choose a new password" in await resp.text()


async def test_one_click_unsubscribe_from_a_notification_mail(
    make_instance: Callable[..., Awaitable[Instance]], smtp: SmtpServer, browser: Any
) -> None:
    inst = await make_instance(smtp_url=f"smtp://127.0.0.1:{smtp.port}")
    await inst.create_member("ana")
    bo = await inst.create_member("bo")
    from server.services import posts
    from server.services.posts import Draft

    await posts.create_post(inst.ctx, bo.actor_id, Draft(source="hello @ana"))
    await until(lambda: bool(smtp.inbox.to("ana@example.test")))
    (message,) = smtp.inbox.to("ana@example.test")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    # what a mail client sends (RFC 8058): a POST without cookies or CSRF token
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.post(url, data={"List-Unsubscribe": "One-Click"}) as resp:
            assert resp.status == 200 and "Unsubscribed" in await resp.text()
    async with browser.get(url) as resp:  # the link opened in a browser asks first
        assert resp.status == 200 and "Stop these e-mails?" in await resp.text()
    await posts.create_post(inst.ctx, bo.actor_id, Draft(source="again @ana"))
    await asyncio.sleep(2)
    assert len(smtp.inbox.to("ana@example.test")) == 1
    async with aiohttp.ClientSession() as anonymous:
        async with anonymous.post(url + "x", data={}) as resp:
            assert resp.status == 410
