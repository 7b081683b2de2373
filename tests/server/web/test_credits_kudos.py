"""Results on the web: crediting contributors by handle in the compose form, and giving kudos."""

import sqlalchemy as sa

from server.services import communities, posts
from server.storage import schema as t
from tests.conftest import post_form
from tests.server.web.helpers import upload_form


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
    return ana, ben, garden


async def _posts(instance):
    async with instance.db.read() as conn:
        return list(await conn.execute(sa.select(t.posts)))


async def test_compose_credits_contributors_and_refuses_unknown_ones(instance):
    ana, ben, garden = await _setup(instance)
    client = await instance.login("ana")
    fields = {
        "status": "Harvest festival held",
        "audience": "public",
        "community_id": str(garden.id),
        "kind": "result",
        "format": "markdown",
    }
    resp = await upload_form(
        client, "/compose", {**fields, "contributors": "ben, nobody"}, page="/compose"
    )
    assert resp.status == 422
    html = await resp.text()
    assert "nobody" in html and 'aria-invalid="true"' in html
    assert await _posts(instance) == []
    resp = await upload_form(
        client, "/compose", {**fields, "contributors": "@ben"}, page="/compose"
    )
    assert resp.status == 302
    (result,) = await _posts(instance)
    async with instance.db.read() as conn:
        credited = {r[0] for r in await conn.execute(sa.select(t.result_contributors.c.actor_id))}
        notes = [
            r[0]
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(t.notifications.c.actor_id == ben.actor_id)
            )
        ]
    assert credited == {ana.actor_id, ben.actor_id} and "mention" in notes
    page = await (await client.get(resp.headers["Location"])).text()
    assert f'href="/results/{result.id}/kudos"' in page


async def test_kudos_form(instance):
    ana, ben, garden = await _setup(instance)
    result = await posts.create_post(
        instance.ctx,
        ana.actor_id,
        posts.Draft(
            source="Compost bins built",
            kind="result",
            community_id=garden.id,
            contributor_ids=(ben.actor_id,),
        ),
    )
    client = await instance.login("ana")
    page = f"/results/{result}/kudos"
    form_html = await (await client.get(page)).text()
    assert ">@ben</option>" in form_html and ">@ana</option>" not in form_html  # not oneself
    resp = await post_form(client, page, {"account_id": "", "message": "x"}, page=page)
    assert resp.status == 422 and 'role="alert"' in await resp.text()
    resp = await client.post(page, data={"account_id": str(ben.actor_id)})
    assert resp.status == 403  # no CSRF token
    assert len(await _posts(instance)) == 1
    resp = await post_form(
        client,
        page,
        {"account_id": str(ben.actor_id), "message": "Thanks for the wood!"},
        page=page,
    )
    assert resp.status == 302
    reply = [p for p in await _posts(instance) if p.id != result][0]
    assert (
        reply.in_reply_to_id == result
        and "Thanks for the wood!" in reply.content_html
        and "@ben" in reply.content_html
    )
