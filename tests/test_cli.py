"""The ``koers`` command line as an operator meets it: help, one-line errors, account management.

Every command runs in a real subprocess (``python -m server.cli``), as a user would run it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

# ``koers`` processes: the slow layer.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def _all_commands() -> list[str]:
    """Every command and sub-command the parser knows (areas such as federation add their own)."""
    import argparse

    from server.cli import build_parser

    found: list[str] = []

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append(f"{prefix}{name}")
                    walk(sub, f"{prefix}{name} ")

    walk(build_parser()[0], "")
    return found


COMMANDS = _all_commands()


def koers(
    *args: str, tmp_path: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run ``koers ARGS`` with a clean environment (no KOERS_* from the caller) in ``tmp_path``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
    clean["PYTHONPATH"] = str(ROOT)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess, *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("koers: error:")]
    assert len(errors) == 1, proc.stderr
    for word in words:
        assert word.lower() in errors[0].lower(), errors[0]


def test_the_documented_commands_exist() -> None:
    for command in ("serve", "demo", "migrate", "account create", "account list"):
        assert command in COMMANDS


def test_help_lists_commands_and_settings(tmp_path: Path) -> None:
    proc = koers("--help", tmp_path=tmp_path)
    assert proc.returncode == 0
    for name in ("serve", "demo", "migrate", "account"):
        assert name in proc.stdout
    for var in (
        "KOERS_URL",
        "KOERS_DATABASE_URL",
        "KOERS_DATA_DIR",
        "KOERS_REGISTRATIONS",
        "KOERS_ALLOW_PRIVATE_ADDRESSES",
    ):
        assert var in proc.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``koers CMD --help`` (run in-process: the parser is the same one the console script uses)."""
    from server.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([*command.split(), "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: koers " + command)
    assert len(out.splitlines()) > 2


def test_bad_url_is_one_clear_line(tmp_path: Path) -> None:
    proc = koers("migrate", tmp_path=tmp_path, env={"KOERS_URL": "ftp://nowhere"})
    assert_one_line_error(proc, "KOERS_URL")


def test_bad_registrations_mode_is_one_clear_line(tmp_path: Path) -> None:
    proc = koers(
        "serve", "--port", "0", tmp_path=tmp_path, env={"KOERS_REGISTRATIONS": "sometimes"}
    )
    assert_one_line_error(proc, "KOERS_REGISTRATIONS", "open")


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    proc = koers("migrate", "--database-url", "postgresql://127.0.0.1:1/x", tmp_path=tmp_path)
    assert_one_line_error(proc, "cannot reach the database")


def test_unknown_database_scheme_is_one_clear_line(tmp_path: Path) -> None:
    proc = koers("migrate", tmp_path=tmp_path, env={"KOERS_DATABASE_URL": "mysql://db/koers"})
    assert_one_line_error(proc, "KOERS_DATABASE_URL")


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = koers(
            "serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), tmp_path=tmp_path
        )
    assert_one_line_error(proc, "already in use", str(port))


def test_migrate_then_create_and_list_accounts(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    proc = koers("migrate", "--data-dir", data, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout
    assert (tmp_path / "data" / "koers.sqlite3").exists()
    assert (tmp_path / "data" / "secret.key").exists()

    proc = koers(
        "account",
        "create",
        "ada",
        "--email",
        "ada@example.test",
        "--password",
        "correct horse battery",
        "--admin",
        "--data-dir",
        data,
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "created @ada@" in proc.stdout and "(admin)" in proc.stdout
    proc = koers(
        "account",
        "create",
        "bo",
        "--email",
        "bo@example.test",
        "--password",
        "correct horse battery",
        "--data-dir",
        data,
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr

    proc = koers("account", "list", "--data-dir", data, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[1:]}
    assert set(rows) == {"ada", "bo"}
    assert rows["ada"].rstrip().endswith("yes") and not rows["bo"].rstrip().endswith("yes")


def test_duplicate_account_is_refused_without_traceback(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    args = (
        "account",
        "create",
        "ada",
        "--email",
        "ada@example.test",
        "--password",
        "correct horse battery",
        "--data-dir",
        data,
    )
    assert koers(*args, tmp_path=tmp_path).returncode == 0
    proc = koers(*args, tmp_path=tmp_path)
    assert_one_line_error(proc)


def test_weak_password_is_refused_without_traceback(tmp_path: Path) -> None:
    proc = koers(
        "account",
        "create",
        "ada",
        "--email",
        "ada@example.test",
        "--password",
        "x",
        "--data-dir",
        str(tmp_path / "d"),
        tmp_path=tmp_path,
    )
    assert_one_line_error(proc)


def test_empty_account_list_says_how_to_create_one(tmp_path: Path) -> None:
    proc = koers("account", "list", "--data-dir", str(tmp_path / "data"), tmp_path=tmp_path)
    assert proc.returncode == 0
    assert "koers account create" in proc.stdout


def test_worker_runs_the_background_work_without_a_web_server(tmp_path):
    """`koers worker` migrates, starts the workers, logs that it runs, and stops on SIGTERM."""
    import signal
    import subprocess
    import sys
    import time

    env = {
        **__import__("os").environ,
        "KOERS_DATA_DIR": str(tmp_path),
        "KOERS_URL": "http://127.0.0.1:9",
    }
    env.pop("KOERS_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        seen = ""
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen += line
            if "worker running" in line or proc.poll() is not None:
                break
        assert "worker running" in seen, seen
        assert (tmp_path / "koers.sqlite3").exists()
        proc.send_signal(signal.SIGTERM)  # a service manager's stop: the clean-up runs
        rest, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, seen + rest
        assert "worker stopped" in rest, rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _in_group(pgid: int) -> list[int]:
    """Processes of the process group ``pgid`` still alive (Linux ``/proc``)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_serve_stops_cleanly_on_sigterm_and_leaves_no_process_behind(tmp_path: Path) -> None:
    """A service manager's stop (SIGTERM) ends requests, workers and every child process, and the
    command exits 0; SIGINT does the same."""
    import signal
    import time
    import urllib.request

    for number in (signal.SIGTERM, signal.SIGINT):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        clean = {k: v for k, v in os.environ.items() if not k.startswith("KOERS_")}
        clean |= {"PYTHONPATH": str(ROOT), "KOERS_URL": f"http://127.0.0.1:{port}"}
        args = ["serve", "--port", str(port), "--data-dir", str(tmp_path / f"data{number}")]
        proc = subprocess.Popen(
            [sys.executable, "-m", "server.cli", *args],
            cwd=tmp_path,
            env=clean,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: every child it starts is in it
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.1)
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            proc.send_signal(number)
            out, _ = proc.communicate(timeout=30)
            assert proc.returncode == 0, out
            assert "Koers stopped" in out, out
            deadline = time.monotonic() + 10
            while (left := _in_group(proc.pid)) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not left, f"still running after the stop: {left}"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
