"""Single sign-on end to end against a real OpenID provider (``oidc-provider`` on Node, loopback),
with a real HTTP client that keeps cookies: first sign-in, later sign-ins, linking a password
account, registration modes, suspension, the OAuth authorize page, bad callbacks, a provider
that is down. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from server.storage import schema as t
from tests.conftest import PASSWORD, Instance
from tests.oidc_peer import (
    Provider,
    browser_session,
    provider_login,
    provider_missing,
    running_provider,
)

MakeInstance = Callable[..., Awaitable[Instance]]


@pytest.fixture
def oidc(tmp_path: Path) -> Iterator[Provider]:
    reason = provider_missing()
    if reason:
        pytest.skip(reason)
    with running_provider(tmp_path) as provider:
        yield provider


async def _me(session, base: str) -> str | None:  # type: ignore[no-untyped-def]
    """The signed-in member's username, from the page header (None when signed out)."""
    page = await session.get(base + "/settings/profile", allow_redirects=False)
    if page.status != 200:
        return None
    m = re.search(r'href="/@([a-z0-9_]+)"', await page.text())
    return m.group(1) if m else ""


async def _users(inst: Instance) -> list[sa.Row]:
    async with inst.db.read() as conn:
        return list(
            await conn.execute(
                sa.select(t.users.c.id, t.users.c.email, t.users.c.state, t.actors.c.username)
                .join(t.actors, t.actors.c.id == t.users.c.actor_id)
                .order_by(t.users.c.id)
            )
        )


async def test_first_sign_in_creates_the_member_and_lands_where_they_were_going(
    make_instance: MakeInstance, oidc: Provider
) -> None:
    inst = await make_instance(**oidc.settings())
    oidc.set_account(
        "sub-ana", email="Ana.Lopez@example.org", preferred_username="ana.lopez", name="Ana López"
    )
    async with browser_session() as browser:
        login_page = await (await browser.get(inst.url + "/login?next=/settings/profile")).text()
        assert "Log in with Test ID" in login_page
        href = re.search(r'href="(/auth/oidc/login[^"]*)"', login_page)
        assert href
        landed = await provider_login(
            browser, inst.url + href.group(1).replace("&amp;", "&"), "sub-ana"
        )
        assert landed.status == 200 and landed.url.path == "/settings/profile"
        assert await _me(browser, inst.url) == "ana_lopez"
    users = await _users(inst)
    assert [(u.username, u.email, u.state) for u in users] == [
        ("ana_lopez", "ana.lopez@example.org", "active")
    ]
    async with inst.db.read() as conn:
        identity = (await conn.execute(sa.select(t.oidc_identities))).one()
        pending = (
            await conn.execute(sa.select(sa.func.count()).select_from(t.oidc_logins))
        ).scalar()
    assert (identity.issuer, identity.subject, identity.user_id) == (
        oidc.issuer,
        "sub-ana",
        users[0].id,
    )
    assert pending == 0  # the sign-in row was used up
    # a later sign-in in another browser finds the same member, even after the e-mail changed
    oidc.set_account("sub-ana", email="ana@new.example.org", preferred_username="someone_else")
    async with browser_session() as browser:
        landed = await provider_login(browser, inst.url + "/auth/oidc/login", "sub-ana")
        assert landed.url.path == "/home"
        assert await _me(browser, inst.url) == "ana_lopez"
    assert len(await _users(inst)) == 1


async def test_a_password_account_links_once_after_its_password(
    make_instance: MakeInstance, oidc: Provider
) -> None:
    inst = await make_instance(**oidc.settings())
    await inst.create_member("bo")  # bo@example.test
    oidc.set_account("sub-bo", email="bo@example.test", preferred_username="bo")
    async with browser_session() as browser:
        landed = await provider_login(browser, inst.url + "/auth/oidc/login", "sub-bo")
        text = await landed.text()
        assert landed.url.path == "/login" and "Log in with its password once" in text
        assert await _me(browser, inst.url) is None  # the e-mail alone signs nobody in
        token = re.search(r'name="_csrf" value="([^"]+)"', text)
        assert token
        done = await browser.post(
            inst.url + "/login",
            data={"_csrf": token.group(1), "login": "bo", "password": PASSWORD, "next": "/home"},
        )
        assert done.url.path == "/home" and "is linked" in await done.text()
    async with browser_session() as browser:
        await provider_login(browser, inst.url + "/auth/oidc/login", "sub-bo")
        assert await _me(browser, inst.url) == "bo"
    assert [u.username for u in await _users(inst)] == ["bo"]


async def test_approval_mode_queues_the_new_member(
    make_instance: MakeInstance, oidc: Provider
) -> None:
    inst = await make_instance(**oidc.settings(), registrations="approval")
    async with browser_session() as browser:
        landed = await provider_login(browser, inst.url + "/auth/oidc/login", "sub-new")
        assert landed.url.path == "/login"
        assert "An administrator will review" in await landed.text()
        assert await _me(browser, inst.url) is None
    assert [(u.username, u.state) for u in await _users(inst)] == [("sub_new", "pending")]


async def test_a_suspended_member_cannot_get_in(
    make_instance: MakeInstance, oidc: Provider
) -> None:
    inst = await make_instance(**oidc.settings())
    async with browser_session() as browser:
        await provider_login(browser, inst.url + "/auth/oidc/login", "sub-sus")
    async with inst.db.write() as conn:
        await conn.execute(
            t.actors.update().where(t.actors.c.username == "sub_sus").values(suspended=True)
        )
    async with browser_session() as browser:
        landed = await provider_login(browser, inst.url + "/auth/oidc/login", "sub-sus")
        assert landed.status == 403 and "suspended" in await landed.text()
        assert await _me(browser, inst.url) is None


async def test_the_oauth_authorize_page_offers_it_and_comes_back_to_consent(
    make_instance: MakeInstance, oidc: Provider
) -> None:
    inst = await make_instance(**oidc.settings())
    app = await (
        await inst.client.post(
            "/api/v1/apps",
            data={
                "client_name": "Phone app",
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read",
            },
        )
    ).json()
    query = urlencode(
        {
            "client_id": app["client_id"],
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "response_type": "code",
            "scope": "read",
        }
    )
    async with browser_session() as browser:
        page = await (await browser.get(f"{inst.url}/oauth/authorize?{query}")).text()
        href = re.search(r'href="(/auth/oidc/login[^"]*)"', page)
        assert href and "Log in with Test ID" in page
        landed = await provider_login(
            browser, inst.url + href.group(1).replace("&amp;", "&"), "sub-app"
        )
        text = await landed.text()
        assert landed.url.path == "/oauth/authorize" and 'value="approve"' in text
        assert "Phone app" in text and "@sub_app" in text


async def test_bad_callbacks_sign_nobody_in(
    make_instance: MakeInstance, oidc: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    inst = await make_instance(**oidc.settings())
    async with browser_session() as browser:
        for query in ("", "?code=abc", "?code=abc&state=made-up"):
            caplog.clear()
            answer = await browser.get(f"{inst.url}/auth/oidc/callback{query}")
            assert answer.status == 400
            assert "Sign-in did not work" in await answer.text()
            assert any("single sign-on failed" in r.getMessage() for r in caplog.records)
        # the provider's own answer, replayed: the state was used, so the second time is refused
        start = await browser.get(inst.url + "/auth/oidc/login", allow_redirects=True)
        html = await start.text()
        action = re.search(r'<form[^>]*action="([^"]+)"', html)
        assert action
        back = await browser.post(
            action.group(1),
            data={"prompt": "login", "login": "sub-r", "password": "x"},
            allow_redirects=False,
        )
        while back.headers.get("Location", "").find("/auth/oidc/callback") < 0:
            back = await browser.get(back.headers["Location"], allow_redirects=False)
        callback = back.headers["Location"]
        # the provider's answer opened in another browser is refused, and not used up
        async with browser_session() as other:
            stolen = await other.get(callback, allow_redirects=False)
            assert stolen.status == 400 and await _me(other, inst.url) is None
        first = await browser.get(callback, allow_redirects=False)
        assert first.status == 302 and first.headers["Location"] == "/home"
        # replayed (even by the same browser, signed out): the state was used once, so refused
        browser.cookie_jar.clear_domain("127.0.0.1")
        replay = await browser.get(callback, allow_redirects=False)
        assert replay.status == 400 and await _me(browser, inst.url) is None


async def test_a_provider_that_is_down_is_a_clear_page(
    make_instance: MakeInstance, tmp_path: Path
) -> None:
    from tests.conftest import free_port

    inst = await make_instance(
        oidc_issuer=f"http://127.0.0.1:{free_port()}",
        oidc_client_id="x",
        oidc_client_secret="y",
        oidc_name="Down ID",
    )
    answer = await inst.client.get("/auth/oidc/login", allow_redirects=False)
    assert answer.status == 502 and "could not be reached" in await answer.text()


async def test_sso_pages_are_not_found_without_a_provider(instance: Instance) -> None:
    assert (await instance.client.get("/auth/oidc/login", allow_redirects=False)).status == 404
    assert "Log in with" not in await (await instance.client.get("/login")).text()


async def test_oidc_only_hides_passwords_but_for_a_break_glass_admin(
    make_instance: MakeInstance, oidc: Provider
) -> None:
    inst = await make_instance(**oidc.settings(oidc_only=True))
    await inst.create_member("ana")
    await inst.create_member("root1", admin=True)
    page = await (await inst.client.get("/login")).text()
    assert "Log in with Test ID" in page and 'name="password"' not in page
    signup = await (await inst.client.get("/signup")).text()
    assert "Log in with Test ID" in signup and 'name="password"' not in signup
    glass = await (await inst.client.get("/login?password=1")).text()
    token = re.search(r'name="_csrf" value="([^"]+)"', glass)
    assert token and 'name="password"' in glass
    refused = await inst.client.post(
        "/login",
        data={"_csrf": token.group(1), "login": "ana", "password": PASSWORD},
        allow_redirects=False,
    )
    assert refused.status == 403 and "Test ID only" in await refused.text()
    admin = await inst.client.post(
        "/login",
        data={"_csrf": token.group(1), "login": "root1", "password": PASSWORD},
        allow_redirects=False,
    )
    assert admin.status == 302
