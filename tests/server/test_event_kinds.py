"""Event kinds are constants of ``server/event_kinds.py``, each with its meaning; no call names one
by a bare or built string, so a search for the constant finds every emitter and listener."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from server import event_kinds

ROOT = Path(__file__).resolve().parents[2]
CALLS = {"emit": 1, "on": 0, "after_commit": 0, "listens": 0}  # method → index of the kind


def _calls() -> list[tuple[str, int, ast.expr]]:
    found = []
    for path in [
        *ROOT.joinpath("server").rglob("*.py"),
        *ROOT.joinpath("federation").rglob("*.py"),
    ]:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in CALLS
                and len(node.args) > CALLS[node.func.attr]
                and "events" in ast.unparse(node.func.value)
            ):
                found.append(
                    (str(path.relative_to(ROOT)), node.lineno, node.args[CALLS[node.func.attr]])
                )
    return found


def test_no_event_kind_is_a_string_literal() -> None:
    calls = _calls()
    assert len(calls) > 50
    literal = [
        (path, line)
        for path, line, arg in calls
        if isinstance(arg, ast.JoinedStr)
        or (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value != "*")
    ]
    assert literal == []


def test_every_kind_has_a_meaning_and_is_unique() -> None:
    source = Path(event_kinds.__file__).read_text()
    defined = re.findall(r'^([A-Z_]+) = "([^"]+)"(.*)$', source, re.M)
    assert len(defined) > 40
    assert all(rest.strip().startswith("# ") and len(rest.strip()) > 8 for _, _, rest in defined)
    values = [value for _, value, _ in defined]
    assert len(values) == len(set(values))
