"""Sign-up by registration mode, the admin approval queue, invites, and the login throttle."""

from __future__ import annotations

import sqlalchemy as sa

from server.services import accounts
from server.storage import schema as t
from tests.conftest import PASSWORD, csrf_from, post_form


def _signup(name: str, **extra: str) -> dict:
    return {
        "username": name,
        "email": f"{name}@example.test",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        **extra,
    }


async def _try_login(client, name: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return await post_form(client, "/login", {"login": name, "password": password, "next": "/home"})


async def test_approval_mode_queue_and_login_after_approval(make_instance):
    instance = await make_instance(registrations="approval")
    await instance.create_member("boss", admin=True)
    visitor = await instance.new_client()
    resp = await post_form(
        visitor, "/signup", _signup("dana", reason="I run the allotments"), page="/signup"
    )
    assert resp.status == 302 and resp.headers["Location"] == "/login"
    refused = await _try_login(visitor, "dana")
    assert refused.status == 403 and "waiting for approval" in await refused.text()

    admin = await instance.login("boss")
    queue = await (await admin.get("/admin")).text()
    assert "@dana" in queue and "I run the allotments" in queue
    async with instance.db.read() as conn:
        user_id = (
            await conn.execute(
                sa.select(t.users.c.id).where(t.users.c.email == "dana@example.test")
            )
        ).scalar()
    # Not for ordinary members.
    await instance.create_member("eve")
    eve = await instance.login("eve")
    assert (await eve.get("/admin")).status == 403
    assert (await post_form(eve, f"/admin/users/{user_id}/approve", {}, page="/home")).status == 403
    assert (await _try_login(visitor, "dana")).status == 403

    assert (
        await post_form(admin, f"/admin/users/{user_id}/approve", {}, page="/admin")
    ).status == 302
    assert (await _try_login(visitor, "dana")).status == 302
    assert "@dana" not in (await (await admin.get("/admin")).text()).split("Accounts")[0]


async def test_admin_rejects_signup(make_instance):
    instance = await make_instance(registrations="approval")
    await instance.create_member("boss", admin=True)
    visitor = await instance.new_client()
    await post_form(visitor, "/signup", _signup("spam"), page="/signup")
    admin = await instance.login("boss")
    async with instance.db.read() as conn:
        user_id = (
            await conn.execute(
                sa.select(t.users.c.id).where(t.users.c.email == "spam@example.test")
            )
        ).scalar()
    assert (
        await post_form(admin, f"/admin/users/{user_id}/reject", {}, page="/admin")
    ).status == 302
    assert (await instance.client.get("/@spam")).status == 404


async def test_invite_mode_needs_a_valid_invite(make_instance):
    instance = await make_instance(registrations="invite")
    boss = await instance.create_member("boss", admin=True)
    visitor = await instance.new_client()
    assert (await visitor.get("/signup")).status == 403
    resp = await post_form(visitor, "/signup", _signup("fay"), page="/login")
    assert resp.status == 403
    resp = await post_form(visitor, "/signup", _signup("fay", invite="not-a-code"), page="/login")
    assert resp.status == 422 and "not valid" in await resp.text()
    admin = await instance.login("boss")
    assert (
        await post_form(admin, "/admin/invites", {"max_uses": "1", "days": "7"}, page="/admin")
    ).status == 302
    async with instance.db.read() as conn:
        code = (
            await conn.execute(
                sa.select(t.invites.c.code).where(t.invites.c.created_by == boss.user_id)
            )
        ).scalar()
    page = await visitor.get(f"/signup?invite={code}")
    assert page.status == 200
    resp = await visitor.post(
        "/signup",
        data={"_csrf": csrf_from(await page.text()), **_signup("fay", invite=code)},
        allow_redirects=False,
    )
    assert resp.status == 302, await resp.text()
    other = await instance.new_client()
    used_up = await post_form(other, "/signup", _signup("gus", invite=code), page="/login")
    assert used_up.status == 422 and "used up" in await used_up.text()
    async with instance.db.read() as conn:
        names = {
            r[0]
            for r in await conn.execute(
                sa.select(t.actors.c.username).where(t.actors.c.kind == "person")
            )
        }
    assert names == {"boss", "fay"}


async def test_closed_mode_refuses(make_instance):
    instance = await make_instance(registrations="closed")
    visitor = await instance.new_client()
    assert (await visitor.get("/signup")).status == 403
    resp = await post_form(visitor, "/signup", _signup("hal"), page="/login")
    assert resp.status == 403
    async with instance.db.read() as conn:
        assert (await conn.execute(sa.select(sa.func.count()).select_from(t.users))).scalar() == 0


async def test_login_throttle_answers_429(instance):
    await instance.create_member("ana")
    client = await instance.new_client()
    for _ in range(accounts.LOGIN_MAX_FAILURES):
        assert (await _try_login(client, "ana", "wrong password")).status == 403
    blocked = await _try_login(client, "ana")  # even the right password is refused for a while
    assert blocked.status == 429 and "Retry-After" in blocked.headers
