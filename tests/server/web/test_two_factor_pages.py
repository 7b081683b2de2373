"""Two-factor sign-in through the pages: turning it on, the code step after the password (login
page and OAuth authorize page), recovery codes, the password grant refused, an administrator
made to set it up when the operator requires it, and the throttle on the code form."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable

import pyotp
from aiohttp.test_utils import TestClient
from itsdangerous import URLSafeTimedSerializer

from server.services import totp
from tests.conftest import PASSWORD, Instance, csrf_from

MakeInstance = Callable[..., Awaitable[Instance]]
OOB = "urn:ietf:wg:oauth:2.0:oob"


def _now(secret: str, offset: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * offset)


async def _turn_on(client: TestClient) -> tuple[str, list[str]]:
    page = await (await client.get("/settings/security")).text()
    assert "Two-factor sign-in is <strong>off</strong>" in page
    setup = await client.post(
        "/settings/2fa/setup", data={"_csrf": csrf_from(page)}, allow_redirects=False
    )
    html = await setup.text()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html)
    assert secret and "otpauth://totp/" in html
    wrong = await client.post(
        "/settings/2fa/confirm", data={"_csrf": csrf_from(html), "code": "000000"}
    )
    assert wrong.status == 422
    done = await client.post(
        "/settings/2fa/confirm", data={"_csrf": csrf_from(html), "code": _now(secret.group(1), -1)}
    )
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", await done.text())
    assert done.status == 200 and len(codes) == 10
    return secret.group(1), codes


async def _password(client: TestClient, username: str, next_url: str = "/home"):  # type: ignore[no-untyped-def]
    page = await (await client.get("/login")).text()
    return await client.post(
        "/login",
        data={"_csrf": csrf_from(page), "login": username, "password": PASSWORD, "next": next_url},
        allow_redirects=False,
    )


async def _code(client: TestClient, code: str):  # type: ignore[no-untyped-def]
    page = await client.get("/login/2fa")
    assert page.status == 200, await page.text()
    return await client.post(
        "/login/2fa",
        data={"_csrf": csrf_from(await page.text()), "code": code},
        allow_redirects=False,
    )


async def test_password_login_asks_for_the_code(instance: Instance) -> None:
    await instance.create_member("ana")
    secret, codes = await _turn_on(await instance.login("ana"))
    browser = await instance.new_client()
    first = await _password(browser, "ana", "/settings/profile")
    assert first.status == 302 and first.headers["Location"] == "/login/2fa"
    # not signed in yet
    assert (await browser.get("/settings/profile", allow_redirects=False)).status == 302
    wrong = await _code(browser, "000000")
    assert wrong.status == 403 and "not right" in await wrong.text()
    right = await _code(browser, _now(secret))
    assert right.status == 302 and right.headers["Location"] == "/settings/profile"
    profile = await browser.get("/settings/profile", allow_redirects=False)
    assert profile.status == 200 and 'href="/settings/security"' in await profile.text()
    # a recovery code works once, in another browser
    other = await instance.new_client()
    await _password(other, "ana")
    assert (await _code(other, codes[0])).status == 302
    again = await instance.new_client()
    await _password(again, "ana")
    assert (await _code(again, codes[0])).status == 403
    # the code step without a password first is not a way in
    stranger = await instance.new_client()
    assert (await stranger.get("/login/2fa", allow_redirects=False)).headers["Location"] == "/login"


async def test_the_code_form_is_throttled_per_account_and_address(instance: Instance) -> None:
    await instance.create_member("ana")
    secret, _ = await _turn_on(await instance.login("ana"))
    browser = await instance.new_client()
    await _password(browser, "ana")
    for _ in range(totp.MAX_PER_ACCOUNT_AND_ADDRESS):
        assert (await _code(browser, "123456")).status == 403
    limited = await _code(browser, _now(secret))
    assert limited.status == 429 and "too many" in await limited.text()


async def test_the_oauth_password_grant_refuses_two_factor_accounts(instance: Instance) -> None:
    await instance.create_member("ana")
    await _turn_on(await instance.login("ana"))
    app = await (
        await instance.client.post(
            "/api/v1/apps", data={"client_name": "cli", "redirect_uris": OOB}
        )
    ).json()
    answer = await instance.client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": "ana",
            "password": PASSWORD,
        },
    )
    body = await answer.json()
    assert answer.status == 400 and body["error"] == "invalid_grant"
    assert "two-factor" in body["error_description"]


async def test_the_oauth_authorize_page_asks_for_the_code_then_consent(instance: Instance) -> None:
    await instance.create_member("ana")
    secret, _ = await _turn_on(await instance.login("ana"))
    app = await (
        await instance.client.post(
            "/api/v1/apps", data={"client_name": "Phone", "redirect_uris": OOB}
        )
    ).json()
    browser = await instance.new_client()
    q = {
        "client_id": app["client_id"],
        "redirect_uri": OOB,
        "response_type": "code",
        "scope": "read",
    }
    html = await (await browser.get("/oauth/authorize", params=q)).text()
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))
    step = await browser.post(
        "/oauth/authorize",
        data={**form, "_csrf": csrf_from(html), "login": "ana", "password": PASSWORD},
        allow_redirects=False,
    )
    assert step.status == 302 and step.headers["Location"] == "/login/2fa"
    back = await _code(browser, _now(secret))
    assert back.headers["Location"].startswith("/oauth/authorize?")
    consent = await (await browser.get(back.headers["Location"])).text()
    assert 'value="approve"' in consent and "@ana" in consent


async def test_required_for_admins_they_set_it_up_before_signing_in(
    make_instance: MakeInstance,
) -> None:
    inst = await make_instance(require_2fa_admins=True)
    await inst.create_member("root1", admin=True)
    await inst.create_member("ana")
    assert (await _password(await inst.new_client(), "ana")).headers["Location"] == "/home"
    browser = await inst.new_client()
    first = await _password(browser, "root1", "/admin")
    assert first.headers["Location"] == "/login/2fa/setup"
    assert (await browser.get("/admin", allow_redirects=False)).status == 302  # not in yet
    page = await (await browser.get("/login/2fa/setup")).text()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert secret
    done = await browser.post(
        "/login/2fa/setup", data={"_csrf": csrf_from(page), "code": _now(secret.group(1))}
    )
    text = await done.text()
    assert done.status == 200 and 'href="/admin"' in text and "recovery" in text.lower()
    assert (await browser.get("/admin", allow_redirects=False)).status == 200
    # from now on the code is asked for
    again = await _password(await inst.new_client(), "root1")
    assert again.headers["Location"] == "/login/2fa"


async def test_turning_it_off_needs_a_code(instance: Instance) -> None:
    await instance.create_member("ana")
    client = await instance.login("ana")
    secret, codes = await _turn_on(client)
    page = await (await client.get("/settings/security")).text()
    assert "10 recovery codes left" in page
    wrong = await client.post("/settings/2fa/disable", data={"_csrf": csrf_from(page), "code": "1"})
    assert wrong.status == 422 and "not right" in await wrong.text()
    off = await client.post(
        "/settings/2fa/disable",
        data={"_csrf": csrf_from(page), "code": codes[3]},
        allow_redirects=False,
    )
    assert off.status == 302
    assert (await _password(await instance.new_client(), "ana")).headers["Location"] == "/home"


async def test_an_admin_session_without_two_factor_is_sent_to_set_it_up(
    make_instance: MakeInstance,
) -> None:
    """An administrator signed in another way (an older session, single sign-on) is asked too."""
    plain = await make_instance()
    await plain.create_member("root1", admin=True)
    assert (await (await plain.login("root1")).get("/admin", allow_redirects=False)).status == 200
    inst = await make_instance(require_2fa_admins=True)
    account = await inst.create_member("root1", admin=True)
    client = await inst.new_client()
    await sign_in_directly(inst, client, account.user_id)
    moved = await client.get("/admin", allow_redirects=False)
    assert moved.status == 302 and moved.headers["Location"] == "/settings/security"
    await _turn_on(client)
    assert (await client.get("/admin", allow_redirects=False)).status == 200


async def sign_in_directly(inst: Instance, client: TestClient, user_id: int) -> None:
    """A session for ``user_id`` as single sign-on makes one (no password step)."""
    cookie = URLSafeTimedSerializer(inst.settings.secret, salt="koers-session").dumps(
        {"uid": user_id, "csrf": "test-csrf-token"}
    )
    client.session.cookie_jar.update_cookies({"koers_session": cookie})


async def test_the_setup_page_shows_a_qr_code_drawn_on_the_server(instance: Instance) -> None:
    """No script needed: an SVG image with alt text, the key beside it as text."""
    import html as html_lib
    import urllib.parse
    import xml.etree.ElementTree as ET

    await instance.create_member("ana")
    client = await instance.login("ana")
    page = await (await client.get("/settings/security")).text()
    setup = await client.post("/settings/2fa/setup", data={"_csrf": csrf_from(page)})
    html = await setup.text()
    img = re.search(r'<img class="totp-qr" src="([^"]+)"\s+alt="([^"]+)"', html)
    assert img, html
    src, alt = html_lib.unescape(img.group(1)), img.group(2)
    assert "QR code" in alt and "key shown below" in alt
    assert re.search(r'id="totp-secret">[A-Z2-7]{16,}<', html)
    assert "<script" not in html.split("<main", 1)[-1].split("</main>", 1)[0]
    prefix = "data:image/svg+xml;charset=utf-8,"
    assert src.startswith(prefix)
    svg = ET.fromstring(urllib.parse.unquote(src[len(prefix) :]))
    assert svg.tag.endswith("svg") and svg.find(".//{http://www.w3.org/2000/svg}path") is not None
    uri = html_lib.unescape(re.search(r'<a href="(otpauth://totp/[^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert src == totp.provisioning_qr(uri)  # the code holds the link's URI
