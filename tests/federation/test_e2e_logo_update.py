"""The organisation's logo is its actor's icon: when an administrator changes or removes it on
/admin, the organisation's followers get the whole actor's ``Update`` (as for every profile
change), between real instances on loopback and to a GoToSocial-like peer."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.storage import schema as t
from tests.conftest import post_form
from tests.federation.e2e_helpers import follow_remote, follow_state, pump
from tests.federation.gotosocial_peer import AP, start_peer
from tests.server.web.helpers import image_bytes, upload_form

pytestmark = pytest.mark.slow


@pytest.fixture
async def gts():  # type: ignore[no-untyped-def]
    peer, server = await start_peer()
    yield peer
    await server.close()


async def _icon_on(inst, actor_id: int) -> str | None:  # type: ignore[no-untyped-def]
    async with inst.db.read() as conn:
        return (
            await conn.execute(sa.select(t.actors.c.avatar_url).where(t.actors.c.id == actor_id))
        ).scalar()


async def test_a_new_logo_reaches_the_organisations_followers(make_instance, gts) -> None:  # type: ignore[no-untyped-def]
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    await a.create_member("rita", admin=True)
    bob = await b.create_member("bob")
    org_uri = f"{a.url}/actor"
    gina = gts.add_account("gina")
    status, text = await gts.post(
        f"{org_uri}/inbox", gts.activity(gina, "Follow", object=org_uri), gina
    )
    assert status == 202, text
    org_on_b = await follow_remote(b, a, bob.actor_id, "/actor")
    await pump(a, b)
    assert await follow_state(b, bob.actor_id, org_on_b) == "accepted"
    assert await _icon_on(b, org_on_b) is None

    admin = await a.login("rita")
    resp = await upload_form(
        admin,
        "/admin/logo",
        {},
        {"logo": ("logo.png", image_bytes((600, 300), "PNG"), "image/png")},
        page="/admin",
    )
    assert resp.status == 302, await resp.text()
    await pump(a, b)

    icon = await _icon_on(b, org_on_b)
    assert icon is not None and icon.startswith(f"{a.url}/media/avatars/"), icon
    served = await a.client.get(icon.removeprefix(a.url))
    assert served.status == 200 and served.headers["Content-Type"] == "image/png"
    # the GoToSocial-like follower got the whole actor, key included, with the new icon
    assert gts.refused == []
    org = gts.profiles[org_uri]
    assert org["publicKey"]["owner"] == org_uri and org["icon"]["url"] == icon
    fetched = await a.client.get("/actor", headers={"Accept": AP})
    assert (await fetched.json())["icon"]["url"] == icon  # the same document a fetch answers

    # removing the logo is a change too: the followers' copy loses its icon
    assert (await post_form(admin, "/admin/logo/remove", {}, page="/admin")).status == 302
    await pump(a, b)
    assert await _icon_on(b, org_on_b) is None
    assert "icon" not in gts.profiles[org_uri]
