"""The e-mail settings: ``KOERS_SMTP_URL`` and ``KOERS_MAIL_FROM`` checked at start with one clear
line per mistake, and read into the SMTP connection the worker opens."""

from __future__ import annotations

import pytest

from server.config import load_settings
from server.errors import ConfigError
from server.mail_worker import SmtpServer, describe


def test_without_a_mail_server_mail_goes_to_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings(env={"KOERS_DATA_DIR": str(tmp_path)})
    assert settings.smtp_url == ""
    assert settings.mail_dir == tmp_path / "mail"
    assert (
        describe(settings)
        == f"no KOERS_SMTP_URL: mail is written as .eml files to {tmp_path / 'mail'}"
    )
    assert settings.mail_sender == "Koers <noreply@127.0.0.1>"


def test_smtp_urls_are_read_with_their_tls_mode_and_credentials() -> None:
    plain = SmtpServer.from_url("smtp://mailer:p%40ss@mail.example.org:2525?starttls=true")
    assert (plain.hostname, plain.port, plain.username, plain.password) == (
        "mail.example.org",
        2525,
        "mailer",
        "p@ss",
    )
    assert plain.start_tls and not plain.use_tls
    implicit = SmtpServer.from_url("smtps://mail.example.org")
    assert implicit.port == 465 and implicit.use_tls and not implicit.start_tls
    assert SmtpServer.from_url("smtp://mail.example.org").port == 25
    env = {
        "KOERS_SMTP_URL": "smtps://u:secret@mail.example.org",
        "KOERS_MAIL_FROM": "Us <us@example.org>",
    }
    settings = load_settings(env=env)
    assert "secret" not in describe(settings) and "mail.example.org:465 (TLS)" in describe(settings)
    assert settings.mail_sender == "Us <us@example.org>"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KOERS_SMTP_URL": "http://mail.example.org"}, "KOERS_SMTP_URL must be smtp://"),
        ({"KOERS_SMTP_URL": "smtp://"}, "with a host"),
        ({"KOERS_SMTP_URL": "smtp://mail.example.org:99999"}, "invalid port"),
        ({"KOERS_SMTP_URL": "smtp://mail.example.org?tls=1"}, "knows only ?starttls=true"),
        ({"KOERS_SMTP_URL": "smtp://mail.example.org?starttls=maybe"}, "true or false"),
        ({"KOERS_MAIL_FROM": "not an address"}, "KOERS_MAIL_FROM must be an e-mail address"),
    ],
)
def test_mistakes_are_one_clear_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("?", r"\?")):
        load_settings(env=env)


def test_mailed_link_tokens_never_reach_the_access_log() -> None:
    from server.http.access_log import redact

    for path in ("/password/reset/", "/mail/confirm/", "/mail/change/", "/mail/unsubscribe/"):
        line = f'127.0.0.1 "GET {path}s3cr3t-token HTTP/1.1" 200'
        assert redact(line) == f'127.0.0.1 "GET {path}[redacted] HTTP/1.1" 200'
    assert redact('"GET /password/reset HTTP/1.1"') == '"GET /password/reset HTTP/1.1"'
