"""The layers of ``docs/architecture.md`` ("Packages"), checked on the source.

Every module of ``server/`` and ``federation/`` is parsed with ``ast`` (nothing is imported) and
its imports are collected, at the top and inside functions alike. The rules:

- no import cycle among the modules of ``server/`` and ``federation/`` — an import inside a
  function counts, so a late import cannot hide a cycle (one under ``if TYPE_CHECKING:`` does
  not: it never runs);
- ``federation/`` (the transport) imports nothing of ``server/`` but the keys module, storage and
  the foundation leaves (config, errors, clock, events, ``server`` for its version);
- the foundation (config, errors, clock, events, event kinds, keys, context, visibility)
  imports only itself and storage;
- only the start-up (``server/cli.py``, ``server/demo.py``) imports ``server.app``;
- ``server/services/`` never imports aiohttp;
- page handlers (``server/web/``) and API handlers (``server/api/``) run no SQL: they import
  neither SQLAlchemy (but the connection and ``Row`` types) nor the schema, and
  call no ``execute``/``scalar``/``stream`` on a connection;
- ``server/activitypub/`` runs no SQL either (the same test): its handlers translate an activity
  and call a service, its documents ask a service for their rows;
- page and API handlers do not import each other; what both need about a request lives in
  ``server/http/``, which imports neither; services and ``server/activitypub/`` import no handler;
- page and API handlers, ``server/http/`` and services import our own modules at the top, never
  inside a function (with no cycle left, a late import only hides a dependency).

Breaches another area still has to remove are listed in ``KNOWN`` with whose they are. An entry
that no longer breaks its rule fails the test, so the list only shrinks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("server", "federation")

# What ``federation/`` may import of ``server/``: the application keys, storage and the leaves.
FEDERATION_MAY_IMPORT = (
    "server",
    "server.keys",
    "server.storage",
    "server.config",
    "server.errors",
    "server.clock",
    "server.events",
)
APP_IMPORTERS = ("server.app", "server.cli", "server.demo")
# The foundation every layer stands on imports only itself and storage.
FOUNDATION = (
    "server.config",
    "server.errors",
    "server.clock",
    "server.events",
    "server.keys",
    "server.context",
    "server.visibility",
    "server.event_kinds",
)
HANDLERS = ("server.web", "server.api")
# Modules that may not run SQL: the handlers and the ActivityPub side (translation only).
NO_SQL = (*HANDLERS, "server.activitypub")
SQL_MODULES = ("sqlalchemy", "server.storage.schema")
# The types of what a handler passes from ``ctx.db.read()`` to a service and back are not SQL
# (``Connection``: what a unit of work, ``db.read(fn)``, hands to ``fn``).
SQL_TYPES_ALLOWED = frozenset({"AsyncConnection", "Connection", "Row"})
SQL_CALLS = frozenset({"execute", "scalar", "scalars", "stream", "stream_scalars"})

# Handlers and services import what they use at the top: with no cycle left, a late import only
# hides a dependency. (``server/cli.py`` loads a command's modules when it runs, on purpose.)
LATE_IMPORTS_REFUSED = ("server.web", "server.api", "server.http", "server.services")

# (rule, module) → whose it is and what is left to do. An entry goes when its breach is fixed.
KNOWN: dict[tuple[str, str], str] = {}


@dataclass(frozen=True, slots=True)
class Import:
    """One import statement's target, where it is, and whether it runs inside a function."""

    module: str
    target: str
    line: int
    in_function: bool
    names: tuple[str, ...] = ()
    type_only: bool = False


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def sources() -> dict[str, Path]:
    """Every module of the checked packages by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[_module_name(path)] = path
    return found


@cache
def tree(module: str) -> ast.Module:
    return ast.parse(sources()[module].read_text(), filename=str(sources()[module]))


def _in_functions(root: ast.AST) -> set[int]:
    """The ids of the import nodes that sit inside a function body."""
    inside: set[int] = set()
    for node in ast.walk(root):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for child in ast.walk(node):
                if isinstance(child, ast.Import | ast.ImportFrom):
                    inside.add(id(child))
    return inside


def _type_only(root: ast.AST) -> set[int]:
    """The ids of the import nodes under ``if TYPE_CHECKING:`` (for annotations, never run)."""
    inside: set[int] = set()
    for node in ast.walk(root):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.body:
                for child in ast.walk(stmt):
                    if isinstance(child, ast.Import | ast.ImportFrom):
                        inside.add(id(child))
    return inside


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    if sources()[module].name != "__init__.py":
        package = package[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports(module: str) -> tuple[Import, ...]:
    """What ``module`` imports: ``from a import b`` is ``a.b`` when that is a module, else ``a``."""
    root = tree(module)
    inside = _in_functions(root)
    typing_only = _type_only(root)
    found: list[Import] = []
    for node in ast.walk(root):
        late = id(node) in inside
        typed = id(node) in typing_only
        if isinstance(node, ast.Import):
            found += [
                Import(module, a.name, node.lineno, late, type_only=typed) for a in node.names
            ]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in sources() else base
                found.append(Import(module, target, node.lineno, late, (alias.name,), typed))
    return tuple(found)


def _within(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _project_target(name: str) -> str | None:
    """The module of ours an import names (``server.keys.CTX`` → ``server.keys``), if any."""
    while name:
        if name in sources():
            return name
        name = name.rpartition(".")[0]
    return None


def graph() -> dict[str, set[str]]:
    """Module → the modules of ours it imports when it runs (at the top or inside functions;
    an import under ``if TYPE_CHECKING:`` only names types, so it makes no cycle)."""
    edges: dict[str, set[str]] = {}
    for module in sources():
        targets = {_project_target(i.target) for i in imports(module) if not i.type_only}
        edges[module] = {t for t in targets if t is not None and t != module}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def sql_calls(root: ast.AST) -> Iterator[tuple[str, int]]:
    """The ``execute``-like calls in ``root``, with their line."""
    for node in ast.walk(root):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SQL_CALLS
        ):
            yield node.func.attr, node.lineno


def _sql_rule(module: str) -> str:
    """The name of the no-SQL rule ``module`` falls under."""
    return "activitypub runs SQL" if _within(module, "server.activitypub") else "handler runs SQL"


def breaches() -> dict[tuple[str, str], list[str]]:
    """Every breach of the rules: ``(rule, module) → ["path:line what", …]``."""
    found: dict[tuple[str, str], list[str]] = {}

    def add(rule: str, module: str, what: str, line: int) -> None:
        where = f"{sources()[module].relative_to(ROOT)}:{line} {what}"
        found.setdefault((rule, module), []).append(where)

    for module in sources():
        for imp in imports(module):
            target = imp.target
            if (
                _within(module, "federation")
                and _within(target, "server")
                and target not in FEDERATION_MAY_IMPORT
                and not _within(target, FEDERATION_MAY_IMPORT[1:])
            ):
                add("federation imports server", module, target, imp.line)
            if (
                module in FOUNDATION
                and _project_target(target) is not None
                and not _within(target, (*FOUNDATION, "server.storage"))
            ):
                add("foundation imports an area", module, target, imp.line)
            if _within(target, "server.app") and module not in APP_IMPORTERS:
                add("imports server.app", module, target, imp.line)
            if _within(module, "server.services"):
                if _within(target, "aiohttp"):
                    add("service imports aiohttp", module, target, imp.line)
                if _within(target, (*HANDLERS, "server.activitypub", "server.http")):
                    add("service imports a handler", module, target, imp.line)
            if _within(module, "server.activitypub") and _within(target, HANDLERS):
                add("activitypub imports web or api", module, target, imp.line)
            if (
                _within(module, NO_SQL)
                and _within(target, SQL_MODULES)
                and not (imp.names and set(imp.names) <= SQL_TYPES_ALLOWED)
            ):
                add(_sql_rule(module), module, target, imp.line)
            if _within(module, HANDLERS):
                if _within(module, "server.web") and _within(target, "server.api"):
                    add("web imports api", module, target, imp.line)
                if _within(module, "server.api") and _within(target, "server.web"):
                    add("api imports web", module, target, imp.line)
            if _within(module, "server.http") and _within(target, HANDLERS):
                add("http imports web or api", module, target, imp.line)
            if (
                imp.in_function
                and _within(module, LATE_IMPORTS_REFUSED)
                and _project_target(target) is not None
            ):
                add("late import", module, target, imp.line)
        if _within(module, NO_SQL):
            for call, line in sql_calls(tree(module)):
                add(_sql_rule(module), module, call, line)
    return found


def test_no_import_cycle() -> None:
    assert cycles(graph()) == []


def test_cycle_finder_sees_a_cycle() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(edges) == [["a", "b", "c"]]


def test_layer_rules() -> None:
    unknown = {k: where for k, where in breaches().items() if k not in KNOWN}
    assert unknown == {}, "new breaches of the layer rules (docs/architecture.md, Packages)"


def test_known_breaches_say_whose() -> None:
    assert all(reason.strip() for reason in KNOWN.values())


def test_known_breaches_are_still_breaches() -> None:
    """An entry of ``KNOWN`` that was fixed must leave the list, so it only shrinks."""
    stale = sorted(set(KNOWN) - set(breaches()))
    assert stale == [], "fixed: remove these entries from KNOWN"


def test_the_walk_finds_imports_inside_functions() -> None:
    """The rules rest on the walk seeing every import; a late import is one of them."""
    late = [i for m in sources() for i in imports(m) if i.in_function]
    assert late, "no import inside a function found: the walk is broken"
    assert any(i.target == "server.app" for i in imports("server.cli"))


def test_the_activitypub_side_is_held_to_no_sql() -> None:
    """Every module under ``server/activitypub/`` falls under the no-SQL rule, by its own name."""
    modules = [m for m in sources() if _within(m, "server.activitypub")]
    assert len(modules) > 20 and all(_within(m, NO_SQL) for m in modules)
    assert _sql_rule("server.activitypub.core.ingest") == "activitypub runs SQL"
    assert _sql_rule("server.web.pages") == "handler runs SQL"


def test_sql_calls_are_seen() -> None:
    source = "async def f(conn):\n    await conn.execute(q)\n    return await conn.scalar(q)\n"
    assert [call for call, _ in sql_calls(ast.parse(source))] == ["execute", "scalar"]


def test_type_checking_imports_are_told_apart() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\nimport b\n"
    root = ast.parse(source)
    typed = _type_only(root)
    names = {n.names[0].name: id(n) in typed for n in ast.walk(root) if isinstance(n, ast.Import)}
    assert names == {"a": True, "b": False}
