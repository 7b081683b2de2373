"""OAuth without a server: registered apps, codes with PKCE, tokens that resolve to their
member, refresh and revocation."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

import pytest

from server import clock
from server.api.auth import token_auth
from server.errors import ValidationError
from server.services import accounts, oauth

SCOPES = ("read", "write")


async def _app(ctx, **kw):  # type: ignore[no-untyped-def]
    values = {
        "name": "Garden app",
        "redirect_uris": ["https://app.example/cb"],
        "scopes": SCOPES,
        "website": None,
        **kw,
    }
    return await oauth.register_app(ctx, **values)


async def _whose(ctx, token):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return await token_auth(conn, token)


async def _code(ctx, app, member, verifier: str | None = "v" * 50) -> str:  # type: ignore[no-untyped-def]
    return await oauth.create_code(
        ctx,
        app_id=app.id,
        user_id=member.user_id,
        redirect_uri="https://app.example/cb",
        scopes=SCOPES,
        code_challenge=_challenge(verifier) if verifier else None,
        code_challenge_method="S256" if verifier else None,
    )


def _challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


async def test_the_token_fixture_belongs_to_the_member(ctx, member, api_token) -> None:
    auth = await _whose(ctx, api_token)
    assert auth is not None and (auth.user_id, auth.actor_id) == (member.user_id, member.actor_id)
    assert auth.scopes == frozenset({"read", "write", "follow"}) and auth.viewer.local
    assert await _whose(ctx, api_token + "x") is None


async def test_an_app_is_registered_with_its_credentials(ctx) -> None:
    app = await _app(ctx, name="  Garden app  ", website="https://app.example")
    assert app.name == "Garden app" and app.client_id and app.client_secret
    assert (await oauth.client(ctx, app.client_id, app.client_secret)).id == app.id
    for cid, secret in (
        (app.client_id, "wrong"),
        ("unknown", app.client_secret),
        (app.client_id, None),
    ):
        with pytest.raises(oauth.OAuthError) as err:
            await oauth.client(ctx, cid, secret)
        assert err.value.code == "invalid_client" and err.value.status == 401
    for bad in ({"name": " "}, {"name": "n" * 256}, {"website": "ftp://app.example"}):
        with pytest.raises(ValidationError):
            await _app(ctx, **bad)


async def test_a_code_with_pkce_is_exchanged_once(ctx, member) -> None:
    app = await _app(ctx)
    verifier = "v" * 50
    code = await _code(ctx, app, member, verifier)
    issued = await oauth.exchange_code(
        ctx, app, code=code, redirect_uri="https://app.example/cb", code_verifier=verifier
    )
    assert issued.scopes == SCOPES and issued.refresh_token and issued.expires_in
    assert (await _whose(ctx, issued.token)).user_id == member.user_id
    with pytest.raises(oauth.OAuthError) as err:
        await oauth.exchange_code(ctx, app, code=code, redirect_uri=None, code_verifier=verifier)
    assert err.value.code == "invalid_grant"


@pytest.mark.parametrize(
    ("redirect_uri", "verifier"),
    [
        ("https://elsewhere.example/cb", "v" * 50),
        ("https://app.example/cb", "w" * 50),
        (None, None),
    ],
)
async def test_a_code_is_refused_with_the_wrong_uri_or_verifier_and_spent(
    ctx, member, redirect_uri, verifier
) -> None:
    app = await _app(ctx)
    code = await _code(ctx, app, member)
    with pytest.raises(oauth.OAuthError):
        await oauth.exchange_code(
            ctx, app, code=code, redirect_uri=redirect_uri, code_verifier=verifier
        )
    with pytest.raises(oauth.OAuthError):  # spent, even by a failed attempt
        await oauth.exchange_code(
            ctx, app, code=code, redirect_uri="https://app.example/cb", code_verifier="v" * 50
        )


async def test_an_expired_code_and_an_expired_token_do_nothing(ctx, member, monkeypatch) -> None:
    app = await _app(ctx)
    code = await _code(ctx, app, member, None)
    issued = await oauth.issue_for(ctx, app, member.user_id, SCOPES)
    later = clock.now() + oauth.TOKEN_LIFETIME + timedelta(minutes=1)
    monkeypatch.setattr(clock, "now", lambda: later)
    with pytest.raises(oauth.OAuthError):
        await oauth.exchange_code(ctx, app, code=code, redirect_uri=None, code_verifier=None)
    assert await _whose(ctx, issued.token) is None


async def test_refresh_replaces_the_pair_within_the_granted_scopes(ctx, member) -> None:
    app = await _app(ctx)
    first = await oauth.issue_for(ctx, app, member.user_id, SCOPES)
    with pytest.raises(oauth.OAuthError) as err:
        await oauth.refresh(ctx, app, first.refresh_token, ("read", "admin:read"))
    assert err.value.code == "invalid_scope"
    second = await oauth.refresh(ctx, app, first.refresh_token, ("read",))
    assert second.scopes == ("read",)
    assert await _whose(ctx, first.token) is None and await _whose(ctx, second.token) is not None
    with pytest.raises(oauth.OAuthError):
        await oauth.refresh(ctx, app, first.refresh_token, None)
    other = await _app(ctx, name="Other")
    with pytest.raises(oauth.OAuthError):
        await oauth.refresh(ctx, other, second.refresh_token, None)


async def test_revocation_and_disabled_members_end_tokens(ctx, member, make_member) -> None:
    app = await _app(ctx)
    issued = await oauth.issue_for(ctx, app, member.user_id, SCOPES)
    await oauth.revoke(ctx, app, "not a token")
    assert await _whose(ctx, issued.token) is not None
    await oauth.revoke(ctx, app, issued.token)
    assert await _whose(ctx, issued.token) is None
    bo = await make_member("bo", state="pending")
    pending = await oauth.issue_for(ctx, app, bo.user_id, SCOPES)
    assert await _whose(ctx, pending.token) is None
    await accounts.approve_user(ctx.db, bo.user_id)
    assert await _whose(ctx, pending.token) is not None


async def test_an_app_token_has_no_member(ctx) -> None:
    app = await _app(ctx)
    issued = await oauth.issue_for(ctx, app, None, ("read",))
    auth = await _whose(ctx, issued.token)
    assert auth is not None and auth.anonymous and auth.viewer.anonymous
    assert issued.refresh_token is None and issued.expires_in is None
