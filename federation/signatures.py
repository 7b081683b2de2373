"""draft-cavage HTTP Signatures, the way Mastodon makes and checks them.

Pure functions: the clock (``now``) and the key source (``key_lookup``) are passed in, and every
failure is a ``SignatureError`` with a structured ``reason``. Parsed keys are kept in a
``KeyCache`` (held on the app) because parsing a PEM costs far more than an RSA verification.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

# ``cryptography`` (its bindings hold some 6.7 MiB once loaded) is imported where a key is first
# parsed, signed with or checked: a web process that never federates never loads it.

# Mastodon: a signature is valid from ``created`` (or Date) until ``expires`` (default created +
# 5 minutes, never more than 12 hours), with one hour of clock skew allowed either way.
EXPIRATION_WINDOW_LIMIT = timedelta(hours=12)
DEFAULT_EXPIRY = timedelta(minutes=5)
CLOCK_SKEW_MARGIN = timedelta(hours=1)
SUPPORTED_ALGORITHMS = ("rsa-sha256", "hs2019")
POST_HEADERS = ("(request-target)", "host", "date", "digest")
GET_HEADERS = ("(request-target)", "host", "date")

REASONS = (
    "no_signature",
    "bad_signature_header",
    "missing_header",
    "bad_digest",
    "expired",
    "future",
    "unknown_key",
    "key_mismatch",
    "bad_signature",
    "unsupported_algorithm",
)

# key_lookup(key_id, refresh) -> (public key PEM, owner actor URI), or None when unknown.
KeyLookup = Callable[[str, bool], Awaitable[tuple[str, str] | None]]

_PARAM_RE = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^",\s]*))\s*(?:,|$)')


class SignatureError(Exception):
    """A request's signature was refused; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """A verified signature: who signed, with which key, over which headers."""

    key_id: str
    owner: str
    algorithm: str
    headers: tuple[str, ...]


class KeyCache:
    """A small LRU of parsed RSA keys keyed by their PEM text (public and private alike)."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self._keys: OrderedDict[str, object] = OrderedDict()

    def _get(self, pem: str, load: Callable[[bytes], object]) -> object:
        key = self._keys.get(pem)
        if key is not None:
            self._keys.move_to_end(pem)
            return key
        key = load(pem.encode())
        self._keys[pem] = key
        if len(self._keys) > self.maxsize:
            self._keys.popitem(last=False)
        return key

    def private(self, pem: str) -> rsa.RSAPrivateKey:
        """The parsed private key of ``pem``."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = self._get(pem, lambda data: serialization.load_pem_private_key(data, password=None))
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("only RSA private keys are supported")
        return key

    def public(self, pem: str) -> rsa.RSAPublicKey:
        """The parsed public key of ``pem`` (raises ValueError when it is not an RSA key)."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = self._get(pem, serialization.load_pem_public_key)
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("only RSA public keys are supported")
        return key


def http_date(now: datetime | None = None) -> str:
    """An RFC 7231 date (``Thu, 26 Nov 2026 22:00:00 GMT``)."""
    return format_datetime((now or datetime.now(UTC)).astimezone(UTC), usegmt=True)


def digest_header(body: bytes) -> str:
    """The ``Digest`` header value of ``body`` (SHA-256)."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def parse_signature_header(value: str) -> dict[str, str]:
    """Parse ``keyId="…",algorithm="…",headers="…",signature="…"`` into a dict.

    Raises ``SignatureError("bad_signature_header")`` on anything malformed.
    """
    params: dict[str, str] = {}
    pos = 0
    text = value.strip()
    while pos < len(text):
        m = _PARAM_RE.match(text, pos)
        if not m or m.end() == pos:
            raise SignatureError("bad_signature_header", "cannot parse the Signature header")
        params[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
        pos = m.end()
    if not params.get("keyId") or not params.get("signature"):
        raise SignatureError("bad_signature_header", "keyId and signature are required")
    return params


def format_signature_header(params: Mapping[str, str]) -> str:
    """The inverse of ``parse_signature_header`` (values must not contain double quotes)."""
    return ",".join(f'{name}="{value}"' for name, value in params.items())


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def signing_string(
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    names: tuple[str, ...],
    params: Mapping[str, str] | None = None,
) -> str:
    """The text that is signed: one ``name: value`` line per signed header, in order."""
    lower = _lower(headers)
    lines = []
    for name in names:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path_qs}")
        elif name in ("(created)", "(expires)"):
            value = (params or {}).get(name[1:-1])
            if not value:
                raise SignatureError("missing_header", f"{name} is signed but has no parameter")
            lines.append(f"{name}: {value}")
        else:
            if name not in lower:
                raise SignatureError("missing_header", f"signed header {name} is missing")
            lines.append(f"{name}: {lower[name].strip()}")
    return "\n".join(lines)


def sign_request(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    key_id: str,
    private_key_pem: str,
    now: datetime | None = None,
    *,
    keys: KeyCache | None = None,
) -> dict[str, str]:
    """Return ``headers`` plus Host, Date, Digest (with a body) and a Mastodon-style Signature."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urlsplit(url)
    path_qs = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    out = dict(headers)
    out["Host"] = parts.netloc
    out["Date"] = http_date(now)
    names: tuple[str, ...] = GET_HEADERS
    if body is not None:
        out["Digest"] = digest_header(body)
        names = POST_HEADERS
    key = (keys or KeyCache(1)).private(private_key_pem)
    text = signing_string(method, path_qs, out, names)
    signature = key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    out["Signature"] = format_signature_header(
        {
            "keyId": key_id,
            "algorithm": "rsa-sha256",
            "headers": " ".join(names),
            "signature": base64.b64encode(signature).decode(),
        }
    )
    return out


def _check_required(method: str, names: tuple[str, ...], body: bytes | None) -> None:
    # Mastodon's requirements: a time (Date or created), the target or the digest, and the Host
    # with the target; a POST must sign its Digest.
    if "date" not in names and "(created)" not in names:
        raise SignatureError("missing_header", "date or (created) must be signed")
    if "(request-target)" not in names and "digest" not in names:
        raise SignatureError("missing_header", "(request-target) or digest must be signed")
    if "(request-target)" in names and "host" not in names:
        raise SignatureError("missing_header", "host must be signed with (request-target)")
    if method.upper() == "POST" and body and "digest" not in names:
        raise SignatureError("missing_header", "digest must be signed on POST")


def _check_digest(lower: Mapping[str, str], body: bytes | None) -> None:
    value = lower.get("digest")
    if value is None:
        if body:
            raise SignatureError("missing_header", "a request with a body needs a Digest")
        return
    expected = hashlib.sha256(body or b"").digest()
    for part in value.split(","):
        algo, _, encoded = part.strip().partition("=")
        if algo.lower() != "sha-256":
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise SignatureError("bad_digest", "the SHA-256 digest is not base64") from None
        if not hmac.compare_digest(given, expected):
            raise SignatureError("bad_digest", "the body does not match its Digest")
        return
    raise SignatureError("bad_digest", "only SHA-256 digests are supported")


def _check_time(lower: Mapping[str, str], params: Mapping[str, str], now: datetime) -> None:
    try:
        if params.get("created"):
            created: datetime | None = datetime.fromtimestamp(int(params["created"]), UTC)
        elif lower.get("date"):
            created = parsedate_to_datetime(lower["date"])
            if created.tzinfo is None:
                created = created.replace(tzinfo=UTC)
        else:
            created = None
        expires = (
            datetime.fromtimestamp(int(params["expires"]), UTC) if params.get("expires") else None
        )
    except (ValueError, TypeError, OverflowError):
        raise SignatureError("bad_signature_header", "invalid Date, created or expires") from None
    if created is None:
        raise SignatureError("missing_header", "no Date header and no created parameter")
    expires = min(expires or created + DEFAULT_EXPIRY, created + EXPIRATION_WINDOW_LIMIT)
    if created > now + CLOCK_SKEW_MARGIN:
        raise SignatureError("future", "the signature was made in the future")
    if now > expires + CLOCK_SKEW_MARGIN:
        raise SignatureError("expired", "the signature has expired")


def _verify_with(pem: str, keys: KeyCache, text: bytes, signature: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        keys.public(pem).verify(signature, text, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    except ValueError:
        raise SignatureError("unknown_key", "the key is not a usable RSA public key") from None
    return True


async def verify_request(
    method: str,
    path_qs: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_lookup: KeyLookup,
    now: datetime | None = None,
    *,
    keys: KeyCache | None = None,
) -> VerifyResult:
    """Check a request's signature, digest and time window; return who signed it.

    The key is looked up once more with ``refresh=True`` when verification fails, so a remote
    actor that rotated its key is still believed.
    """
    lower = _lower(headers)
    raw = lower.get("signature")
    if raw is None and lower.get("authorization", "").lower().startswith("signature "):
        raw = lower["authorization"][len("signature ") :]
    if not raw:
        raise SignatureError("no_signature", "the request is not signed")
    params = parse_signature_header(raw)
    algorithm = params.get("algorithm", "").lower()
    if algorithm and algorithm not in SUPPORTED_ALGORITHMS:
        raise SignatureError("unsupported_algorithm", f"algorithm {algorithm} is not supported")
    names = tuple(params.get("headers", "date").lower().split())
    _check_required(method, names, body)
    _check_digest(lower, body)
    _check_time(lower, params, now or datetime.now(UTC))
    try:
        signature = base64.b64decode(params["signature"], validate=True)
    except ValueError:
        raise SignatureError("bad_signature_header", "the signature is not base64") from None
    text = signing_string(method, path_qs, lower, names, params).encode()
    keys = keys or KeyCache(4)
    key_id = params["keyId"]
    found = await key_lookup(key_id, False)
    if found is None:
        raise SignatureError("unknown_key", f"no key {key_id}")
    if _verify_with(found[0], keys, text, signature):
        return VerifyResult(key_id, found[1], algorithm or "rsa-sha256", names)
    refreshed = await key_lookup(key_id, True)
    if (
        refreshed is not None
        and refreshed[0] != found[0]
        and _verify_with(refreshed[0], keys, text, signature)
    ):
        return VerifyResult(key_id, refreshed[1], algorithm or "rsa-sha256", names)
    raise SignatureError("bad_signature", "the signature does not verify")
