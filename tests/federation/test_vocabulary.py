"""One vocabulary IRI for Koers terms on every instance, and documents of older instances (whose
``koers`` prefix named ``https://<their host>/ns/koers#``) still understood (issue 9, step 6)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation import context as vocab
from federation.actors import resolve_actor
from server.activitypub.core.relay_dialects import dialect
from server.services.keys import generate_key_pair
from server.storage import schema as t
from tests.federation.e2e_helpers import competencies_on


def test_koers_documents_are_left_as_they_are() -> None:
    doc = {"@context": [vocab.AS, "https://a.example/ns/koers"], "koers:role": True, "name": "x"}
    assert vocab.normalise(doc) is doc


@pytest.mark.parametrize(
    "key",
    [
        "https://old.example/ns/koers#competencies",
        "http://127.0.0.1:8080/ns/koers#competencies",
        "https://koers.social/ns#competencies",
    ],
)
def test_full_iri_terms_become_koers_terms(key: str) -> None:
    doc = {"id": "https://old.example/u/a", key: [{"name": "soil", key[:-12] + "level": "expert"}]}
    assert vocab.normalise(doc) == {
        "id": "https://old.example/u/a",
        "koers:competencies": [{"name": "soil", "koers:level": "expert"}],
    }


def test_other_prefixes_bound_to_a_koers_iri() -> None:
    doc = {
        "@context": [vocab.AS, {"k": "https://old.example/ns/koers#", "toot": "x"}],
        "k:openness": "open",
        "toot:discoverable": True,
        "object": {"k:status": "done"},
    }
    out = vocab.normalise(doc)
    assert out["koers:openness"] == "open" and out["toot:discoverable"] is True
    assert out["object"] == {"koers:status": "done"} and out["@context"] == doc["@context"]
    # an IRI that only looks similar is not Koers'
    assert vocab.normalise({"https://x.example/ns/other#role": 1}) == {
        "https://x.example/ns/other#role": 1
    }


def test_relay_dialect_by_software() -> None:
    assert dialect("koers") == dialect("lemmy") == "activity"
    assert dialect("gotosocial") == dialect("mastodon") == "object"
    assert dialect(None) == dialect("") == "both"


@pytest.mark.slow
async def test_every_instance_serves_the_same_vocabulary(make_instance) -> None:
    a, b = await make_instance(), await make_instance()
    docs = [await (await inst.client.get("/ns/koers")).json(content_type=None) for inst in (a, b)]
    assert docs[0] == docs[1]
    assert docs[0]["@context"]["koers"] == vocab.VOCAB == "https://koers.social/ns#"
    actor = await (
        await a.client.get("/actor", headers={"Accept": "application/activity+json"})
    ).json(content_type=None)
    assert f"{a.url}/ns/koers" in actor["@context"]  # served by every instance, as before


@pytest.mark.slow
async def test_an_older_instance_with_its_own_vocabulary_iri_is_understood(instance) -> None:
    """An actor served by an older Koers whose terms are written with its per-instance IRI (in
    full, and under another prefix bound to it): its competencies and terms are read."""
    served: dict[str, dict] = {}
    app = web.Application()

    async def handler(request: web.Request) -> web.Response:
        doc = served.get(request.path)
        if doc is None:
            return web.Response(status=404)
        return web.json_response(doc, content_type="application/activity+json")

    app.router.add_get("/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    old_ns = f"{base}/ns/koers#"
    _private, pem = generate_key_pair()
    served["/users/olga"] = {
        "@context": [vocab.AS, vocab.SECURITY, f"{base}/ns/koers", {"ok": old_ns}],
        "id": f"{base}/users/olga",
        "type": "Person",
        "preferredUsername": "olga",
        "inbox": f"{base}/users/olga/inbox",
        "publicKey": {
            "id": f"{base}/users/olga#main-key",
            "owner": f"{base}/users/olga",
            "publicKeyPem": pem,
        },
        f"{old_ns}competencies": [{"name": "soil science", f"{old_ns}level": "expert"}],
        "ok:roles": [],
    }
    try:
        actor_id = await resolve_actor(instance.app, f"{base}/users/olga")
    finally:
        await server.close()
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()
    assert await competencies_on(instance, actor_id) == [("soil science", "expert")]
    assert row.extra["roles"] == [] and "competencies" in row.extra
