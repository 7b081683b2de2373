"""OpenID Connect relying party: discovery, the authorization request and the callback's checks.

The authorization code flow with PKCE (S256), ``state`` and ``nonce``. The provider's metadata is
read from ``{issuer}/.well-known/openid-configuration`` and kept for an hour; its JWKS is kept
until a token names a key id it does not hold, then fetched again (at most every few seconds).
The ID token's signature and claims (``iss``, ``aud``, ``exp``, ``iat``, ``nonce``) are checked
by ``joserfc``. The client authenticates at the token endpoint with ``client_secret_basic``.

HTTP goes through a ``Transport`` the caller gives (the web layer's, over the guarded session),
so this module knows nothing of aiohttp. Every failure is a ``SignInFailed``: a message for the
page and a reason for the log.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, urlencode

from server.config import Settings
from server.errors import KoersError

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

log = logging.getLogger(__name__)


def _jose() -> ModuleType:
    """``joserfc`` with its ``jws``, ``jwt``, ``jwk`` and ``errors``, imported when a sign-in is
    first checked: only an instance with OpenID Connect configured needs it, and it is some 70
    modules every other start-up would load for nothing (``tests/test_startup_imports.py``)."""
    import joserfc.errors
    import joserfc.jwk
    import joserfc.jws
    import joserfc.jwt

    return joserfc


METADATA_TTL = 3600.0
JWKS_MIN_REFETCH = 5.0
CLOCK_LEEWAY = 60
MAX_TOKEN_AGE = 600
# Asymmetric algorithms only: never "none", never a MAC keyed with something the client knows.
SAFE_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


class SignInFailed(KoersError):
    """Single sign-on did not work: ``message`` is shown, ``reason`` is logged."""

    status = 400

    def __init__(self, message: str, *, reason: str, status: int = 400) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status


class TransportError(Exception):
    """The provider could not be reached, or answered with an error or something not JSON."""


class Transport(Protocol):
    """How the client talks HTTP to the provider (given by the web layer)."""

    async def get_json(self, url: str, *, bearer: str | None = None) -> dict[str, Any]:
        """GET ``url`` and return its JSON object; raise ``TransportError`` otherwise."""
        ...

    async def post_form(
        self, url: str, form: Mapping[str, str], *, basic: tuple[str, str]
    ) -> dict[str, Any]:
        """POST a form with HTTP Basic authentication; raise ``TransportError`` on failure."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What discovery tells about the provider."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    algorithms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Claims:
    """Who the provider says signed in."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    preferred_username: str
    name: str


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _provider_down(reason: str) -> SignInFailed:
    return SignInFailed(
        "The sign-in provider could not be reached or gave an answer we cannot use. "
        "Please try again in a moment.",
        reason=reason,
        status=502,
    )


def _refused(reason: str) -> SignInFailed:
    return SignInFailed(
        "The sign-in provider's answer could not be verified, so nobody was signed in. "
        "Please start again.",
        reason=reason,
    )


class OidcClient:
    """One configured provider; keeps its metadata and keys in memory."""

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self.transport = transport
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: KeySet | None = None
        self._keys_fetched = 0.0

    async def metadata(self) -> ProviderMetadata:
        """The provider's metadata, fetched on first use and again after an hour."""
        if self._metadata is not None and time.monotonic() - self._metadata[0] < METADATA_TTL:
            return self._metadata[1]
        url = self.settings.oidc_issuer + "/.well-known/openid-configuration"
        try:
            doc = await self.transport.get_json(url)
        except TransportError as exc:
            raise _provider_down(f"discovery at {url} failed: {exc}") from None
        try:
            meta = ProviderMetadata(
                issuer=str(doc["issuer"]),
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
                userinfo_endpoint=str(doc["userinfo_endpoint"])
                if doc.get("userinfo_endpoint")
                else None,
                algorithms=tuple(
                    a
                    for a in doc.get("id_token_signing_alg_values_supported") or ["RS256"]
                    if a in SAFE_ALGORITHMS
                ),
            )
        except (KeyError, TypeError) as exc:
            raise _provider_down(f"discovery document lacks {exc}") from None
        if meta.issuer.rstrip("/") != self.settings.oidc_issuer:
            raise _provider_down(
                f"discovery names issuer {meta.issuer!r}, not {self.settings.oidc_issuer!r}"
            )
        if not meta.algorithms:
            raise _provider_down("the provider signs ID tokens with no algorithm we accept")
        self._metadata = (time.monotonic(), meta)
        return meta

    async def authorization_url(self, *, state: str, nonce: str, code_verifier: str) -> str:
        """Where to send the browser to sign in (the authorization request)."""
        meta = await self.metadata()
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.settings.oidc_client_id,
                "redirect_uri": self.settings.oidc_redirect_uri,
                "scope": self.settings.oidc_scopes,
                "state": state,
                "nonce": nonce,
                "code_challenge": pkce_challenge(code_verifier),
                "code_challenge_method": "S256",
            }
        )
        sep = "&" if "?" in meta.authorization_endpoint else "?"
        return meta.authorization_endpoint + sep + query

    async def finish(self, *, code: str, nonce: str, code_verifier: str) -> Claims:
        """Exchange the code, verify the ID token and read the claims (userinfo when needed)."""
        meta = await self.metadata()
        # RFC 6749 2.3.1: id and secret are form-encoded before they go into Basic.
        basic = (
            quote(self.settings.oidc_client_id, safe=""),
            quote(self.settings.oidc_client_secret, safe=""),
        )
        try:
            answer = await self.transport.post_form(
                meta.token_endpoint,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.settings.oidc_redirect_uri,
                    "code_verifier": code_verifier,
                },
                basic=basic,
            )
        except TransportError as exc:
            raise _provider_down(f"token request failed: {exc}") from None
        id_token = answer.get("id_token")
        if not isinstance(id_token, str):
            raise _refused("the token answer has no id_token")
        claims = await self.verify_id_token(id_token, nonce=nonce)
        access_token = answer.get("access_token")
        wanted = ("email", "preferred_username", "name")
        if (
            any(k not in claims for k in wanted)
            and meta.userinfo_endpoint
            and isinstance(access_token, str)
        ):
            try:
                info = await self.transport.get_json(meta.userinfo_endpoint, bearer=access_token)
            except TransportError as exc:
                raise _provider_down(f"userinfo request failed: {exc}") from None
            if info.get("sub") != claims["sub"]:
                raise _refused("userinfo answered for another subject")
            claims = {**info, **claims}
        return Claims(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=str(claims.get("email") or ""),
            email_verified=claims.get("email_verified") is True,
            preferred_username=str(claims.get("preferred_username") or ""),
            name=str(claims.get("name") or ""),
        )

    async def verify_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The ID token's claims once its signature and claims are checked."""
        meta = await self.metadata()
        jose = _jose()
        try:
            header = jose.jws.extract_compact(id_token.encode("ascii")).protected
        except (jose.errors.JoseError, ValueError, UnicodeError) as exc:
            raise _refused(f"the ID token is malformed: {exc}") from None
        keys = await self._key_set(meta, str(header.get("kid") or ""))
        try:
            token = jose.jwt.decode(id_token, keys, algorithms=list(meta.algorithms))
        except jose.errors.JoseError as exc:
            raise _refused(f"the ID token's signature does not verify: {exc}") from None
        registry = jose.jwt.JWTClaimsRegistry(
            leeway=CLOCK_LEEWAY,
            iss={"essential": True, "value": meta.issuer},
            aud={"essential": True, "value": self.settings.oidc_client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        claims = dict(token.claims)
        try:
            registry.validate(claims)
        except jose.errors.JoseError as exc:
            raise _refused(f"the ID token's claims are wrong: {exc}") from None
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1:
            if claims.get("azp") != self.settings.oidc_client_id:
                raise _refused("the ID token has several audiences and another azp")
        if not isinstance(claims["iat"], int) or claims["iat"] < time.time() - MAX_TOKEN_AGE:
            raise _refused("the ID token was issued too long ago")
        if not isinstance(claims["sub"], str) or not 0 < len(claims["sub"]) <= 255:
            raise _refused("the ID token's sub is not a string of 1 to 255 characters")
        return claims

    async def _key_set(self, meta: ProviderMetadata, kid: str) -> KeySet:
        """The provider's keys; fetched again when ``kid`` is not among them."""
        known = self._keys is not None and (not kid or any(k.kid == kid for k in self._keys.keys))
        stale = time.monotonic() - self._keys_fetched >= JWKS_MIN_REFETCH
        if self._keys is None or (not known and stale):
            jose = _jose()
            try:
                doc = await self.transport.get_json(meta.jwks_uri)
                keys = jose.jwk.KeySet.import_key_set(doc)
            except TransportError as exc:
                raise _provider_down(f"JWKS request failed: {exc}") from None
            except (jose.errors.JoseError, ValueError, TypeError, KeyError) as exc:
                raise _provider_down(f"the JWKS cannot be read: {exc}") from None
            self._keys, self._keys_fetched = keys, time.monotonic()
            log.info("fetched %d signing keys of %s", len(keys.keys), meta.issuer)
        assert self._keys is not None
        return self._keys
