"""Secure mode on every ActivityPub route, walked from the app's route table.

With ``KOERS_SECURE_MODE=on`` no GET may answer an ActivityStreams document unsigned (but the
instance actor, whose key peers need to verify us). Each GET route is tried with the demo data,
with and without ``?page=true``; a route added later is covered without editing this file. Signed
by a member who may see them, the same documents answer.
"""

from __future__ import annotations

import pytest
from aiohttp import ClientTimeout

from federation.signatures import sign_request
from server.demo import load_demo
from tests.conftest import Instance
from tests.federation.conftest import signer_for
from tests.route_walk import concrete, real_values, routes

pytestmark = pytest.mark.slow

AP = "application/activity+json"
OPEN = {"/actor"}  # the instance actor: peers fetch its key to verify the signatures we ask for
TIMEOUT = ClientTimeout(total=20)


@pytest.fixture
def backend() -> str:
    """SQLite only: the walk is about handlers, not SQL dialects."""
    return "sqlite"


async def test_every_activitypub_get_needs_a_signature_in_secure_mode(make_instance) -> None:  # type: ignore[no-untyped-def]
    instance: Instance = await make_instance(secure_mode=True)
    await load_demo(instance.settings, lambda _: None)
    real = await real_values(instance.db, "energy", "lotte")
    lotte = await signer_for(instance, "lotte")
    anonymous = await instance.new_client()
    open_unsigned, refused_signed, answered = [], [], []
    for route in routes(instance.app):
        if route.method != "GET" or route.is_api or route.is_live or route.is_catch_all:
            continue
        for path in concrete(route, real):
            for full in (path, path + ("&" if "?" in path else "?") + "page=true"):
                resp = await anonymous.get(
                    full, headers={"Accept": AP}, allow_redirects=False, timeout=TIMEOUT
                )
                unsigned = (resp.status, resp.content_type)
                resp.close()
                if unsigned[1] == AP and unsigned[0] < 300 and path not in OPEN:
                    open_unsigned.append(f"{unsigned[0]} {full}")
                if unsigned[0] != 401:
                    continue
                url = instance.url + full
                headers = sign_request(
                    "GET", url, {"Accept": AP}, None, lotte.key_id, lotte.private_key_pem
                )
                resp = await anonymous.get(
                    full, headers=headers, allow_redirects=False, timeout=TIMEOUT
                )
                signed = (resp.status, resp.content_type)
                resp.close()
                if signed[0] == 401 or signed[0] >= 500:
                    refused_signed.append(f"{signed[0]} {full}")
                elif signed[1] == AP:
                    answered.append(full)
    assert open_unsigned == [], "answered unsigned in secure mode"
    assert refused_signed == [], "refused although signed by a member"
    # The routes of issue 11 are among those that answer a member signed.
    for needed in (
        "/users/lotte/followers?page=true",
        "/communities/energy/roles",
        "/communities/energy/purpose",
    ):
        assert needed in answered, needed
