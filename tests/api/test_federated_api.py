"""Two real instances: find a remote member through search, follow them, see their posts at home."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.conftest import api_token


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
async def test_status_posted_on_one_instance_reaches_follower_home_on_other(make_instance):
    one = await make_instance()
    two = await make_instance()
    await one.create_member("bob")
    await two.create_member("alice")
    tb, ta = await api_token(one, "bob"), await api_token(two, "alice")

    handle = f"@bob@{one.settings.domain}"
    found = await (
        await two.client.get(
            "/api/v2/search", params={"q": handle, "resolve": "true"}, headers=_h(ta)
        )
    ).json()
    assert [a["acct"] for a in found["accounts"]] == [f"bob@{one.settings.domain}"]
    remote_id = found["accounts"][0]["id"]
    rel = await (
        await two.client.post(f"/api/v1/accounts/{remote_id}/follow", headers=_h(ta))
    ).json()
    assert rel["following"] or rel["requested"]
    for _ in range(100):
        rel = (
            await (
                await two.client.get(
                    "/api/v1/accounts/relationships", params={"id[]": remote_id}, headers=_h(ta)
                )
            ).json()
        )[0]
        if rel["following"]:
            break
        await asyncio.sleep(0.2)
    assert rel["following"], "the follow was not accepted"

    status = await (
        await one.client.post(
            "/api/v1/statuses", json={"status": "hello fediverse"}, headers=_h(tb)
        )
    ).json()
    assert status["visibility"] == "public"
    for _ in range(100):
        home = await (await two.client.get("/api/v1/timelines/home", headers=_h(ta))).json()
        if home:
            break
        await asyncio.sleep(0.2)
    assert [s["uri"] for s in home] == [status["uri"]]
    assert (
        home[0]["account"]["acct"] == f"bob@{one.settings.domain}"
        and "hello fediverse" in home[0]["content"]
    )
