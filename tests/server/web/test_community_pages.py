"""Community pages through a browser-like client: forms, errors, permissions, what visitors see."""

import sqlalchemy as sa

from server.services import communities, roadmap, roles
from server.storage import schema as t
from tests.conftest import post_form


async def _garden(instance, creator, **kw):
    defaults = dict(handle="garden", name="Community garden", purpose_text="Grow food together.")
    defaults.update(kw)
    return await communities.create_community(instance.ctx, creator.actor_id, **defaults)


async def _count(instance, table):
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def test_start_a_community_through_the_form(instance):
    await instance.create_member("ana")
    client = await instance.login("ana")
    listing = await client.get("/communities")
    assert 'href="/communities/new"' in await listing.text()
    resp = await post_form(
        client,
        "/communities/new",
        {
            "handle": "garden",
            "name": "Garden",
            "purpose": "Grow **food**.",
            "openness": "approval",
            "member_list_visibility": "public",
        },
        page="/communities/new",
    )
    assert resp.status == 302 and resp.headers["Location"] == "/c/garden"
    page = await (await client.get("/c/garden")).text()
    assert "<strong>food</strong>" in page
    assert 'href="/c/garden/feed.atom"' in page and 'type="application/atom+xml"' in page
    assert "Manage the community" in page


async def test_bad_community_form_rerenders_and_writes_nothing(instance):
    await instance.create_member("ana")
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/communities/new",
        {"handle": "ana", "name": "<script>x</script>", "purpose": "p", "openness": "open"},
        page="/communities/new",
    )
    assert resp.status == 409
    html = await resp.text()
    assert "already taken" in html and 'aria-invalid="true"' in html
    assert "<script>x</script>" not in html
    resp = await post_form(
        client,
        "/communities/new",
        {"handle": "ok", "name": "N", "purpose": ""},
        page="/communities/new",
    )
    assert resp.status == 422
    assert await _count(instance, t.communities) == 0
    resp = await client.post("/communities/new", data={"handle": "x", "name": "x", "purpose": "x"})
    assert resp.status == 403  # no CSRF token
    assert await _count(instance, t.communities) == 0


async def test_unknown_community_is_a_404_page(instance):
    resp = await instance.client.get("/c/nowhere")
    assert resp.status == 404
    assert "text/html" in resp.headers["Content-Type"]
    assert (await instance.client.get("/c/nowhere/roadmap")).status == 404


async def test_join_request_flow_and_non_manager_cannot_approve(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    await instance.create_member("eve")
    c = await _garden(instance, ana, openness="approval")
    bob_client = await instance.login("bob")
    resp = await post_form(bob_client, "/c/garden/join", {}, page="/c/garden")
    assert resp.status == 302
    assert "waiting for a manager" in await (await bob_client.get("/c/garden")).text()

    eve_client = await instance.login("eve")
    resp = await post_form(
        eve_client,
        "/c/garden/manage/requests",
        {"actor_id": bob.actor_id, "decision": "approve"},
        page="/c/garden",
    )
    assert resp.status == 403
    assert (await eve_client.get("/c/garden/manage")).status == 403

    ana_client = await instance.login("ana")
    manage = await (await ana_client.get("/c/garden/manage")).text()
    assert "@bob" in manage
    resp = await post_form(
        ana_client,
        "/c/garden/manage/requests",
        {"actor_id": bob.actor_id, "decision": "approve"},
        page="/c/garden/manage",
    )
    assert resp.status == 302
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, bob.actor_id) == "accepted"
    assert "Leave the community" in await (await bob_client.get("/c/garden")).text()


async def test_invite_only_community_refuses_join_and_manager_adds(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("bob")
    await _garden(instance, ana, openness="invite")
    bob_client = await instance.login("bob")
    page = await (await bob_client.get("/c/garden")).text()
    assert "by invitation only" in page
    resp = await post_form(bob_client, "/c/garden/join", {}, page="/c/garden")
    assert resp.status == 403
    ana_client = await instance.login("ana")
    resp = await post_form(
        ana_client,
        "/c/garden/manage/members",
        {"members_username": "nobody"},
        page="/c/garden/manage",
    )
    assert resp.status == 422 and "no member called" in await resp.text()
    resp = await post_form(
        ana_client, "/c/garden/manage/members", {"members_username": "bob"}, page="/c/garden/manage"
    )
    assert resp.status == 302
    assert "Leave the community" in await (await bob_client.get("/c/garden")).text()
    assert "added you to a community" in await (await bob_client.get("/notifications")).text()


async def test_members_page_respects_member_list_visibility(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("bob")
    await _garden(instance, ana, member_list_visibility="members")
    assert (await instance.client.get("/c/garden/members")).status == 403
    bob_client = await instance.login("bob")
    assert (await bob_client.get("/c/garden/members")).status == 403
    ana_client = await instance.login("ana")
    resp = await ana_client.get("/c/garden/members")
    assert resp.status == 200 and "@ana@" in await resp.text()


async def test_purpose_change_form_and_history(instance):
    ana = await instance.create_member("ana")
    await _garden(instance, ana)
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/c/garden/purpose",
        {"purpose": "Grow and share food.", "reason": ""},
        page="/c/garden/purpose",
    )
    assert resp.status == 422
    resp = await post_form(
        client,
        "/c/garden/purpose",
        {"purpose": "Grow and share food.", "reason": "sharing matters"},
        page="/c/garden/purpose",
    )
    assert resp.status == 302
    history = await (await instance.client.get("/c/garden/purpose")).text()
    assert "Version 2" in history and "Version 1" in history
    assert "sharing matters" in history and "Grow food together." in history
    assert "Change the purpose" not in history  # anonymous visitors get no form
    front = await (await instance.client.get("/c/garden")).text()
    assert "Grow and share food." in front and "Version 2" in front
    old = await instance.client.get("/c/garden/purpose/1")
    assert old.status == 200
    old_html = await old.text()
    assert "Grow food together." in old_html and "the current one is version 2" in old_html
    assert (await instance.client.get("/c/garden/purpose/9")).status == 404


async def test_role_pages_claim_and_non_member(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("bob")
    c = await _garden(instance, ana)
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/c/garden/roles/new",
        {"name": "Host", "competencies": "hosting:expert, cooking", "fill_mode": "open"},
        page="/c/garden/roles/new",
    )
    assert resp.status == 302
    role_url = resp.headers["Location"]
    resp = await post_form(
        client, "/c/garden/roles/new", {"name": "Bad", "competencies": "x:guru"}, page="/c/garden"
    )
    assert resp.status == 422
    bob_client = await instance.login("bob")
    page = await (await bob_client.get(role_url)).text()
    assert "hosting (expert)" in page and "vacant" in page and "Join the community" in page
    resp = await post_form(bob_client, role_url + "/claim", {}, page=role_url)
    assert resp.status == 403
    await communities.join(instance.ctx, (await _actor(instance, "bob")), c.id)
    resp = await post_form(bob_client, role_url + "/claim", {}, page=role_url)
    assert resp.status == 302
    page = await (await instance.client.get(role_url)).text()
    assert "@bob" in page and "vacant" not in page
    community_page = await (await instance.client.get("/c/garden")).text()
    assert "held by bob" in community_page


async def _actor(instance, name):
    async with instance.db.read() as conn:
        return (
            await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.username == name))
        ).scalar()


async def test_roadmap_pages_status_change_shown(instance):
    ana = await instance.create_member("ana")
    await instance.create_member("bob")
    c = await _garden(instance, ana)
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/c/garden/roadmap/new",
        {"title": "Raised beds", "status": "planned", "audience": "public"},
        page="/c/garden/roadmap/new",
    )
    assert resp.status == 302
    item_url = resp.headers["Location"]
    resp = await post_form(
        client, "/c/garden/roadmap/new", {"title": "", "status": "planned"}, page="/c/garden"
    )
    assert resp.status == 422
    resp = await post_form(
        client,
        item_url + "/status",
        {"status": "in_progress", "note": "spades bought"},
        page=item_url,
    )
    assert resp.status == 302
    page = await (await instance.client.get(item_url)).text()
    assert (
        "Planned → In progress" in page
        and "spades bought" in page
        and "Change the status" not in page
    )
    overview = await (await instance.client.get("/c/garden")).text()
    assert "from Planned to In progress" in overview
    board = await (await instance.client.get("/c/garden/roadmap")).text()
    assert "Raised beds" in board
    hidden = await roadmap.create_item(
        instance.ctx, ana.actor_id, c.id, title="Secret budget", audience="community"
    )
    assert (await instance.client.get(f"/c/garden/roadmap/{hidden}")).status == 404
    assert "Secret budget" not in await (await instance.client.get("/c/garden/roadmap")).text()
    bob_client = await instance.login("bob")
    resp = await post_form(bob_client, item_url + "/status", {"status": "done"}, page=item_url)
    assert resp.status == 403


async def test_publish_result_with_role_and_item_and_filters(instance):
    ana = await instance.create_member("ana")
    c = await _garden(instance, ana)
    role_id = await roles.create_role(instance.ctx, ana.actor_id, c.id, name="Host")
    item_id = await roadmap.create_item(instance.ctx, ana.actor_id, c.id, title="Raised beds")
    client = await instance.login("ana")
    resp = await post_form(
        client,
        "/c/garden/results",
        {"title": "Empty", "text": "", "audience": "public"},
        page="/c/garden",
    )
    assert resp.status == 422 and 'id="f-text"' in await resp.text()
    resp = await post_form(
        client,
        "/c/garden/results",
        {
            "title": "Beds built",
            "text": "Four beds done.",
            "roadmap_item_id": str(item_id),
            "role_ids": str(role_id),
            "audience": "public",
        },
        page="/c/garden",
    )
    assert resp.status == 302
    await post_form(
        client,
        "/c/garden/results",
        {"title": "Members only win", "text": "Inner.", "audience": "community"},
        page="/c/garden",
    )
    anon = await (await instance.client.get("/c/garden/results")).text()
    assert "Beds built" in anon and "Members only win" not in anon
    assert "Members only win" in await (await client.get("/c/garden/results")).text()
    filtered = await (await client.get(f"/c/garden/results?role={role_id}")).text()
    assert "Beds built" in filtered and "Members only win" not in filtered
    item_page = await (await instance.client.get(f"/c/garden/roadmap/{item_id}")).text()
    assert "Beds built" in item_page


async def test_approval_role_request_decided_by_manager_and_matches_hidden_from_outsiders(instance):
    from server.services import accounts

    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    await accounts.set_competencies(instance.db, bob.actor_id, [("budgeting", "expert")])
    c = await _garden(instance, ana, member_list_visibility="members")
    await communities.join(instance.ctx, bob.actor_id, c.id)
    role_id = await roles.create_role(
        instance.ctx,
        ana.actor_id,
        c.id,
        name="Treasurer",
        fill_mode="approval",
        competencies=[("budgeting", None)],
    )
    role_url = f"/c/garden/roles/{role_id}"
    anon = await (await instance.client.get(role_url)).text()
    assert "Treasurer" in anon and "matching competencies" not in anon and "@bob" not in anon

    bob_client = await instance.login("bob")
    page = await (await bob_client.get(role_url)).text()
    assert "Ask for this role" in page and "Nobody holds this role yet." in page
    resp = await post_form(bob_client, role_url + "/claim", {}, page=role_url)
    assert resp.status == 302
    assert "a manager will decide" in await (await bob_client.get(role_url)).text()

    ana_client = await instance.login("ana")
    manage = await (await ana_client.get("/c/garden/manage")).text()
    assert "@bob asks for" in manage
    resp = await post_form(
        bob_client, role_url + "/assign", {"actor_id": str(bob.actor_id)}, page=role_url
    )
    assert resp.status == 403  # a member cannot approve their own request
    resp = await post_form(
        ana_client, role_url + "/assign", {"actor_id": str(bob.actor_id)}, page="/c/garden/manage"
    )
    assert resp.status == 302
    role_page = await (await ana_client.get(role_url)).text()
    assert "Give up" not in role_page and "Unassign" in role_page
    assert "Give up this role" in await (await bob_client.get(role_url)).text()
    resp = await post_form(ana_client, role_url + "/assign", {"username": "ghost"}, page=role_url)
    assert resp.status == 422 and "no member called" in await resp.text()


async def test_managers_added_and_step_down_through_manage_page(instance):
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    c = await _garden(instance, ana)
    ana_client = await instance.login("ana")
    resp = await post_form(
        ana_client,
        "/c/garden/manage/managers",
        {"managers_username": "bob"},
        page="/c/garden/manage",
    )
    assert resp.status == 422 and "only members can become managers" in await resp.text()
    await communities.join(instance.ctx, bob.actor_id, c.id)
    resp = await post_form(
        ana_client,
        "/c/garden/manage/managers",
        {"managers_username": "@bob"},
        page="/c/garden/manage",
    )
    assert resp.status == 302
    bob_client = await instance.login("bob")
    assert "Step down" in await (await bob_client.get("/c/garden/manage")).text()
    resp = await post_form(
        ana_client,
        "/c/garden/manage/managers/remove",
        {"actor_id": str(ana.actor_id)},
        page="/c/garden/manage",
    )
    assert resp.status == 302
    assert (await ana_client.get("/c/garden/manage")).status == 403
    resp = await post_form(
        bob_client,
        "/c/garden/manage/managers/remove",
        {"actor_id": str(bob.actor_id)},
        page="/c/garden/manage",
    )
    assert resp.status == 403  # the last manager stays


async def test_declining_is_for_requests_not_for_members(instance):
    # "Decline" turns down a join request; it cannot be used to throw out a member (or a fellow
    # manager, or the founder), here or by a manager's Reject from another instance.
    ana = await instance.create_member("ana")
    bob = await instance.create_member("bob")
    c = await _garden(instance, ana, openness="open")
    await communities.join(instance.ctx, bob.actor_id, c.id)
    await communities.add_manager(instance.ctx, ana.actor_id, c.id, bob.actor_id)
    bob_client = await instance.login("bob")
    resp = await post_form(
        bob_client,
        "/c/garden/manage/requests",
        {"actor_id": ana.actor_id, "decision": "reject"},
        page="/c/garden/manage",
    )
    assert resp.status == 404
    async with instance.db.read() as conn:
        assert await communities.membership(conn, c, ana.actor_id) == "accepted"
