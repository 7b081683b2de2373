"""The designed pages through a browser-like client: inline card buttons (with and without a
script), folded boosts, the local roles page, /about, /explore and the 404 page."""

from __future__ import annotations

import re

from server.services import communities, posts, roles
from server.visibility import Audience
from server.web.cards import CARD_HEADER
from tests.conftest import csrf_from, post_form


async def test_a_like_in_the_feed_comes_back_to_the_same_card(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("ben")
    post_id = await posts.create_post(
        instance.ctx, ana.actor_id, posts.Draft("like me inline", audience=Audience.PUBLIC)
    )
    ben = await instance.login("ben")
    page = await (await ben.get("/@ana")).text()
    assert f'action="/@ana/{post_id}/like"' in page
    back = re.search(rf'action="/@ana/{post_id}/like".*?name="back" value="([^"]+)"', page, re.S)
    assert back and back.group(1) == f"/@ana#p{post_id}"
    resp = await post_form(ben, f"/@ana/{post_id}/like", {"back": back.group(1)}, page="/@ana")
    assert resp.status == 302 and resp.headers["Location"] == f"/@ana#p{post_id}"
    page = await (await ben.get("/@ana")).text()
    assert f'action="/@ana/{post_id}/unlike"' in page and "1 like ·" not in page
    assert "1 like" in page and "1 reply" not in page and "0 replies" in page
    # Somewhere else is never a place to go back to.
    resp = await post_form(
        ben, f"/@ana/{post_id}/unlike", {"back": "https://evil.example/"}, page="/@ana"
    )
    assert resp.headers["Location"] == f"/@ana/{post_id}"


async def test_a_script_gets_the_card_instead_of_a_redirect(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("ben")
    post_id = await posts.create_post(
        instance.ctx, ana.actor_id, posts.Draft("boost me inline", audience=Audience.PUBLIC)
    )
    ben = await instance.login("ben")
    page = await (await ben.get("/@ana")).text()
    resp = await ben.post(
        f"/@ana/{post_id}/boost",
        data={"_csrf": csrf_from(page), "back": f"/@ana#p{post_id}"},
        headers={CARD_HEADER: "1"},
        allow_redirects=False,
    )
    assert resp.status == 200
    card = await resp.text()
    assert card.lstrip().startswith(f'<div class="card" data-card="{post_id}">')
    assert "<html" not in card and f'action="/@ana/{post_id}/unboost"' in card
    assert f'value="/@ana#p{post_id}"' in card


async def test_a_boost_of_a_post_in_the_feed_folds_into_it(instance):
    ana = await instance.create_member("ana")
    ben = await instance.create_member("ben")
    cor = await instance.create_member("cor")
    post_id = await posts.create_post(
        instance.ctx, ana.actor_id, posts.Draft("worth boosting", audience=Audience.PUBLIC)
    )
    client = await instance.login("ana")
    for name in ("ben", "cor"):
        await post_form(client, f"/@{name}/follow", {}, page=f"/@{name}")
    for who in (ben, cor):
        await posts.reblog(instance.ctx, who.actor_id, post_id)
    page = await (await client.get("/home")).text()
    assert page.count("worth boosting") == 1, page
    assert re.search(r"Boosted by <a [^>]*>(ben|cor)</a>, <a [^>]*>(ben|cor)</a>", page)


async def test_local_roles_page_lists_vacant_roles_first_with_claim_buttons(instance):
    ana = await instance.create_member("ana")
    ben = await instance.create_member("ben")
    c = await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow."
    )
    held = await roles.create_role(instance.ctx, ana.actor_id, c.id, name="Aardvark keeper")
    await roles.claim_role(instance.ctx, ana.actor_id, held)
    vacant = await roles.create_role(instance.ctx, ana.actor_id, c.id, name="Zebra host")
    await communities.join(instance.ctx, ben.actor_id, c.id)
    anon = await (await instance.client.get("/c/garden/roles")).text()
    assert anon.index("Zebra host") < anon.index("Aardvark keeper")
    assert "/claim" not in anon
    client = await instance.login("ben")
    page = await (await client.get("/c/garden/roles")).text()
    assert f'action="/c/garden/roles/{vacant}/claim"' in page
    resp = await post_form(
        client,
        f"/c/garden/roles/{vacant}/claim",
        {"back": f"/c/garden/roles#role-{vacant}"},
        page="/c/garden/roles",
    )
    assert resp.headers["Location"] == f"/c/garden/roles#role-{vacant}"
    assert "You hold this role." in await (await client.get("/c/garden/roles")).text()


async def test_about_and_explore_show_the_organisation_to_visitors(instance):
    ana = await instance.create_member("ana")
    await communities.create_community(
        instance.ctx, ana.actor_id, handle="garden", name="Garden", purpose_text="Grow food."
    )
    await posts.create_post(
        instance.ctx, ana.actor_id, posts.Draft("hello visitors", audience=Audience.PUBLIC)
    )
    await posts.create_post(
        instance.ctx, ana.actor_id, posts.Draft("only inside", audience=Audience.MEMBERS)
    )
    about = await instance.client.get("/about")
    text = await about.text()
    assert about.status == 200 and "Garden" in text and "Grow food." in text
    assert "Partner organisations" in text and "Contact" in text
    explore = await (await instance.client.get("/explore")).text()
    assert "Garden" in explore and "hello visitors" in explore and "only inside" not in explore
    assert "/@ana" in explore


async def test_the_404_page_says_what_was_not_found_and_where_to_go(instance):
    resp = await instance.client.get("/no/such/page")
    text = await resp.text()
    assert resp.status == 404
    assert "<code>/no/such/page</code>" in text and 'href="/explore"' in text
    assert "Not Found" not in text
