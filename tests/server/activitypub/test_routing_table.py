"""Which handler takes each incoming (activity type × kind of object) pair.

``PAIRS`` lists every pair the inbox understands and the handler that ends up with it. Written
first against the wrapper chains of ``install()`` functions (each wrapper tried its own kind of
object and passed everything else on to the handler registered before it).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from federation.state import INBOX_HANDLERS
from server.app import create_app
from server.config import load_settings

# (activity type, kind of object) → the function that handles it (module.function).
PAIRS: dict[tuple[str, str], str] = {
    ("Follow", "roadmap_item"): "roadmap_federation._follow",
    ("Follow", "roadmap"): "roadmap_federation._follow",
    ("Follow", "actor"): "incoming_social.on_follow",
    ("Like", "roadmap_item"): "roadmap_federation._like",
    ("Like", "purpose_version"): "incoming_social.on_like",
    ("Like", "post"): "incoming_social.on_like",
    ("Undo", "event_join"): "roadmap_federation._undo",
    ("Undo", "roadmap_follow"): "roadmap_federation._undo",
    ("Undo", "roadmap_support"): "roadmap_federation._undo",
    ("Undo", "follow"): "incoming_social.on_undo",
    ("Undo", "endorsement"): "incoming_social.on_undo",
    ("Undo", "favourite"): "incoming_social.on_undo",
    ("Undo", "boost"): "incoming_social.on_undo",
    ("Undo", "block"): "incoming_social.on_undo",
    ("Block", "actor"): "incoming_social.on_block",
    ("Flag", "report"): "incoming_social.on_flag",
    ("Create", "remote_roadmap_item"): "roadmap_sync.wrap_incoming",
    ("Create", "event"): "remote_events.wrap_create",
    ("Create", "post"): "incoming_posts.on_create",
    ("Update", "remote_role"): "role_federation._update",
    ("Update", "roadmap_status"): "remote_management._update",
    ("Update", "remote_roadmap_item"): "roadmap_sync.wrap_incoming",
    ("Update", "event"): "remote_events.wrap_create",
    ("Update", "actor"): "incoming_posts.on_update",
    ("Update", "post"): "incoming_posts.on_update",
    ("Delete", "actor"): "incoming_posts.on_delete",
    ("Delete", "post"): "incoming_posts.on_delete",
    ("Announce", "post"): "incoming_posts.on_announce",
    ("Announce", "activity"): "incoming_posts.on_announce",
    ("Add", "idea_outcome"): "remote_ideas.wrap_add",
    ("Add", "remote_roadmap_item"): "roadmap_sync.wrap_incoming",
    ("Add", "moderator"): "incoming_posts.on_add_remove",
    ("Add", "role_holder"): "incoming_posts.on_add_remove",
    ("Remove", "moderator"): "incoming_posts.on_add_remove",
    ("Remove", "role_holder"): "incoming_posts.on_add_remove",
    ("Accept", "role_join"): "role_federation._answer",
    ("Accept", "join_request"): "remote_management._answer",
    ("Accept", "roadmap_follow"): "roadmap_sync.wrap_accept",
    ("Accept", "event_join"): "remote_events.wrap_answer",
    ("Accept", "follow"): "incoming_social.on_accept",
    ("Reject", "role_join"): "role_federation._answer",
    ("Reject", "join_request"): "remote_management._answer",
    ("Reject", "event_join"): "remote_events.wrap_answer",
    ("Reject", "follow"): "incoming_social.on_reject",
    ("Join", "role"): "role_federation._join",
    ("Join", "event"): "event_federation.on_join",
    ("Leave", "role"): "role_federation._leave",
    ("Leave", "event"): "event_federation.on_leave",
}

# Today: the chain an activity of each type passes, outermost first.
CHAINS: dict[str, list[str]] = {
    "Follow": ["roadmap_federation._follow", "incoming_social.on_follow"],
    "Like": ["roadmap_federation._like", "incoming_social.on_like"],
    "Undo": ["roadmap_federation._undo", "incoming_social.on_undo"],
    "Block": ["incoming_social.on_block"],
    "Flag": ["incoming_social.on_flag"],
    "Create": [
        "roadmap_sync.wrap_incoming",
        "remote_events.wrap_create",
        "incoming_posts.on_create",
    ],
    "Update": [
        "role_federation._update",
        "remote_management._update",
        "roadmap_sync.wrap_incoming",
        "remote_events.wrap_create",
        "incoming_posts.on_update",
    ],
    "Delete": ["incoming_posts.on_delete"],
    "Announce": ["incoming_posts.on_announce"],
    "Add": ["remote_ideas.wrap_add", "roadmap_sync.wrap_incoming", "incoming_posts.on_add_remove"],
    "Remove": ["incoming_posts.on_add_remove"],
    "Accept": [
        "role_federation._answer",
        "remote_management._answer",
        "roadmap_sync.wrap_accept",
        "remote_events.wrap_answer",
        "incoming_social.on_accept",
    ],
    "Reject": [
        "role_federation._answer",
        "remote_management._answer",
        "remote_events.wrap_answer",
        "incoming_social.on_reject",
    ],
    "Join": ["role_federation._join", "event_federation.on_join"],
    "Leave": ["role_federation._leave", "event_federation.on_leave"],
}


def _name(fn: Callable[..., Any]) -> str:
    module = fn.__module__.rsplit(".", 1)[-1]
    return f"{module}.{fn.__qualname__.split('.<locals>')[0]}"


def _chain(fn: Callable[..., Any]) -> list[str]:
    """The handlers an activity passes: each wrapper keeps the one before it as ``previous``."""
    names = []
    current: Any = fn
    while current is not None:
        names.append(_name(current))
        cells = dict(zip(current.__code__.co_freevars, current.__closure__ or (), strict=True))
        current = cells["previous"].cell_contents if "previous" in cells else None
    return names


@pytest.fixture
def app(tmp_path: Path) -> Any:
    settings = load_settings(
        env={},
        url="http://127.0.0.1:9",
        data_dir=str(tmp_path / "data"),
        database_url=f"sqlite:///{tmp_path / 'koers.db'}",
        secret="test-secret-routing",
    )
    return create_app(settings)


def test_each_type_passes_the_chain_of_today(app: Any) -> None:
    handlers = app[INBOX_HANDLERS]
    assert {name: _chain(handlers.get(name)) for name in CHAINS} == CHAINS


def test_every_pair_is_handled_by_one_member_of_its_chain() -> None:
    assert {kind for kind, _ in PAIRS} == set(CHAINS)
    for (kind, obj), handler in PAIRS.items():
        assert handler in CHAINS[kind], (kind, obj)
    # every member of a chain handles at least one pair: nothing is dead weight
    assert {h for chain in CHAINS.values() for h in chain} == set(PAIRS.values())


def test_an_unknown_type_has_no_handler(app: Any) -> None:
    assert app[INBOX_HANDLERS].get("Wave") is None
