"""Profile pages, settings, follow buttons, the people finder and suggestions on /home."""

from __future__ import annotations

import sqlalchemy as sa
from bs4 import BeautifulSoup

from server import clock, urls
from server.services import accounts
from server.storage import schema as t
from tests.conftest import post_form
from tests.server.web.helpers import upload_form


async def make_community_with_role(instance, holder_actor_id: int) -> None:  # type: ignore[no-untyped-def]
    """A community 'gardeners' with a role 'event host' held by the given actor (written directly)."""
    async with instance.db.write() as conn:
        group_id = await accounts.insert_local_actor(
            conn,
            instance.settings,
            kind="group",
            username="gardeners",
            uri=urls.community(instance.url, "gardeners"),
            page_url=urls.community_page(instance.url, "gardeners"),
            display_name="Gardeners",
        )
        res = await conn.execute(
            t.communities.insert().values(
                actor_id=group_id, name="City Gardeners", created_at=clock.now()
            )
        )
        community_id = res.inserted_primary_key[0]
        res = await conn.execute(
            t.roles.insert().values(
                community_id=community_id, name="event host", created_at=clock.now()
            )
        )
        await conn.execute(
            t.role_holders.insert().values(
                role_id=res.inserted_primary_key[0],
                actor_id=holder_actor_id,
                state="held",
                created_at=clock.now(),
            )
        )


async def test_profile_shows_fields_competencies_and_roles(instance):
    ana = await instance.create_member("ana")
    await make_community_with_role(instance, ana.actor_id)
    client = await instance.login("ana")
    resp = await upload_form(
        client,
        "/settings/profile",
        {
            "display_name": "Ana Lima",
            "bio": "I grow **tomatoes**.",
            "bio_format": "markdown",
            "field_name_0": "Website",
            "field_value_0": "https://ana.example",
            "competencies": "Facilitation: expert\ncomposting",
            "default_audience": "followers",
            "discoverable": "on",
        },
    )
    assert resp.status == 302, await resp.text()

    page = await instance.client.get("/@ana")
    assert page.status == 200
    soup = BeautifulSoup(await page.text(), "html.parser")
    text = soup.get_text(" ")
    assert "Ana Lima" in text
    assert soup.select_one(".bio strong").get_text() == "tomatoes"
    assert "Website" in text and soup.find("a", href="https://ana.example") is not None
    assert "facilitation" in text and "(expert)" in text and "composting" in text
    role_link = soup.find("a", string="event host")
    assert role_link is not None and "/c/gardeners/roles/" in role_link["href"]
    assert soup.find("a", string="City Gardeners")["href"] == "/c/gardeners"
    feed = soup.find("link", rel="alternate", type="application/atom+xml")
    assert feed is not None and feed["href"] == "/@ana/feed.atom"
    # The form shows the saved values again, and the default audience was stored.
    form_page = await (await client.get("/settings/profile")).text()
    assert "facilitation: expert" in form_page
    async with instance.db.read() as conn:
        assert (
            await conn.execute(
                sa.select(t.users.c.default_audience).where(t.users.c.id == ana.user_id)
            )
        ).scalar() == "followers"


async def test_unknown_user_is_404_and_community_handle_redirects(instance):
    ana = await instance.create_member("ana")
    await make_community_with_role(instance, ana.actor_id)
    assert (await instance.client.get("/@nobody")).status == 404
    assert "no account" in (await (await instance.client.get("/@nobody")).text())
    resp = await instance.client.get("/@gardeners", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/c/gardeners"
    assert (await instance.client.get("/@nobody/followers")).status == 404


async def test_follow_unfollow_and_lists(instance):
    await instance.create_member("ana")
    await instance.create_member("ben")
    ben = await instance.login("ben")
    resp = await post_form(ben, "/@ana/follow", {}, page="/@ana")
    assert resp.status == 302
    followers = await (await instance.client.get("/@ana/followers")).text()
    assert "@ben@" in followers
    assert "1 followers" in await (await instance.client.get("/@ana")).text()
    assert "@ana@" in await (await instance.client.get("/@ben/following")).text()
    assert "Unfollow" in await (await ben.get("/@ana")).text()
    await post_form(ben, "/@ana/unfollow", {}, page="/@ana")
    assert "@ben@" not in await (await instance.client.get("/@ana/followers")).text()


async def test_locked_account_follow_request_accept(instance):
    ana = await instance.create_member("ana")
    await accounts.update_profile(instance.db, ana.user_id, locked=True)
    await instance.create_member("ben")
    ben = await instance.login("ben")
    await post_form(ben, "/@ana/follow", {}, page="/@ana")
    assert "Withdraw follow request" in await (await ben.get("/@ana")).text()
    client = await instance.login("ana")
    requests_page = await (await client.get("/follow_requests")).text()
    assert "@ben@" in requests_page
    async with instance.db.read() as conn:
        ben_id = (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.username == "ben"))
        ).scalar()
    resp = await post_form(client, f"/follow_requests/{ben_id}/accept", {}, page="/follow_requests")
    assert resp.status == 302
    assert "@ben@" in await (await instance.client.get("/@ana/followers")).text()


async def test_people_finder_and_shared_competencies_on_home(instance):
    ana = await instance.create_member("ana")
    ben = await instance.create_member("ben")
    cy = await instance.create_member("cy")
    await accounts.set_competencies(
        instance.db, ana.actor_id, [("python", "expert"), ("gardening", None)]
    )
    await accounts.set_competencies(instance.db, ben.actor_id, [("python", "learning")])
    await accounts.set_competencies(instance.db, cy.actor_id, [("knitting", None)])
    page = await (await instance.client.get("/people?competency=pyt")).text()
    assert "@ana@" in page and "@ben@" in page and "@cy@" not in page
    assert page.index("@ana@") < page.index("@ben@")  # experts first
    client = await instance.login("ben")
    home = await (await client.get("/home")).text()
    assert "People who share your competencies" in home
    assert "@ana@" in home and "@cy@" not in home


async def test_invite_links_are_full_urls(instance):
    await instance.create_member("ana")
    client = await instance.login("ana")
    resp = await post_form(
        client, "/settings/invites", {"max_uses": "3", "days": "7"}, page="/settings/invites"
    )
    assert resp.status == 302
    page = await (await client.get("/settings/invites")).text()
    assert f"{instance.url}/signup?invite=" in page
    bad = await post_form(
        client, "/settings/invites", {"max_uses": "-4", "days": ""}, page="/settings/invites"
    )
    assert bad.status == 422
