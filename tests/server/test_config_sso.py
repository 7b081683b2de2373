"""The single sign-on and two-factor settings: read, defaulted and checked at start-up."""

from __future__ import annotations

import pytest

from server.config import load_settings
from server.errors import ConfigError

SSO = {
    "KOERS_URL": "https://koers.example.org",
    "KOERS_OIDC_ISSUER": "https://login.example.org/realms/staff/",
    "KOERS_OIDC_CLIENT_ID": "koers",
    "KOERS_OIDC_CLIENT_SECRET": "s3cret",
}


def test_sso_settings_are_read_and_defaulted() -> None:
    s = load_settings(env=SSO)
    assert s.oidc_enabled and s.oidc_issuer == "https://login.example.org/realms/staff"
    assert s.oidc_redirect_uri == "https://koers.example.org/auth/oidc/callback"
    assert (s.oidc_scopes, s.oidc_name, s.oidc_only) == (
        "openid profile email",
        "login.example.org",
        False,
    )
    s = load_settings(
        env={
            **SSO,
            "KOERS_OIDC_NAME": "Contoso account",
            "KOERS_OIDC_SCOPES": "openid  email",
            "KOERS_OIDC_ONLY": "true",
            "KOERS_REQUIRE_2FA_ADMINS": "yes",
        }
    )
    assert (s.oidc_name, s.oidc_scopes, s.oidc_only, s.require_2fa_admins) == (
        "Contoso account",
        "openid email",
        True,
        True,
    )
    assert not load_settings(env={}).oidc_enabled


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**SSO, "KOERS_OIDC_ISSUER": "login.example.org"}, "KOERS_OIDC_ISSUER must be"),
        ({**SSO, "KOERS_OIDC_CLIENT_SECRET": ""}, "needs KOERS_OIDC_CLIENT_ID"),
        ({**SSO, "KOERS_OIDC_SCOPES": "profile email"}, "must include openid"),
        ({"KOERS_OIDC_ONLY": "true"}, "needs KOERS_OIDC_ISSUER"),
        ({"KOERS_REQUIRE_2FA_ADMINS": "maybe"}, "true or false"),
    ],
)
def test_sso_mistakes_are_one_clear_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env=env)
