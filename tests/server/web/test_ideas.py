"""The idea box on the web: submitting (with CSRF and bad input), supporting, merging, promoting."""

import sqlalchemy as sa

from server.services import communities, follows, ideas, notifications
from server.storage import schema as t
from server.visibility import Viewer
from tests.conftest import post_form


async def _setup(instance):
    ana = await instance.create_member("ana")
    ben = await instance.create_member("ben")
    garden = await communities.create_community(
        instance.ctx,
        ana.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together.",
    )
    await follows.follow(instance.ctx, ben.actor_id, garden.actor_id)
    return ana, ben, garden


async def _count(instance, table):
    async with instance.db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar()


async def test_member_submits_and_others_support(instance):
    ana, ben, garden = await _setup(instance)
    client = await instance.login("ben")
    resp = await post_form(
        client,
        "/c/garden/ideas",
        {"title": "Herb spiral", "text": "By the *gate*.", "audience": "public"},
        page="/c/garden/ideas",
    )
    assert resp.status == 302
    idea_page = resp.headers["Location"]
    page = await (await client.get(idea_page)).text()
    assert "Herb spiral" in page and "<em>gate</em>" in page and "0 supports" in page
    # the idea is also a post in the community (its thread), marked as an idea
    async with instance.db.read() as conn:
        post = (
            await conn.execute(sa.select(t.posts).where(t.posts.c.author_id == ben.actor_id))
        ).one()
        notes = [
            r[0]
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(t.notifications.c.actor_id == ana.actor_id)
            )
        ]
    assert post.extra.get("idea") is True and post.community_id == garden.id
    assert "koers.idea" in notes
    ana_client = await instance.login("ana")
    resp = await post_form(ana_client, idea_page + "/support", {}, page=idea_page)
    assert resp.status == 302
    resp = await post_form(
        ana_client, idea_page + "/support", {}, page=idea_page
    )  # once per person
    box = await (await instance.client.get("/c/garden/ideas")).text()
    assert "Herb spiral" in box and "1 support<" in box


async def test_bad_idea_rerenders_writes_nothing_and_needs_csrf(instance):
    await _setup(instance)
    client = await instance.login("ben")
    resp = await post_form(
        client, "/c/garden/ideas", {"title": "  ", "text": "x"}, page="/c/garden/ideas"
    )
    assert resp.status == 422
    html = await resp.text()
    assert 'aria-invalid="true"' in html and "say what your idea is" in html
    resp = await post_form(client, "/c/garden/ideas", {"title": "x" * 300}, page="/c/garden/ideas")
    assert resp.status == 422
    resp = await post_form(
        client, "/c/garden/ideas", {"title": "ok", "audience": "galaxy"}, page="/c/garden/ideas"
    )
    assert resp.status == 422
    resp = await client.post("/c/garden/ideas", data={"title": "no token"})
    assert resp.status == 403
    assert await _count(instance, t.ideas) == 0 and await _count(instance, t.posts) == 0


async def test_outsider_cannot_submit_and_visitor_sees_only_public_ideas(instance):
    ana, ben, garden = await _setup(instance)
    await instance.create_member("cy")
    await ideas.submit_idea(instance.ctx, ben.actor_id, garden.id, title="Public compost")
    await ideas.submit_idea(
        instance.ctx, ben.actor_id, garden.id, title="Secret seed swap", audience="community"
    )
    cy = await instance.login("cy")
    resp = await post_form(cy, "/c/garden/ideas", {"title": "mine"}, page="/c/garden/ideas")
    assert resp.status == 403
    anon = await (await instance.client.get("/c/garden/ideas")).text()
    assert "Public compost" in anon and "Secret seed swap" not in anon
    member = await (await (await instance.login("ben")).get("/c/garden/ideas")).text()
    assert "Secret seed swap" in member


async def test_manager_merges_and_promotes(instance):
    ana, ben, garden = await _setup(instance)
    cy = await instance.create_member("cy")
    await follows.follow(instance.ctx, cy.actor_id, garden.actor_id)
    keep = await ideas.submit_idea(instance.ctx, ben.actor_id, garden.id, title="Rain barrels")
    dup = await ideas.submit_idea(instance.ctx, cy.actor_id, garden.id, title="Collect rain water")
    await ideas.support(instance.ctx, ana.actor_id, dup)
    client = await instance.login("ana")
    page = f"/c/garden/ideas/{dup}"
    # a manager form with an impossible choice is refused and changes nothing
    resp = await post_form(client, page + "/merge", {"into_id": "abc"}, page=page)
    assert resp.status == 422
    resp = await post_form(client, page + "/merge", {"into_id": str(keep)}, page=page)
    assert resp.status == 302
    async with instance.db.read() as conn:
        kept = await ideas.get_idea(conn, Viewer(actor_id=ana.actor_id, local=True), keep)
        merged = await ideas.get_idea(conn, Viewer(actor_id=ana.actor_id, local=True), dup)
    assert merged.status == "merged" and merged.merged_into_id == keep
    assert kept.supports == 2  # ana's support and cy (the duplicate's author) moved over
    # members cannot promote
    ben_client = await instance.login("ben")
    resp = await post_form(
        ben_client, f"/c/garden/ideas/{keep}/promote", {}, page=f"/c/garden/ideas/{keep}"
    )
    assert resp.status == 403
    resp = await post_form(
        client,
        f"/c/garden/ideas/{keep}/promote",
        {"owner_role_id": ""},
        page=f"/c/garden/ideas/{keep}",
    )
    assert resp.status == 302 and "/c/garden/roadmap/" in resp.headers["Location"]
    roadmap_page = await (await client.get(resp.headers["Location"])).text()
    assert "Rain barrels" in roadmap_page
    async with instance.db.read() as conn:
        notes = list(
            await conn.execute(
                sa.select(t.notifications).where(
                    t.notifications.c.actor_id == ben.actor_id,
                    t.notifications.c.type == "koers.idea_update",
                )
            )
        )
        cy_notes = [
            r.extra.get("outcome")
            for r in await conn.execute(
                sa.select(t.notifications).where(
                    t.notifications.c.actor_id == cy.actor_id,
                    t.notifications.c.type == "koers.idea_update",
                )
            )
        ]
    assert notes and notes[0].extra["outcome"] == "roadmap"
    assert cy_notes == ["merged"]
    box = await (await client.get("/c/garden/ideas?status=promoted")).text()
    assert "Rain barrels" in box and "Collect rain water" not in box
    resp = await client.get("/c/garden/ideas?status=bogus")
    assert resp.status == 422
    assert "koers.idea_update" in notifications.TYPES


async def test_manager_turns_an_idea_into_a_purpose_proposal(instance):
    from server.services import purpose_phases

    ana, ben, garden = await _setup(instance)
    idea_id = await ideas.submit_idea(
        instance.ctx, ben.actor_id, garden.id, title="Include the neighbours"
    )
    client = await instance.login("ana")
    page = f"/c/garden/ideas/{idea_id}"
    data = {"new_text": "Grow food together with our neighbours.", "reason": ""}
    async with instance.db.read() as conn:
        assert (await purpose_phases.current(conn, garden.id)).phase not in ("drafting", "review")
    # outside drafting the proposal is refused on the form, and nothing changes
    resp = await post_form(client, page + "/propose", data, page=page)
    assert resp.status == 422 and 'aria-invalid="true"' in await resp.text()
    async with instance.db.read() as conn:
        assert (await ideas.get_idea(conn, Viewer(), idea_id)).status == "open"
    await purpose_phases.set_phase(
        instance.ctx, ana.actor_id, garden.id, "review"
    )  # in force -> review
    resp = await post_form(client, page + "/propose", {**data, "new_text": ""}, page=page)
    assert resp.status == 422
    resp = await post_form(client, page + "/propose", data, page=page)
    assert resp.status == 302 and "/c/garden/purpose/proposals/" in resp.headers["Location"]
    proposal_page = await (await client.get(resp.headers["Location"])).text()
    assert "neighbours" in proposal_page
    async with instance.db.read() as conn:
        idea = await ideas.get_idea(conn, Viewer(), idea_id)
        notes = [
            r.extra.get("outcome")
            for r in await conn.execute(
                sa.select(t.notifications).where(
                    t.notifications.c.actor_id == ben.actor_id,
                    t.notifications.c.type == "koers.idea_update",
                )
            )
        ]
    assert idea.status == "promoted" and idea.promoted_kind == "proposal" and notes == ["proposal"]
