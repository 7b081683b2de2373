"""Typed settings, read from ``KOERS_*`` environment variables and command-line overrides.

Every mistake is reported as one clear line (``ConfigError``) before anything starts.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from server.errors import ConfigError

REGISTRATION_MODES = ("open", "approval", "invite", "closed")
FEDERATION_MODES = ("open", "allowlist")
# The interface's languages (catalogues in server/locale/); the strings are written in the first.
LANGUAGES = ("en", "nl")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the instance needs to know to start."""

    url: str = "http://127.0.0.1:8080"
    data_dir: Path = Path("koers-data")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    secret: str = ""
    registrations: str = "open"
    allow_private_addresses: bool = False
    federation_mode: str = "open"
    secure_mode: bool = False
    password_grant: bool = True
    instance_name: str = "Koers"
    # Background workers (delivery, inbox processing); tests may switch them off.
    run_workers: bool = True
    # --- Limits and hardening: rate limits, slow clients (see README "Limits and hardening") ---
    rate_limit: bool = True  # enforce the request limits (429 + Retry-After)
    rate_limit_loopback: bool = True  # off: requests from loopback are never limited (tests)
    rate_limit_requests: int = 300  # API requests per window per token (per address anonymous)
    rate_limit_window: int = 300  # seconds
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1")  # whose X-Forwarded-For is believed
    header_timeout: float = 10.0  # seconds to send a request's line and headers
    body_timeout: float = 30.0  # seconds to send a whole request body
    connections_per_address: int = 64  # open connections from one address (trusted proxies exempt)
    stream_heartbeat: float = 30.0  # seconds between WebSocket pings; no pong in time closes it
    streams_per_token: int = 8  # open streaming sockets per access token
    # E-mail: where mail leaves (empty: written as .eml files under data_dir/mail) and its sender.
    smtp_url: str = ""
    mail_from: str = ""
    # Single sign-on (OpenID Connect) and two-factor sign-in.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = ""
    oidc_name: str = ""
    oidc_scopes: str = "openid profile email"
    oidc_only: bool = False
    require_2fa_admins: bool = False
    # --- Languages (see README "Languages") ---
    language: str = "en"  # the instance default: when neither the member nor the browser chooses

    @property
    def oidc_enabled(self) -> bool:
        """Whether single sign-on through an OpenID provider is configured."""
        return bool(self.oidc_issuer)

    @property
    def oidc_redirect_uri(self) -> str:
        """The redirect URI to register at the OpenID provider."""
        return self.url + "/auth/oidc/callback"

    @property
    def domain(self) -> str:
        """Host (and port when not default) that names this instance: ``example.org:8080``."""
        return urlsplit(self.url).netloc

    @property
    def hostname(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def mail_sender(self) -> str:
        """The From of every message: ``KOERS_MAIL_FROM``, else ``noreply@`` this instance's host."""
        return self.mail_from or f"{self.instance_name} <noreply@{self.hostname or 'localhost'}>"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


# Limits and hardening settings: field name -> type; each is ``KOERS_`` + the name upper-cased.
_HARDENING: dict[str, type] = {
    "rate_limit": bool,
    "rate_limit_loopback": bool,
    "rate_limit_requests": int,
    "rate_limit_window": int,
    "trusted_proxies": tuple,
    "header_timeout": float,
    "body_timeout": float,
    "connections_per_address": int,
    "stream_heartbeat": float,
    "streams_per_token": int,
}


def _hardening(raw: dict[str, object]) -> dict[str, Any]:
    """The limits and hardening settings present in ``raw``, checked and converted."""
    out: dict[str, Any] = {}
    for name, kind in _HARDENING.items():
        if name not in raw:
            continue
        value, var = raw[name], "KOERS_" + name.upper()
        if kind is bool:
            out[name] = value if isinstance(value, bool) else _bool(var, str(value))
        elif kind is tuple:
            items = value if isinstance(value, (list, tuple)) else str(value).split(",")
            out[name] = tuple(str(v).strip() for v in items if str(v).strip())
        else:
            try:
                number = kind(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{var} must be a number, not {value!r}") from None
            if number <= 0:
                raise ConfigError(f"{var} must be greater than 0, not {value!r}")
            out[name] = number
    return out


def _bool(name: str, value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, not {value!r}")


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"KOERS_URL must be an http(s) URL with a host, like https://koers.example.org (got {url!r})"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigError(f"KOERS_URL must not have a path, query or fragment (got {url!r})")
    try:
        _ = parts.port  # raises ValueError for a port out of range
    except ValueError:
        raise ConfigError(f"KOERS_URL has an invalid port (got {url!r})") from None
    return f"{parts.scheme}://{parts.netloc}"


def normalise_database_url(url: str) -> str:
    """Turn ``postgresql://`` / ``sqlite:///`` into the async-driver form SQLAlchemy needs."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
        return url
    raise ConfigError(
        f"KOERS_DATABASE_URL must start with sqlite:/// or postgresql:// (got {url.split(':', 1)[0]!r})"
    )


def load_settings(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from the environment, apply command-line overrides, validate.

    ``overrides`` whose value is ``None`` are ignored, so argparse results can be passed as is.
    """
    env = dict(os.environ if env is None else env)
    raw: dict[str, object] = {}
    mapping = {
        "KOERS_URL": "url",
        "KOERS_DATA_DIR": "data_dir",
        "KOERS_DATABASE_URL": "database_url",
        "KOERS_HOST": "host",
        "KOERS_PORT": "port",
        "KOERS_SECRET": "secret",
        "KOERS_REGISTRATIONS": "registrations",
        "KOERS_ALLOW_PRIVATE_ADDRESSES": "allow_private_addresses",
        "KOERS_FEDERATION_MODE": "federation_mode",
        "KOERS_SECURE_MODE": "secure_mode",
        "KOERS_PASSWORD_GRANT": "password_grant",
        "KOERS_INSTANCE_NAME": "instance_name",
        "KOERS_RUN_WORKERS": "run_workers",
        **{"KOERS_" + name.upper(): name for name in _HARDENING},
        "KOERS_SMTP_URL": "smtp_url",
        "KOERS_MAIL_FROM": "mail_from",
        "KOERS_OIDC_ISSUER": "oidc_issuer",
        "KOERS_OIDC_CLIENT_ID": "oidc_client_id",
        "KOERS_OIDC_CLIENT_SECRET": "oidc_client_secret",
        "KOERS_OIDC_NAME": "oidc_name",
        "KOERS_OIDC_SCOPES": "oidc_scopes",
        "KOERS_OIDC_ONLY": "oidc_only",
        "KOERS_REQUIRE_2FA_ADMINS": "require_2fa_admins",
        "KOERS_LANGUAGE": "language",
    }
    for var, field in mapping.items():
        if var in env and env[var] != "":
            raw[field] = env[var]
    for field, value in overrides.items():
        if value is not None:
            raw[field] = value

    port_raw = raw.get("port", 8080)
    try:
        port = int(port_raw) if isinstance(port_raw, int) else int(str(port_raw))
    except (TypeError, ValueError):
        raise ConfigError(f"KOERS_PORT must be a number, not {port_raw!r}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"KOERS_PORT must be between 0 and 65535, not {port}")

    host = str(raw.get("host", "127.0.0.1"))
    url = raw.get("url")
    url = (
        _check_url(str(url))
        if url
        else f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    )

    registrations = str(raw.get("registrations", "open")).lower()
    if registrations not in REGISTRATION_MODES:
        raise ConfigError(
            f"KOERS_REGISTRATIONS must be one of {', '.join(REGISTRATION_MODES)} (got {registrations!r})"
        )
    federation_mode = str(raw.get("federation_mode", "open")).lower()
    if federation_mode not in FEDERATION_MODES:
        raise ConfigError(
            f"KOERS_FEDERATION_MODE must be one of {', '.join(FEDERATION_MODES)} (got {federation_mode!r})"
        )

    data_dir = Path(str(raw.get("data_dir", "koers-data"))).expanduser()
    database_url = str(
        raw.get("database_url") or f"sqlite:///{data_dir.resolve() / 'koers.sqlite3'}"
    )
    database_url = normalise_database_url(database_url)

    def flag(field: str, default: bool) -> bool:
        value = raw.get(field, default)
        return value if isinstance(value, bool) else _bool("KOERS_" + field.upper(), str(value))

    return Settings(
        url=url,
        data_dir=data_dir,
        database_url=database_url,
        host=host,
        port=port,
        secret=str(raw.get("secret", "")),
        registrations=registrations,
        allow_private_addresses=flag("allow_private_addresses", False),
        federation_mode=federation_mode,
        secure_mode=flag("secure_mode", False),
        password_grant=flag("password_grant", True),
        instance_name=str(raw.get("instance_name", "Koers")),
        run_workers=flag("run_workers", True),
        **_hardening(raw),
        smtp_url=_check_smtp_url(str(raw.get("smtp_url", ""))),
        mail_from=_check_mail_from(str(raw.get("mail_from", ""))),
        **_oidc_settings(raw, flag),
        language=_check_language(str(raw.get("language", "en"))),
    )


def _check_language(value: str) -> str:
    """One of the languages the interface has catalogues for (``en``, ``nl``)."""
    code = value.strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise ConfigError(f"KOERS_LANGUAGE must be one of {', '.join(LANGUAGES)} (got {value!r})")
    return code


def _check_smtp_url(url: str) -> str:
    """``smtp://user:password@host:port`` (``?starttls=true``) or ``smtps://`` (implicit TLS)."""
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError(
            "KOERS_SMTP_URL must be smtp://user:password@host:port or smtps://…, "
            f"with a host (got scheme {parts.scheme!r})"
        )
    try:
        _ = parts.port
    except ValueError:
        raise ConfigError("KOERS_SMTP_URL has an invalid port") from None
    for pair in filter(None, parts.query.split("&")):
        name, _sep, value = pair.partition("=")
        if name != "starttls":
            raise ConfigError(f"KOERS_SMTP_URL knows only ?starttls=true (got {name!r})")
        _bool("KOERS_SMTP_URL starttls", value)
    return url


def _check_mail_from(value: str) -> str:
    """An address, with or without a name: ``Koers <koers@example.org>``."""
    if not value:
        return ""
    _name, address = parseaddr(value)
    if not re.match(r"^[^@\s]+@[^@\s]+$", address):
        raise ConfigError(f"KOERS_MAIL_FROM must be an e-mail address (got {value!r})")
    return value


def templates_dir() -> Path:
    """The templates (pages, ``mail/``): beside the packages in a checkout, under ``share/koers``
    once installed."""
    here = Path(__file__).resolve().parent.parent / "templates"
    installed = Path(sys.prefix) / "share" / "koers" / "templates"
    return here if here.is_dir() or not installed.is_dir() else installed


def _oidc_settings(raw: dict[str, object], flag: Callable[[str, bool], bool]) -> dict[str, Any]:
    """The single sign-on and two-factor settings, checked together."""
    issuer = str(raw.get("oidc_issuer", "")).strip().rstrip("/")
    client_id = str(raw.get("oidc_client_id", "")).strip()
    secret = str(raw.get("oidc_client_secret", ""))
    scopes = " ".join(str(raw.get("oidc_scopes", "openid profile email")).split())
    only = flag("oidc_only", False)
    if issuer:
        parts = urlsplit(issuer)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ConfigError(
                f"KOERS_OIDC_ISSUER must be an http(s) URL like https://login.example.org (got {issuer!r})"
            )
        if not client_id or not secret:
            raise ConfigError(
                "KOERS_OIDC_ISSUER needs KOERS_OIDC_CLIENT_ID and KOERS_OIDC_CLIENT_SECRET too"
            )
        if "openid" not in scopes.split():
            raise ConfigError(f"KOERS_OIDC_SCOPES must include openid (got {scopes!r})")
    elif only:
        raise ConfigError("KOERS_OIDC_ONLY needs KOERS_OIDC_ISSUER (the OpenID provider)")
    name = str(raw.get("oidc_name", "")).strip()[:60] or (urlsplit(issuer).hostname or "")
    return {
        "oidc_issuer": issuer,
        "oidc_client_id": client_id,
        "oidc_client_secret": secret,
        "oidc_name": name,
        "oidc_scopes": scopes,
        "oidc_only": only,
        "require_2fa_admins": flag("require_2fa_admins", False),
    }


def ensure_data_dir(settings: Settings) -> Settings:
    """Create the data directory and, when no secret is configured, load or create one there."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        settings.media_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create data directory {settings.data_dir}: {exc.strerror}"
        ) from None
    if settings.secret:
        return settings
    secret_file = settings.data_dir / "secret.key"
    if secret_file.exists():
        secret = secret_file.read_text().strip()
    else:
        secret = secrets.token_urlsafe(48)
        try:
            secret_file.write_text(secret + "\n")
            secret_file.chmod(0o600)
        except OSError as exc:
            raise ConfigError(f"cannot write {secret_file}: {exc.strerror}") from None
    return settings.replace(secret=secret)
