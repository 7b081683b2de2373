"""Scope semantics and PKCE, as pure functions (property-based where it pays)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.api.auth import SCOPES, parse_scopes, scope_allows
from server.errors import ValidationError
from server.services.oauth import check_redirect_uris, pkce_ok


@pytest.mark.parametrize(
    ("granted", "required", "ok"),
    [
        ({"read"}, "read:statuses", True),
        ({"read"}, "write:statuses", False),
        ({"write"}, "write:media", True),
        ({"follow"}, "read:follows", True),
        ({"follow"}, "write:blocks", True),
        ({"follow"}, "read:statuses", False),
        ({"read:statuses"}, "read:accounts", False),
        ({"admin:read"}, "admin:read:accounts", True),
        ({"admin:read"}, "admin:write:accounts", False),
        ({"read", "write"}, "push", False),
    ],
)
def test_scope_coverage(granted, required, ok):
    assert scope_allows(frozenset(granted), required) is ok


@given(st.sampled_from(sorted(SCOPES)))
def test_every_scope_covers_itself_and_parses(scope):
    assert scope_allows(frozenset({scope}), scope)
    assert parse_scopes(scope) == (scope,)


def _tokens(s: str) -> list[str]:
    return s.replace("+", " ").replace(",", " ").split()


# Only strings with at least one token: a string of separators alone means "no scope asked" (default).
@given(
    st.text(min_size=1, max_size=20).filter(
        lambda s: _tokens(s) and all(p not in SCOPES for p in _tokens(s))
    )
)
def test_unknown_scopes_are_refused(text):
    with pytest.raises(ValidationError):
        parse_scopes(text)


def test_scopes_outside_the_app_are_refused():
    assert parse_scopes("read write", allowed=frozenset({"read", "write"})) == ("read", "write")
    assert parse_scopes("read:statuses", allowed=frozenset({"read"})) == ("read:statuses",)
    with pytest.raises(ValidationError):
        parse_scopes("read write", allowed=frozenset({"read"}))


@given(
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=43, max_size=128)
)
def test_pkce_s256_and_plain(verifier):
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    assert pkce_ok(verifier, challenge, "S256")
    assert not pkce_ok(verifier + "x", challenge, "S256")
    assert pkce_ok(verifier, verifier, "plain") and pkce_ok(verifier, verifier, None)


def test_redirect_uris():
    assert check_redirect_uris("urn:ietf:wg:oauth:2.0:oob\nhttps://a.example/cb  myapp://cb") == [
        "urn:ietf:wg:oauth:2.0:oob",
        "https://a.example/cb",
        "myapp://cb",
    ]
    for bad in (
        "",
        "relative/path",
        "javascript:alert(1)",
        "https://a.example/cb#frag",
        "https:///nohost",
    ):
        with pytest.raises(ValidationError):
            check_redirect_uris(bad)
