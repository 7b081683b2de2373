"""The OpenID Connect relying party against forged and broken provider answers (no network).

A fake transport plays the provider: its discovery document, its JWKS and a token endpoint whose
ID token each test forges. Everything forged must be refused with ``SignInFailed``; the pending
sign-in rows are single use and bound to the browser that began them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from server.config import Settings
from server.services import oidc_accounts
from server.services.oidc import OidcClient, SignInFailed, TransportError, pkce_challenge
from server.storage.db import Database

ISSUER = "https://login.example.org"
CLIENT_ID = "koers-app"
SECRET = "s e/cret-0123456789abcdef"


class FakeProvider:
    """The provider's side of the transport; ``token_claims`` is what the next ID token says."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        self.published = [self.key]
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.id_token = ""
        self.userinfo: dict[str, Any] = {}
        self.down = False

    def sign(self, claims: dict[str, Any], *, key: RSAKey | None = None, alg: str = "RS256") -> str:
        key = key or self.key
        return jwt.encode({"alg": alg, "kid": key.kid}, claims, key)

    def claims(self, nonce: str | None, **changes: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {
            "iss": ISSUER,
            "sub": "user-1",
            "aud": CLIENT_ID,
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "email": "ana@example.org",
            "preferred_username": "ana",
            "name": "Ana",
        }
        base.update(changes)
        return {k: v for k, v in base.items() if v is not None}

    async def get_json(self, url: str, *, bearer: str | None = None) -> dict[str, Any]:
        self.requests.append(("GET", url, {"bearer": bearer}))
        if self.down:
            raise TransportError("connection refused")
        if url.endswith("/.well-known/openid-configuration"):
            return {
                "issuer": ISSUER,
                "authorization_endpoint": ISSUER + "/auth",
                "token_endpoint": ISSUER + "/token",
                "jwks_uri": ISSUER + "/jwks",
                "userinfo_endpoint": ISSUER + "/me",
                "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            }
        if url.endswith("/jwks"):
            return KeySet(self.published).as_dict(private=False)  # type: ignore[arg-type]
        if url.endswith("/me"):
            return self.userinfo
        raise TransportError(f"unexpected {url}")

    async def post_form(
        self, url: str, form: Mapping[str, str], *, basic: tuple[str, str]
    ) -> dict[str, Any]:
        self.requests.append(("POST", url, {"form": dict(form), "basic": basic}))
        return {"access_token": "at", "token_type": "Bearer", "id_token": self.id_token}


@pytest.fixture
def sso_settings(unit_settings: Settings) -> Settings:
    return unit_settings.replace(
        oidc_issuer=ISSUER,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=SECRET,
        oidc_name="Contoso",
    )


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def client(sso_settings: Settings, provider: FakeProvider) -> OidcClient:
    return OidcClient(sso_settings, provider)


async def _start(unit_db: Database, client: OidcClient, browser: str = "b1") -> dict[str, str]:
    url = await oidc_accounts.begin(unit_db, client, browser=browser, next_url="/home")
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def test_authorization_request_has_pkce_state_nonce(
    unit_db: Database, client: OidcClient
) -> None:
    params = await _start(unit_db, client)
    assert params["response_type"] == "code" and params["client_id"] == CLIENT_ID
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["redirect_uri"] == "https://koers.test/auth/oidc/callback"
    assert params["scope"] == "openid profile email"
    assert len(params["state"]) > 30 and len(params["nonce"]) > 30
    pending = await oidc_accounts.take(unit_db, state=params["state"], browser="b1")
    assert pkce_challenge(pending.code_verifier) == params["code_challenge"]
    assert pending.nonce == params["nonce"]


async def test_good_token_is_accepted_with_basic_auth_and_verifier(
    unit_db: Database, client: OidcClient, provider: FakeProvider
) -> None:
    params = await _start(unit_db, client)
    pending = await oidc_accounts.take(unit_db, state=params["state"], browser="b1")
    provider.id_token = provider.sign(provider.claims(pending.nonce))
    claims = await client.finish(code="c", nonce=pending.nonce, code_verifier=pending.code_verifier)
    assert (claims.subject, claims.email, claims.preferred_username) == (
        "user-1",
        "ana@example.org",
        "ana",
    )
    post = next(r for r in provider.requests if r[0] == "POST")
    assert post[2]["basic"] == (
        CLIENT_ID,
        "s%20e%2Fcret-0123456789abcdef",
    )  # form-encoded first (RFC 6749 2.3.1)
    assert post[2]["form"]["code_verifier"] == pending.code_verifier
    assert not any(r[1].endswith("/me") for r in provider.requests)


async def test_claims_missing_from_the_id_token_come_from_userinfo(
    client: OidcClient, provider: FakeProvider
) -> None:
    provider.id_token = provider.sign(
        provider.claims("n", email=None, preferred_username=None, name=None)
    )
    provider.userinfo = {"sub": "user-1", "email": "u@example.org", "preferred_username": "u"}
    claims = await client.finish(code="c", nonce="n", code_verifier="v")
    assert claims.email == "u@example.org" and claims.preferred_username == "u"
    provider.userinfo = {"sub": "someone-else", "email": "x@example.org"}
    with pytest.raises(SignInFailed, match="could not be verified"):
        await client.finish(code="c", nonce="n", code_verifier="v")


@pytest.mark.parametrize(
    "forgery",
    [
        "wrong signature",
        "wrong audience",
        "expired",
        "wrong issuer",
        "issued long ago",
        "no nonce",
        "alg none",
        "symmetric alg",
        "several audiences without azp",
    ],
)
async def test_forged_tokens_are_refused(
    client: OidcClient, provider: FakeProvider, forgery: str
) -> None:
    now = int(time.time())
    other = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    tokens = {
        "wrong signature": lambda: provider.sign(provider.claims("n"), key=other),
        "wrong audience": lambda: provider.sign(provider.claims("n", aud="another-app")),
        "expired": lambda: provider.sign(provider.claims("n", exp=now - 3600, iat=now - 4000)),
        "wrong issuer": lambda: provider.sign(provider.claims("n", iss="https://evil.example")),
        "issued long ago": lambda: provider.sign(provider.claims("n", iat=now - 3000)),
        "no nonce": lambda: provider.sign(provider.claims(None)),
        "alg none": lambda: _unsigned(provider.claims("n")),
        "symmetric alg": lambda: jwt.encode({"alg": "HS256"}, provider.claims("n"), _oct(SECRET)),
        "several audiences without azp": lambda: provider.sign(
            provider.claims("n", aud=[CLIENT_ID, "another-app"])
        ),
    }
    expected = {
        "wrong signature": "signature",
        "wrong audience": "'aud'",
        "expired": "expired",
        "wrong issuer": "'iss'",
        "issued long ago": "too long ago",
        "no nonce": "'nonce'",
        "alg none": "signature",
        "symmetric alg": "signature",
        "several audiences without azp": "azp",
    }
    provider.id_token = tokens[forgery]()
    with pytest.raises(SignInFailed) as caught:
        await client.finish(code="c", nonce="n", code_verifier="v")
    assert caught.value.status == 400
    assert expected[forgery] in caught.value.reason, caught.value.reason


async def test_replayed_nonce_is_refused(
    unit_db: Database, client: OidcClient, provider: FakeProvider
) -> None:
    """A token captured from an earlier sign-in does not complete a new one."""
    first = await oidc_accounts.take(
        unit_db, state=(await _start(unit_db, client))["state"], browser="b1"
    )
    provider.id_token = provider.sign(provider.claims(first.nonce))
    await client.finish(code="c", nonce=first.nonce, code_verifier=first.code_verifier)
    second = await oidc_accounts.take(
        unit_db, state=(await _start(unit_db, client))["state"], browser="b1"
    )
    with pytest.raises(SignInFailed, match="could not be verified"):
        await client.finish(code="c2", nonce=second.nonce, code_verifier=second.code_verifier)


async def test_state_is_single_use_and_bound_to_the_browser(
    unit_db: Database, client: OidcClient
) -> None:
    params = await _start(unit_db, client, browser="mine")
    with pytest.raises(SignInFailed, match="another browser"):
        await oidc_accounts.take(unit_db, state=params["state"], browser="theirs")
    with pytest.raises(SignInFailed, match="unknown"):
        await oidc_accounts.take(unit_db, state="made-up", browser="mine")
    with pytest.raises(SignInFailed, match="no state"):
        await oidc_accounts.take(unit_db, state="", browser="mine")
    await oidc_accounts.take(unit_db, state=params["state"], browser="mine")
    with pytest.raises(SignInFailed, match="already used"):
        await oidc_accounts.take(unit_db, state=params["state"], browser="mine")


async def test_unknown_kid_refetches_the_keys_once(
    client: OidcClient, provider: FakeProvider
) -> None:
    provider.id_token = provider.sign(provider.claims("n"))
    await client.finish(code="c", nonce="n", code_verifier="v")
    rotated = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    provider.published = [provider.key, rotated]
    provider.id_token = provider.sign(provider.claims("n"), key=rotated)
    client._keys_fetched -= 60  # the refetch limit has passed
    await client.finish(code="c", nonce="n", code_verifier="v")
    assert sum(r[1].endswith("/jwks") for r in provider.requests) == 2
    # the cached keys serve the next token without a fetch
    await client.finish(code="c", nonce="n", code_verifier="v")
    assert sum(r[1].endswith("/jwks") for r in provider.requests) == 2


async def test_provider_down_is_a_clear_failure(client: OidcClient, provider: FakeProvider) -> None:
    provider.down = True
    with pytest.raises(SignInFailed, match="could not be reached") as caught:
        await client.authorization_url(state="s", nonce="n", code_verifier="v")
    assert caught.value.status == 502


def _unsigned(claims: dict[str, Any]) -> str:
    import base64
    import json

    def part(d: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


def _oct(secret: str):  # type: ignore[no-untyped-def]
    from joserfc.jwk import OctKey

    return OctKey.import_key(secret)
