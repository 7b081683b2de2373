"""The organisation dashboard at /admin/insights: administrators only, every number also as text
in a table, and the community insights page compares this period with the previous one."""

from __future__ import annotations

from server.services import communities, posts
from server.services.posts import Draft
from tests.conftest import Instance


async def test_admins_see_the_organisation_dashboard(instance: Instance) -> None:
    root = await instance.create_member("rita", admin=True)
    ann = await instance.create_member("ann")
    garden = await communities.create_community(
        instance.ctx, root.actor_id, handle="garden", name="Garden", purpose_text="Grow."
    )
    await communities.join(instance.ctx, ann.actor_id, garden.id)
    await posts.create_post(
        instance.ctx, ann.actor_id, Draft(source="Done", community_id=garden.id, kind="result")
    )
    admin = await instance.login("rita")
    resp = await admin.get("/admin/insights?weeks=8")
    html = await resp.text()
    assert resp.status == 200, html
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-org-active"' in html
    assert '<a href="/c/garden">Garden</a></th><td class="num">2</td><td class="num">1</td>' in html
    assert "<strong>1</strong> purposes in force" in html and "decisions open" in html
    assert '<th scope="row">Results</th><td class="num">1</td><td class="num">0</td>' in html
    assert 'href="/admin/insights"' in await (await admin.get("/admin")).text()
    assert (await admin.get("/admin/insights?weeks=0")).status == 422

    member = await instance.login("ann")
    assert (await member.get("/admin/insights")).status == 403

    page = await (await admin.get("/c/garden/insights")).text()
    compare = page.split('id="compare"')[1].split('id="leaders"')[0]
    assert '<th scope="row">Posts</th><td class="num">1</td><td class="num">0</td>' in compare
    assert "up 1" in compare
