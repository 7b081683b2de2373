"""The mail commands as an operator runs them: ``account create`` asks for the password twice
without echo when ``--password`` is left out; ``account invite`` and ``account reset-password``
queue their mail (written as ``.eml`` files by an instance without ``KOERS_SMTP_URL``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def koers(*args: str, tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    env.update(PYTHONPATH=str(ROOT), KOERS_DATA_DIR=str(tmp_path / "data"))
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_account_create_asks_for_the_password_twice(tmp_path: Path) -> None:
    done = koers(
        "account",
        "create",
        "bob",
        "--email",
        "bob@example.test",
        tmp_path=tmp_path,
        stdin="a long secret\na long secret\n",
    )
    assert done.returncode == 0, done.stderr
    assert "created @bob" in done.stdout
    assert "a long secret" not in done.stdout + done.stderr
    wrong = koers(
        "account",
        "create",
        "cy",
        "--email",
        "cy@example.test",
        tmp_path=tmp_path,
        stdin="a long secret\nanother one\n",
    )
    assert wrong.returncode == 2 and "the passwords do not match" in wrong.stderr
    listed = koers("account", "list", tmp_path=tmp_path)
    assert "bob" in listed.stdout and "cy@" not in listed.stdout


def test_invite_and_reset_password_queue_their_mail(tmp_path: Path) -> None:
    made = koers(
        "account",
        "create",
        "bob",
        "--email",
        "bob@example.test",
        "--password",
        "a long secret",
        tmp_path=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    invited = koers("account", "invite", "Friend@Example.test", tmp_path=tmp_path)
    assert invited.returncode == 0, invited.stderr
    assert "friend@example.test" in invited.stdout and "/signup?invite=" in invited.stdout
    reset = koers("account", "reset-password", "bob", tmp_path=tmp_path)
    assert reset.returncode == 0 and "bob@example.test" in reset.stdout
    for bad, message in (
        (("account", "reset-password", "nobody"), "no local account called 'nobody'"),
        (("account", "invite", "not-an-address"), "not a valid address"),
        (("account", "invite", "bob@example.test"), "a member already"),
    ):
        done = koers(*bad, tmp_path=tmp_path)
        assert done.returncode == 2 and message in done.stderr, done.stderr
