"""Settings: defaults, environment, overrides, and one clear message per mistake."""

import pytest

from server.config import load_settings
from server.errors import ConfigError


def test_defaults_use_sqlite_in_the_data_dir(tmp_path):
    s = load_settings(env={"KOERS_DATA_DIR": str(tmp_path)})
    assert s.url == "http://127.0.0.1:8080"
    assert s.database_url.startswith("sqlite+aiosqlite:///") and s.database_url.endswith(
        "koers.sqlite3"
    )
    assert s.registrations == "open" and s.allow_private_addresses is False


def test_overrides_beat_environment():
    s = load_settings(env={"KOERS_PORT": "9000", "KOERS_URL": "https://a.example"}, port=9100)
    assert s.port == 9100 and s.url == "https://a.example" and s.domain == "a.example"


def test_postgres_url_gets_the_async_driver():
    s = load_settings(env={"KOERS_DATABASE_URL": "postgresql://u:p@db/koers"})
    assert s.database_url == "postgresql+asyncpg://u:p@db/koers"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"KOERS_URL": "koers.example"}, "KOERS_URL must be an http(s) URL"),
        ({"KOERS_URL": "https://a.example/path"}, "must not have a path"),
        ({"KOERS_PORT": "eighty"}, "KOERS_PORT must be a number"),
        ({"KOERS_REGISTRATIONS": "sometimes"}, "KOERS_REGISTRATIONS must be one of"),
        ({"KOERS_DATABASE_URL": "mysql://x"}, "KOERS_DATABASE_URL must start with"),
        ({"KOERS_ALLOW_PRIVATE_ADDRESSES": "maybe"}, "must be true or false"),
    ],
)
def test_bad_settings_give_one_clear_message(env, message):
    with pytest.raises(ConfigError) as exc:
        load_settings(env=env)
    assert message in exc.value.message
    assert "\n" not in exc.value.message
