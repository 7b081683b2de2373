"""``server.async_core``: ``sqlalchemy.ext.asyncio`` is there without the ORM, and its ORM names
(``AsyncSession`` …) still come, from the package's own ``__init__``, on first use."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import sqlalchemy.ext.asyncio

from server import async_core

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import server  # installs it
import sqlalchemy.ext.asyncio as package
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
before = "sqlalchemy.orm" in sys.modules
installed = "__getattr__" in vars(package)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
print(json.dumps({
    "orm_before": before,
    "installed": installed,
    "orm_after": "sqlalchemy.orm" in sys.modules,
    "session": AsyncSession.__module__,
    "maker": async_sessionmaker.__module__,
    "same": package.AsyncConnection is AsyncConnection,
    "scoped": package.async_scoped_session.__module__,
    "still_installed": "__getattr__" in vars(package),
}))
"""


def _probe() -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_core_names_come_without_the_orm_and_the_rest_on_first_use() -> None:
    found = _probe()
    assert found["installed"] and not found["orm_before"]
    assert found["orm_after"]
    assert found["session"] == "sqlalchemy.ext.asyncio.session"
    assert found["maker"] == "sqlalchemy.ext.asyncio.session"
    assert found["scoped"] == "sqlalchemy.ext.asyncio.scoping"
    assert found["same"]
    assert not found["still_installed"]  # the package's own __init__ ran: it is whole again


def test_the_core_names_are_the_packages_own() -> None:
    from sqlalchemy.ext.asyncio import engine, result

    for submodule, names in async_core.CORE_NAMES.items():
        module = {"engine": engine, "result": result}[submodule]
        for name in names:
            assert getattr(sqlalchemy.ext.asyncio, name) is getattr(module, name)


def test_an_already_imported_package_is_left_as_it_is() -> None:
    assert "sqlalchemy.ext.asyncio" in sys.modules
    package = sys.modules["sqlalchemy.ext.asyncio"]
    assert async_core.install() is False
    assert sys.modules["sqlalchemy.ext.asyncio"] is package


def test_the_core_names_are_all_the_package_exports_from_those_submodules() -> None:
    """A SQLAlchemy release that exports more from ``engine`` or ``result`` shows up here."""
    spec = importlib.util.find_spec("sqlalchemy.ext.asyncio")
    assert spec is not None and spec.origin is not None
    source = Path(spec.origin).read_text()
    exported: dict[str, list[str]] = {}
    for submodule, name in re.findall(r"^from \.(\w+) import (\w+)", source, re.M):
        exported.setdefault(submodule, []).append(name)
    for submodule, names in async_core.CORE_NAMES.items():
        assert sorted(names) == sorted(exported[submodule])
    assert set(exported) - set(async_core.CORE_NAMES) == {"scoping", "session"}
