"""HTTP signatures against stored actors, without a server: requests signed by a remote actor
verify through the instance's key lookup, a rotated key is fetched once, and every refusal
names its reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from federation.actors import key_lookup_for, resolve_actor
from federation.errors import ActorError, FetchError
from federation.signatures import KeyCache, SignatureError, sign_request, verify_request
from tests.fast import KEYS, person_document

INBOX = "https://koers.test/inbox"


def _signed(remote_actor, body: bytes = b'{"type": "Follow"}', **kw):  # type: ignore[no-untyped-def]
    headers = sign_request(
        "POST",
        INBOX,
        {"Content-Type": "application/activity+json"},
        body,
        kw.pop("key_id", remote_actor.key_id),
        kw.pop("pem", remote_actor.private_key_pem),
        **kw,
    )
    return headers, body


async def _verify(wired, headers, body, **kw):  # type: ignore[no-untyped-def]
    return await verify_request(
        "POST", "/inbox", headers, body, key_lookup_for(wired.app), keys=KeyCache(), **kw
    )


async def test_a_stored_actors_signature_verifies_without_fetching(wired, remote_actor) -> None:
    headers, body = _signed(remote_actor)
    result = await _verify(wired, headers, body)
    assert (result.key_id, result.owner) == (remote_actor.key_id, remote_actor.uri)
    assert result.headers == ("(request-target)", "host", "date", "digest")
    assert wired.transport.fetched == []


async def test_a_local_members_signature_verifies_by_its_stored_key(wired, unit_db, member) -> None:
    import sqlalchemy as sa

    from server.storage import schema as t

    async with unit_db.read() as conn:
        row = (
            await conn.execute(sa.select(t.actors).where(t.actors.c.id == member.actor_id))
        ).one()
    headers = sign_request("POST", INBOX, {}, b"{}", row.key_id, row.private_key_pem)
    assert (await _verify(wired, headers, b"{}")).owner == row.uri


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda h, b: ({k: v for k, v in h.items() if k != "Signature"}, b), "no_signature"),
        (lambda h, b: ({**h, "Signature": "garbage"}, b), "bad_signature_header"),
        (lambda h, b: (h, b + b" "), "bad_digest"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "Digest"}, b), "missing_header"),
        (
            lambda h, b: ({**h, "Signature": h["Signature"].replace("rsa-sha256", "dsa-sha1")}, b),
            "unsupported_algorithm",
        ),
    ],
)
async def test_each_refusal_names_its_reason(wired, remote_actor, tamper, reason) -> None:
    headers, body = tamper(*_signed(remote_actor))
    with pytest.raises(SignatureError) as err:
        await _verify(wired, headers, body)
    assert err.value.reason == reason


async def test_an_old_or_future_date_is_refused(wired, remote_actor) -> None:
    headers, body = _signed(remote_actor)
    now = datetime.now(UTC)
    for moment, reason in (
        (now + timedelta(hours=13), "expired"),
        (now - timedelta(hours=13), "future"),
    ):
        with pytest.raises(SignatureError) as err:
            await _verify(wired, headers, body, now=moment)
        assert err.value.reason == reason


async def test_another_key_than_the_stored_one_does_not_verify(wired, remote_actor) -> None:
    other_private, _ = KEYS.take()
    headers, body = _signed(remote_actor, pem=other_private)
    with pytest.raises(SignatureError) as err:
        await _verify(wired, headers, body)
    assert err.value.reason == "bad_signature"
    assert wired.transport.fetched == [remote_actor.uri]  # it asked once whether the key rotated


async def test_a_rotated_key_is_fetched_stored_and_believed(wired, remote_actor) -> None:
    new_private, new_public = KEYS.take()
    wired.transport.documents[remote_actor.uri] = person_document(
        "rosa", "remote.example", new_public
    )
    headers, body = _signed(remote_actor, pem=new_private)
    assert (await _verify(wired, headers, body)).owner == remote_actor.uri
    headers, body = _signed(remote_actor, pem=new_private)
    wired.transport.fetched.clear()
    await _verify(wired, headers, body)
    assert wired.transport.fetched == []  # the new key is stored now


async def test_an_unknown_key_on_an_unreachable_host_is_unknown(wired) -> None:
    private, _ = KEYS.take()
    headers = sign_request(
        "POST", INBOX, {}, b"{}", "https://gone.example/users/x#main-key", private
    )
    with pytest.raises(SignatureError) as err:
        await _verify(wired, headers, b"{}")
    assert err.value.reason == "unknown_key"


async def test_a_key_claimed_by_another_actor_is_a_mismatch(wired, remote_actor) -> None:
    private, public = KEYS.take()
    doc = person_document("mallory", "remote.example", public)
    wired.transport.documents["https://remote.example/users/mallory"] = doc
    claimed = "https://remote.example/users/mallory#other-key"
    headers = sign_request("POST", INBOX, {}, b"{}", claimed, private)
    with pytest.raises(SignatureError) as err:
        await _verify(wired, headers, b"{}")
    assert err.value.reason == "key_mismatch"


async def test_a_new_actor_is_fetched_checked_and_stored_once(wired) -> None:
    _, public = KEYS.take()
    uri = "https://remote.example/users/nina"
    wired.transport.documents[uri] = person_document("nina", "remote.example", public)
    first = await resolve_actor(wired.app, uri)
    assert await resolve_actor(wired.app, uri + "#main-key") == first
    assert wired.transport.fetched.count(uri) == 1  # the second time it is known
    wired.transport.documents[uri] = {**person_document("nina", "other.example", public)}
    with pytest.raises(ActorError):
        await resolve_actor(wired.app, uri, refresh=True)
    with pytest.raises(FetchError):
        await resolve_actor(wired.app, "https://remote.example/users/unknown")
    with pytest.raises(ActorError):
        await resolve_actor(wired.app, "https://koers.test/users/nobody")


def test_the_body_digest_is_part_of_what_is_signed() -> None:
    private, _ = KEYS.take()
    body = json.dumps({"a": 1}).encode()
    headers = sign_request("POST", INBOX, {}, body, "k", private)
    assert headers["Digest"].startswith("SHA-256=")
    assert 'headers="(request-target) host date digest"' in headers["Signature"]
