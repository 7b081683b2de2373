"""Remote actors: validation of fetched documents, the stored row, key lookup and rotation."""

from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestServer

from federation.actors import actor_values, key_lookup, resolve_actor, resolve_handle_to_actor
from federation.errors import ActorError, FetchError
from federation.signatures import SignatureError
from server.services.keys import generate_key_pair
from server.storage import schema as t

pytestmark = pytest.mark.slow


def person(base: str, pem: str, **extra: object) -> dict:
    uri = f"{base}/u/carol"
    doc = {
        "@context": ["https://www.w3.org/ns/activitystreams"],
        "id": uri,
        "type": "Person",
        "preferredUsername": "carol",
        "name": "Carol",
        "summary": '<p>Hi <script>alert(1)</script><a href="javascript:x">x</a></p>',
        "inbox": f"{uri}/inbox",
        "outbox": f"{uri}/outbox",
        "followers": f"{uri}/followers",
        "endpoints": {"sharedInbox": f"{base}/inbox"},
        "icon": {"type": "Image", "url": f"{base}/a.png"},
        "image": {"type": "Image", "url": f"{base}/h.png"},
        "attachment": [
            {"type": "PropertyValue", "name": "Site", "value": '<a href="https://c.example">c</a>'}
        ],
        "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": pem},
        "competency": ["gardening"],
    }
    doc.update(extra)
    return doc


@pytest.fixture
async def remote():  # type: ignore[no-untyped-def]
    """A stub fediverse server serving one actor document the test can change."""
    served: dict[str, dict] = {}
    app = web.Application()

    async def handler(request: web.Request) -> web.Response:
        doc = served.get(request.path)
        return (
            web.json_response(doc, content_type="application/activity+json")
            if doc
            else web.Response(status=404)
        )

    app.router.add_get("/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    yield base, served
    await server.close()


async def test_remote_actor_is_validated_stored_and_refreshed(instance, remote) -> None:
    base, served = remote
    _priv, pem = generate_key_pair()
    served["/u/carol"] = person(base, pem)
    actor_id = await resolve_actor(instance.app, f"{base}/u/carol")
    async with instance.db.read() as conn:
        row = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()
    assert (row.username, row.domain, row.kind) == ("carol", base.split("//")[1], "person")
    assert "<script>" not in row.summary_html and "javascript:" not in row.summary_html
    assert row.shared_inbox == f"{base}/inbox" and row.avatar_url == f"{base}/a.png"
    assert row.fields[0]["name"] == "Site" and row.extra == {"competency": ["gardening"]}
    # Cached: a second resolve does not refetch; refresh=True does.
    served["/u/carol"] = person(base, pem, name="Carol Renamed")
    assert await resolve_actor(instance.app, f"{base}/u/carol#main-key") == actor_id
    assert await resolve_actor(instance.app, f"{base}/u/carol", refresh=True) == actor_id
    async with instance.db.read() as conn:
        assert (
            await conn.execute(sa.select(t.actors.c.display_name).where(t.actors.c.id == actor_id))
        ).scalar() == "Carol Renamed"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "Note"}, "type"),
        ({"id": "https://elsewhere.example/u/carol"}, "id_host"),
        ({"inbox": None}, "no_inbox"),
        ({"publicKey": None}, "no_key"),
        (
            {
                "publicKey": {
                    "id": "k",
                    "owner": "https://elsewhere.example/u/x",
                    "publicKeyPem": "x",
                }
            },
            "key_owner",
        ),
    ],
)
def test_invalid_actor_documents(change: dict, reason: str) -> None:
    doc = person("https://c.example", "PEM")
    doc.update(change)
    with pytest.raises(ActorError) as err:
        actor_values(doc, "https://c.example/u/carol")
    assert err.value.reason == reason


async def test_key_lookup_and_rotation(instance, remote) -> None:
    base, served = remote
    _priv, pem1 = generate_key_pair()
    _priv2, pem2 = generate_key_pair()
    served["/u/carol"] = person(base, pem1)
    key_id = f"{base}/u/carol#main-key"
    assert await key_lookup(instance.app, key_id, False) == (pem1, f"{base}/u/carol")
    served["/u/carol"] = person(base, pem2)
    assert (await key_lookup(instance.app, key_id, False))[0] == pem1  # from the table
    assert (await key_lookup(instance.app, key_id, True))[0] == pem2  # refetched after rotation
    assert await key_lookup(instance.app, f"{base}/u/nobody#main-key", False) is None
    # A key id whose owner declares another key: the key is not theirs.
    doc = copy.deepcopy(served["/u/carol"])
    served["/u/dave"] = {
        **doc,
        "id": f"{base}/u/dave",
        "preferredUsername": "dave",
        "publicKey": {**doc["publicKey"], "owner": f"{base}/u/dave"},
    }
    with pytest.raises(SignatureError) as err:
        await key_lookup(instance.app, f"{base}/u/dave#other-key", True)
    assert err.value.reason == "key_mismatch"


async def test_unreachable_actor_and_handle_resolution(make_instance) -> None:
    a = await make_instance()
    b = await make_instance()
    await b.create_member("bob")
    actor_id = await resolve_handle_to_actor(a.app, f"@bob@{b.settings.domain}")
    async with a.db.read() as conn:
        assert (
            await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == actor_id))
        ).scalar() == f"{b.url}/users/bob"
    with pytest.raises(FetchError):
        await resolve_actor(a.app, f"{b.url}/users/nobody")
