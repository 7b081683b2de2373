"""People discovery across instances: a remote member's competencies, read from their actor
document, are found by the people finder (web page and Koers API) and refresh with the actor."""

from __future__ import annotations

import pytest

from federation.actors import resolve_actor
from server.services import accounts
from tests.federation.e2e_helpers import remote_id

pytestmark = pytest.mark.slow


async def test_remote_competencies_are_searchable(make_instance) -> None:
    a = await make_instance(run_workers=False)
    b = await make_instance(run_workers=False)
    await a.create_member("ana")
    bob = await b.create_member("bob")
    await accounts.set_competencies(
        b.db, bob.actor_id, [("Beekeeping", "expert"), ("welding", None)]
    )
    bob_on_a = await remote_id(a, b, "/users/bob")

    page = await (await a.client.get("/people", params={"competency": "beek"})).text()
    assert f"@bob@{b.settings.domain}" in page and "beekeeping" in page and "(expert)" in page
    resp = await a.client.get("/api/koers/v1/people", params={"competency": "weld"})
    assert resp.status == 200
    found = await resp.json()
    assert [(p["acct"], p["competency"]) for p in found] == [
        (f"bob@{b.settings.domain}", "welding")
    ]

    # a refresh of the actor replaces what it said before
    await accounts.set_competencies(b.db, bob.actor_id, [("carpentry", "learning")])
    assert await resolve_actor(a.app, f"{b.url}/users/bob", refresh=True) == bob_on_a
    assert (
        await (await a.client.get("/api/koers/v1/people", params={"competency": "weld"})).json()
        == []
    )
    found = await (await a.client.get("/api/koers/v1/people", params={"competency": "carp"})).json()
    assert [p["acct"] for p in found] == [f"bob@{b.settings.domain}"]
