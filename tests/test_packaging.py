"""Packaging: the console script, the Python floor, docker-compose.yml and the Dockerfile.

Docker does not run on our machines, so these tests read the files and check what would break a
`docker compose up`: a missing service or health check, a Koers command that does not exist, a
database URL that points somewhere other than the `postgres` service.
"""

from __future__ import annotations

import argparse
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from server.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def known_command(words: list[str]) -> bool:
    """Is ``koers WORDS…`` a command the CLI parser knows (``account create`` included)?"""
    parser, _ = build_parser()
    depth = 0
    for word in words:
        if word.startswith("-"):
            break
        subs = _subcommands(parser)
        if not subs:
            break
        if word not in subs:
            return False
        parser = subs[word]
        depth += 1
    return depth > 0 and not _subcommands(parser)


def _command_words(command: object) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(w) for w in command]  # type: ignore[union-attr]


def test_console_script_and_python_floor(pyproject: dict) -> None:
    project = pyproject["project"]
    assert project["scripts"]["koers"] == "server.cli:main"
    assert project["requires-python"].replace(" ", "") == ">=3.11"
    assert "test" in project["optional-dependencies"]
    # Every dependency is pinned to a range (a lower and an upper bound).
    for dep in project["dependencies"]:
        assert ">=" in dep and "<" in dep, f"{dep} is not pinned to a range"


def test_known_command_recognises_real_and_rejects_made_up_commands() -> None:
    assert known_command(["serve"])
    assert known_command(["account", "create"])
    assert not known_command(["account"])
    assert not known_command(["frobnicate"])
    assert not known_command(["account", "explode"])


def test_compose_has_postgres_with_volume_and_health_check(compose: dict) -> None:
    pg = compose["services"]["postgres"]
    assert str(pg["image"]).startswith("postgres:15")
    assert any(str(v).split(":")[0] in compose["volumes"] for v in pg["volumes"]), (
        "PostgreSQL data must be on a named volume"
    )
    assert "pg_isready" in " ".join(_command_words(pg["healthcheck"]["test"]))


def test_compose_runs_koers_on_postgres_from_the_environment(compose: dict) -> None:
    koers = compose["services"]["koers"]
    assert koers["depends_on"]["postgres"]["condition"] == "service_healthy"
    env = koers["environment"]
    assert env["KOERS_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:" in env["KOERS_DATABASE_URL"] or "@postgres/" in env["KOERS_DATABASE_URL"]
    assert env["KOERS_HOST"] == "0.0.0.0"
    assert "KOERS_URL" in env
    data_mount = [str(v) for v in koers["volumes"] if str(v).endswith(":" + env["KOERS_DATA_DIR"])]
    assert data_mount and data_mount[0].split(":")[0] in compose["volumes"]
    assert koers["healthcheck"]["test"], "the koers service needs a health check"
    assert koers.get("build"), "the koers service is built from the Dockerfile"


def test_every_koers_command_in_compose_exists(compose: dict) -> None:
    """Each service that runs ``koers …`` (command or health check) names a real sub-command."""
    checked = 0
    for name, service in compose["services"].items():
        for key in ("command", "entrypoint"):
            if key not in service:
                continue
            words = _command_words(service[key])
            if words and words[0] == "koers":
                assert known_command(words[1:]), (
                    f"service {name!r} runs an unknown command: {words}"
                )
                checked += 1
    assert checked >= 1


def test_dockerfile_installs_and_serves() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in text
    assert "pip install" in text
    cmd = next(line for line in text.splitlines() if line.startswith("CMD"))
    words = yaml.safe_load(cmd[len("CMD") :])  # the JSON (exec) form is valid YAML
    assert words[0] == "koers" and known_command(words[1:])
    # Everything the app reads at run time is copied into the image.
    for path in ("server", "federation", "templates", "pyproject.toml"):
        assert f"COPY {path}" in text or f" {path} " in text, f"{path} is not copied into the image"


@pytest.mark.slow
def test_wheel_carries_templates_static_and_migrations(tmp_path: Path) -> None:
    """A non-editable install (``pip install .``) has everything the server reads from disk."""
    import shutil
    import subprocess
    import sys
    import zipfile

    source = tmp_path / "src"  # a copy: building in the checkout would leave build/ behind
    skip = shutil.ignore_patterns(
        ".git",
        "build",
        "dist",
        "*.egg-info",
        "__pycache__",
        "test-artifacts",
        "tests",
        ".*",
        "koers-data",
        "koers-demo",
        "*.sqlite3*",
    )
    shutil.copytree(ROOT, source, ignore=skip)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("koers-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {p.name for p in (ROOT / "templates").glob("*.html")}
    shipped = {n.rsplit("/", 1)[1] for n in names if "/share/koers/templates/" in n}
    assert templates <= shipped, f"templates missing from the wheel: {sorted(templates - shipped)}"
    assert "server/static/koers.css" in names
    assert any(n.startswith("server/storage/migrations/versions/") for n in names)
    assert "server/locale/nl/LC_MESSAGES/messages.po" in names  # compiled in memory at start
