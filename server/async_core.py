"""``sqlalchemy.ext.asyncio`` without the ORM: Koers uses SQLAlchemy Core only.

The package's ``__init__`` imports its ``AsyncSession`` modules, and with them all of
``sqlalchemy.orm`` (some 60 modules, 5.7 MiB of an idle web process, measured), although Koers
only ever uses ``create_async_engine``, ``AsyncEngine``, ``AsyncConnection`` and the async
results. ``install()`` (run by ``server/__init__.py``, before anything imports the package)
puts the package in place with just those names, taken from its ``engine`` and ``result``
submodules, and with a module ``__getattr__``: the first use of any other name (``AsyncSession``,
``async_sessionmaker`` …) runs the package's own ``__init__`` on the spot, so everything it
offers is still there, as it is. ``tests/test_startup_imports.py`` checks the ORM stays out of a
started server, ``tests/server/test_async_core.py`` that the other names still come.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

PACKAGE = "sqlalchemy.ext.asyncio"

# What ``sqlalchemy/ext/asyncio/__init__.py`` exports from these submodules (no ORM behind them).
CORE_NAMES = {
    "engine": (
        "async_engine_from_config",
        "AsyncConnection",
        "AsyncEngine",
        "AsyncTransaction",
        "create_async_engine",
        "create_async_pool_from_url",
    ),
    "result": ("AsyncMappingResult", "AsyncResult", "AsyncScalarResult", "AsyncTupleResult"),
}


def install() -> bool:
    """Put the ORM-free package in place; False when it was imported already (or cannot be
    found), leaving it as it is."""
    if PACKAGE in sys.modules:
        return False
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return False
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    try:
        for submodule, names in CORE_NAMES.items():
            loaded = importlib.import_module(f"{PACKAGE}.{submodule}")
            for name in names:
                setattr(package, name, getattr(loaded, name))
    except BaseException:
        del sys.modules[PACKAGE]
        raise
    from sqlalchemy.util import concurrency

    concurrency._concurrency_shim._initialize()  # as the package's __init__ does (greenlet)

    def __getattr__(name: str) -> Any:
        # Anything else (the AsyncSession family): the package's own __init__, run once now.
        if name.startswith("__"):
            raise AttributeError(name)
        del vars(package)["__getattr__"]
        assert spec.loader is not None
        spec.loader.exec_module(package)
        return getattr(package, name)

    vars(package)["__getattr__"] = __getattr__
    vars(sys.modules["sqlalchemy.ext"])["asyncio"] = package  # as an import binds it
    return True
