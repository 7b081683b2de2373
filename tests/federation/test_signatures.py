"""HTTP Signatures: our signer and verifier, cross-checked with httpsig in both directions."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

import httpsig
import pytest
from hypothesis import given
from hypothesis import strategies as st

from federation.signatures import (
    KeyCache,
    SignatureError,
    format_signature_header,
    http_date,
    parse_signature_header,
    sign_request,
    verify_request,
)
from server.services.keys import generate_key_pair

KEY_ID = "https://a.example/users/alice#main-key"
OWNER = "https://a.example/users/alice"
URL = "https://b.example/users/bob/inbox"
BODY = b'{"type":"Create","id":"https://a.example/1"}'
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    return generate_key_pair()


@pytest.fixture(scope="module")
def other_keypair() -> tuple[str, str]:
    return generate_key_pair()


def lookup_for(
    pem: str, owner: str = OWNER, *, refreshed: str | None = None, calls: list | None = None
):
    async def lookup(key_id: str, refresh: bool):
        if calls is not None:
            calls.append((key_id, refresh))
        if key_id != KEY_ID:
            return None
        return (refreshed if refresh and refreshed else pem), owner

    return lookup


def signed_post(private: str, body: bytes = BODY, now: datetime = NOW) -> dict[str, str]:
    return sign_request(
        "POST", URL, {"Content-Type": "application/activity+json"}, body, KEY_ID, private, now=now
    )


async def test_post_signature_has_mastodon_shape_and_verifies(keypair) -> None:
    private, public = keypair
    headers = signed_post(private)
    params = parse_signature_header(headers["Signature"])
    assert params["headers"] == "(request-target) host date digest"
    assert params["algorithm"] == "rsa-sha256"
    assert headers["Host"] == "b.example"
    assert (
        headers["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    )
    result = await verify_request(
        "POST", "/users/bob/inbox", headers, BODY, lookup_for(public), now=NOW
    )
    assert result.owner == OWNER and result.key_id == KEY_ID


async def test_get_signature_covers_target_host_date(keypair) -> None:
    private, public = keypair
    headers = sign_request(
        "GET", "https://b.example/users/bob?page=2", {}, None, KEY_ID, private, now=NOW
    )
    assert parse_signature_header(headers["Signature"])["headers"] == "(request-target) host date"
    assert "Digest" not in headers
    await verify_request("GET", "/users/bob?page=2", headers, None, lookup_for(public), now=NOW)
    with pytest.raises(SignatureError) as err:
        await verify_request("GET", "/users/bob?page=3", headers, None, lookup_for(public), now=NOW)
    assert err.value.reason == "bad_signature"


async def test_key_cache_reuses_parsed_keys(keypair) -> None:
    private, public = keypair
    keys = KeyCache(maxsize=2)
    headers = sign_request("POST", URL, {}, BODY, KEY_ID, private, now=NOW, keys=keys)
    await verify_request(
        "POST", "/users/bob/inbox", headers, BODY, lookup_for(public), now=NOW, keys=keys
    )
    assert keys.public(public) is keys.public(public)
    assert keys.private(private) is keys.private(private)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda h, b: (h, b + b" "), "bad_digest"),  # tampered body
        (
            lambda h, b: ({**h, "Digest": "SHA-256=" + base64.b64encode(b"x" * 32).decode()}, b),
            "bad_digest",
        ),
        (lambda h, b: ({**h, "Digest": "MD5=abc"}, b), "bad_digest"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "Signature"}, b), "no_signature"),
        (lambda h, b: ({**h, "Signature": "garbage"}, b), "bad_signature_header"),
        (
            lambda h, b: (
                {**h, "Signature": h["Signature"].replace("rsa-sha256", "hmac-sha256")},
                b,
            ),
            "unsupported_algorithm",
        ),
        (
            lambda h, b: ({**h, "Signature": h["Signature"].replace(KEY_ID, KEY_ID + "x")}, b),
            "unknown_key",
        ),
        (lambda h, b: ({**h, "Host": "evil.example"}, b), "bad_signature"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "Date"}, b), "missing_header"),
        (
            lambda h, b: ({**h, "Signature": h["Signature"].replace(" digest", "")}, b),
            "missing_header",
        ),
        (
            lambda h, b: (
                {
                    **h,
                    "Signature": h["Signature"].replace(
                        "(request-target) host ", "(request-target) "
                    ),
                },
                b,
            ),
            "missing_header",
        ),
    ],
)
async def test_each_failure_has_its_reason(keypair, mutate, reason) -> None:
    private, public = keypair
    headers, body = mutate(signed_post(private), BODY)
    with pytest.raises(SignatureError) as err:
        await verify_request("POST", "/users/bob/inbox", headers, body, lookup_for(public), now=NOW)
    assert err.value.reason == reason


async def test_time_window_is_mastodons(keypair) -> None:
    private, public = keypair
    headers = signed_post(private)
    lookup = lookup_for(public)
    # 5 minutes default validity + 1 hour skew: accepted at +65 min, refused after.
    await verify_request(
        "POST", "/users/bob/inbox", headers, BODY, lookup, now=NOW + timedelta(minutes=64)
    )
    with pytest.raises(SignatureError) as err:
        await verify_request(
            "POST", "/users/bob/inbox", headers, BODY, lookup, now=NOW + timedelta(minutes=66)
        )
    assert err.value.reason == "expired"
    # Signed more than an hour in the future: refused.
    with pytest.raises(SignatureError) as err:
        await verify_request(
            "POST", "/users/bob/inbox", headers, BODY, lookup, now=NOW - timedelta(minutes=61)
        )
    assert err.value.reason == "future"
    await verify_request(
        "POST", "/users/bob/inbox", headers, BODY, lookup, now=NOW - timedelta(minutes=59)
    )


async def test_key_of_another_actor_is_refused_then_rotation_refetches(
    keypair, other_keypair
) -> None:
    private, public = keypair
    other_private, other_public = other_keypair
    headers = signed_post(other_private)  # signed with a key that is not alice's
    calls: list = []
    with pytest.raises(SignatureError) as err:
        await verify_request(
            "POST", "/users/bob/inbox", headers, BODY, lookup_for(public, calls=calls), now=NOW
        )
    assert err.value.reason == "bad_signature"
    assert calls == [(KEY_ID, False), (KEY_ID, True)]  # exactly one refetch
    # Alice rotated to the other key: the refetch finds it and the request passes.
    result = await verify_request(
        "POST",
        "/users/bob/inbox",
        headers,
        BODY,
        lookup_for(public, refreshed=other_public),
        now=NOW,
    )
    assert result.owner == OWNER


async def test_hs2019_created_and_missing_algorithm_verify(keypair) -> None:
    private, public = keypair
    for algorithm in ("hs2019", None):
        signer = httpsig.HeaderSigner(
            KEY_ID,
            private,
            algorithm="rsa-sha256",
            headers=["(request-target)", "host", "date", "digest"],
            sign_header="Signature",
        )
        base = {
            "Host": "b.example",
            "Date": http_date(NOW),
            "Digest": signed_post(private)["Digest"],
        }
        headers = signer.sign(base, method="POST", path="/users/bob/inbox")
        params = parse_signature_header(headers["Signature"])
        if algorithm:
            params["algorithm"] = algorithm
        else:
            params.pop("algorithm")
        headers["Signature"] = format_signature_header(params)
        await verify_request("POST", "/users/bob/inbox", headers, BODY, lookup_for(public), now=NOW)


async def test_every_signature_we_make_verifies_under_httpsig(keypair) -> None:
    private, public = keypair
    for method, url, body in [
        ("POST", URL, BODY),
        ("GET", "https://b.example/users/bob?x=1", None),
        ("POST", "https://b.example:8443/inbox", b"{}"),
    ]:
        headers = sign_request(
            method, url, {"Accept": "application/activity+json"}, body, KEY_ID, private
        )
        path = url.split("://", 1)[1].split("/", 1)[1]
        names = parse_signature_header(headers["Signature"])["headers"].split()
        verifier = httpsig.HeaderVerifier(
            headers,
            public,
            required_headers=names,
            method=method,
            path="/" + path,
            sign_header="Signature",
        )
        assert verifier.verify(), (method, url)


async def test_every_httpsig_signature_verifies_under_ours(keypair) -> None:
    private, public = keypair
    cases = [
        ("POST", "/users/bob/inbox", BODY, ["(request-target)", "host", "date", "digest"]),
        ("GET", "/users/bob", None, ["(request-target)", "host", "date"]),
        ("GET", "/users/bob?page=true", None, ["(request-target)", "host", "date", "accept"]),
    ]
    for method, path, body, names in cases:
        base = {"Host": "b.example", "Date": http_date(), "Accept": "application/activity+json"}
        if body is not None:
            base["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
        signer = httpsig.HeaderSigner(
            KEY_ID, private, algorithm="rsa-sha256", headers=names, sign_header="Signature"
        )
        headers = signer.sign(base, method=method, path=path)
        result = await verify_request(method, path, headers, body, lookup_for(public))
        assert result.headers == tuple(names)


_value = st.text(
    alphabet=st.characters(blacklist_characters='"\\', blacklist_categories=("Cs", "Cc")),
    max_size=80,
)
_name = st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,15}", fullmatch=True)


@given(
    st.dictionaries(_name, _value, max_size=6),
    st.text(min_size=1, max_size=50).filter(lambda s: '"' not in s),
    st.text(min_size=1, max_size=50).filter(lambda s: '"' not in s),
)
def test_signature_header_round_trips(extra, key_id, signature) -> None:
    params = {**extra, "keyId": key_id, "signature": signature}
    assert parse_signature_header(format_signature_header(params)) == params


@given(st.text(max_size=200))
def test_signature_header_parser_never_crashes(value) -> None:
    try:
        params = parse_signature_header(value)
    except SignatureError as exc:
        assert exc.reason == "bad_signature_header"
    else:
        assert params["keyId"] and params["signature"]


async def test_hs2019_with_created_and_expires(keypair) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from federation.signatures import digest_header, signing_string

    private, public = keypair
    created = int(NOW.timestamp())
    params = {
        "keyId": KEY_ID,
        "algorithm": "hs2019",
        "created": str(created),
        "expires": str(created + 3600),
        "headers": "(request-target) (created) (expires) host digest",
    }
    headers = {"Host": "b.example", "Digest": digest_header(BODY)}
    text = signing_string(
        "POST", "/users/bob/inbox", headers, tuple(params["headers"].split()), params
    )
    key = KeyCache().private(private)
    params["signature"] = base64.b64encode(
        key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    ).decode()
    headers["Signature"] = format_signature_header(params)
    lookup = lookup_for(public)
    await verify_request(
        "POST", "/users/bob/inbox", headers, BODY, lookup, now=NOW + timedelta(minutes=90)
    )
    with pytest.raises(SignatureError) as err:  # expires + 1 h skew has passed
        await verify_request(
            "POST",
            "/users/bob/inbox",
            headers,
            BODY,
            lookup,
            now=NOW + timedelta(hours=2, minutes=1),
        )
    assert err.value.reason == "expired"
