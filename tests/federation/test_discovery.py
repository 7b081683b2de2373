"""WebFinger, host-meta, NodeInfo, actor documents and the Koers context on a real instance."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp

from federation.discovery import resolve_handle
from federation.signatures import sign_request
from federation.state import FETCHER
from server.services import communities
from server.services.keys import generate_key_pair
from tests.federation.conftest import signer_for

AP = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def finger(instance, resource: str):  # type: ignore[no-untyped-def]
    return await instance.client.get(f"/.well-known/webfinger?resource={quote(resource, safe='')}")


async def test_webfinger_finds_members_communities_and_the_organisation(instance) -> None:
    alice = await instance.create_member("alice")
    await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="gardens",
        name="Gardens",
        purpose_text="Grow food together in the city.",
    )
    domain = instance.settings.domain
    for handle, actor in [
        ("alice", "/users/alice"),
        ("gardens", "/communities/gardens"),
        ("org", "/actor"),
    ]:
        resp = await finger(instance, f"acct:{handle}@{domain}")
        assert resp.status == 200, handle
        assert resp.content_type == "application/jrd+json"
        doc = await resp.json(content_type=None)
        assert doc["subject"] == f"acct:{handle}@{domain}"
        self_link = next(link for link in doc["links"] if link["rel"] == "self")
        assert self_link == {"rel": "self", "type": AP, "href": instance.url + actor}
    # The actor URL is accepted as resource too.
    resp = await finger(instance, instance.url + "/users/alice")
    assert (await resp.json(content_type=None))["subject"] == f"acct:alice@{domain}"


async def test_webfinger_unknown_and_malformed(instance) -> None:
    domain = instance.settings.domain
    assert (await finger(instance, f"acct:nobody@{domain}")).status == 404
    assert (await finger(instance, "acct:alice@elsewhere.example")).status == 404
    assert (await finger(instance, "not a resource")).status == 400
    assert (await instance.client.get("/.well-known/webfinger")).status == 400


async def test_host_meta_and_nodeinfo(instance) -> None:
    await instance.create_member("alice")
    resp = await instance.client.get("/.well-known/host-meta")
    assert resp.status == 200
    assert f'template="{instance.url}/.well-known/webfinger?resource={{uri}}"' in await resp.text()
    links = (await (await instance.client.get("/.well-known/nodeinfo")).json())["links"]
    assert {link["href"] for link in links} == {
        f"{instance.url}/nodeinfo/2.0",
        f"{instance.url}/nodeinfo/2.1",
    }
    for version in ("2.0", "2.1"):
        resp = await instance.client.get(f"/nodeinfo/{version}")
        assert resp.status == 200
        doc = await resp.json(content_type=None)
        assert doc["version"] == version
        assert doc["software"]["name"] == "koers"
        assert doc["protocols"] == ["activitypub"]
        assert doc["openRegistrations"] is True
        assert doc["usage"]["users"]["total"] == 1
        assert doc["usage"]["localPosts"] == 0


async def test_nodeinfo_follows_registration_setting(make_instance) -> None:
    closed = await make_instance(registrations="closed")
    doc = await (await closed.client.get("/nodeinfo/2.1")).json(content_type=None)
    assert doc["openRegistrations"] is False


async def test_person_document_by_content_negotiation(instance) -> None:
    await instance.create_member("alice", display_name="Alice A.")
    for accept in (AP, LD):
        resp = await instance.client.get("/users/alice", headers={"Accept": accept})
        assert resp.status == 200
        assert resp.content_type == AP
        doc = await resp.json(content_type=None)
        assert doc["type"] == "Person"
        assert doc["id"] == f"{instance.url}/users/alice"
        assert doc["preferredUsername"] == "alice" and doc["name"] == "Alice A."
        assert doc["publicKey"]["owner"] == doc["id"]
        assert doc["publicKey"]["publicKeyPem"].startswith("-----BEGIN PUBLIC KEY-----")
        assert doc["inbox"] == f"{instance.url}/users/alice/inbox"
        assert doc["endpoints"]["sharedInbox"] == f"{instance.url}/inbox"
        for key in (
            "outbox",
            "followers",
            "following",
            "featured",
            "manuallyApprovesFollowers",
            "discoverable",
        ):
            assert key in doc
        assert f"{instance.url}/ns/koers" in doc["@context"]
    resp = await instance.client.get(
        "/users/alice", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert resp.status == 302 and resp.headers["Location"] == "/@alice"
    assert (await instance.client.get("/users/nobody", headers={"Accept": AP})).status == 404


async def test_group_and_organization_documents(instance) -> None:
    alice = await instance.create_member("alice")
    await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="gardens",
        name="Gardens",
        purpose_text="Grow food together in the city.",
    )
    doc = await (await instance.client.get("/communities/gardens", headers={"Accept": AP})).json(
        content_type=None
    )
    assert doc["type"] == "Group" and doc["id"] == f"{instance.url}/communities/gardens"
    resp = await instance.client.get("/communities/gardens", allow_redirects=False)
    assert resp.status == 302 and resp.headers["Location"] == "/c/gardens"
    org = await (await instance.client.get("/actor", headers={"Accept": AP})).json(
        content_type=None
    )
    assert org["type"] == "Organization" and org["preferredUsername"] == "org"


async def test_koers_context_document(instance) -> None:
    resp = await instance.client.get("/ns/koers")
    assert resp.status == 200
    ctx = (await resp.json(content_type=None))["@context"]
    assert ctx["koers"] == "https://koers.social/ns#"  # one vocabulary IRI on every instance
    assert ctx["role"]["@id"] == "koers:role"
    assert ctx["competency"] == "koers:competency"


async def test_secure_mode_requires_signed_gets(make_instance) -> None:
    inst = await make_instance(secure_mode=True)
    await inst.create_member("alice")
    assert (await inst.client.get("/users/alice", headers={"Accept": AP})).status == 401
    # The instance actor stays readable so peers can fetch its key.
    assert (await inst.client.get("/actor", headers={"Accept": AP})).status == 200


async def test_resolve_handle_between_instances(make_instance) -> None:
    a = await make_instance()
    b = await make_instance()
    await b.create_member("bob")
    uri = await resolve_handle(a.app[FETCHER], "bob", b.settings.domain)
    assert uri == f"{b.url}/users/bob"


async def test_signed_gets_in_secure_and_open_mode(make_instance) -> None:
    secure = await make_instance(secure_mode=True)
    open_ = await make_instance()
    peer = await make_instance()
    for inst in (secure, open_):
        await inst.create_member("alice")
    org = await signer_for(peer, "org")
    forged_pem, _ = generate_key_pair()

    async def get(inst, pem: str) -> int:  # type: ignore[no-untyped-def]
        url = f"{inst.url}/users/alice"
        headers = sign_request("GET", url, {"Accept": AP}, None, org.key_id, pem)
        async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
            return resp.status

    assert await get(secure, org.private_key_pem) == 200  # authorized fetch by a real peer
    assert await get(secure, forged_pem) == 401
    assert await get(open_, forged_pem) == 200  # a public document, read as anonymous
