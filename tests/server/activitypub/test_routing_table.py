"""Which handler takes each incoming (activity type × kind of object) pair.

``BEFORE`` lists every pair the inbox understood before the routing table, and the wrapper of the
``install()`` chains that ended up handling it (each wrapper tried its own kind of object and
passed everything else on to the handler registered before it; read from the chains themselves by
walking each wrapper's ``previous``). ``INBOUND`` must name one handler for each of those pairs and
no other; any other pair is ignored with a log line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from federation.errors import Ignore
from federation.state import INBOX_HANDLERS
from server.activitypub.core import inbound
from server.app import create_app
from server.config import load_settings

# Before the table: (activity type, kind of object) → the wrapper of the install() chains that
# ended up handling it.
BEFORE: dict[tuple[str, str], str] = {
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

# The table: (activity type, kind of object) → its one handler (module.function).
PAIRS: dict[tuple[str, str], str] = {
    ("Follow", "roadmap_item"): "roadmap.activities.on_follow",
    ("Follow", "roadmap"): "roadmap.activities.on_follow",
    ("Follow", "actor"): "social.activities.on_follow",
    ("Like", "roadmap_item"): "roadmap.activities.on_like",
    ("Like", "purpose_version"): "social.activities.on_endorse",
    ("Like", "post"): "social.activities.on_favourite",
    ("Undo", "event_join"): "events.activities.on_undo_join",
    ("Undo", "roadmap_follow"): "roadmap.activities.on_undo",
    ("Undo", "roadmap_support"): "roadmap.activities.on_undo",
    ("Undo", "follow"): "social.activities.on_undo_follow",
    ("Undo", "endorsement"): "social.activities.on_undo_endorsement",
    ("Undo", "favourite"): "social.activities.on_undo_like",
    ("Undo", "boost"): "social.activities.on_undo_announce",
    ("Undo", "block"): "social.activities.on_undo_block",
    ("Block", "actor"): "social.activities.on_block",
    ("Flag", "report"): "social.activities.on_flag",
    ("Create", "remote_roadmap_item"): "roadmap.sync.on_remote_item",
    ("Create", "event"): "events.sync.on_create",
    ("Create", "post"): "posts.inbound.on_create",
    ("Update", "remote_role"): "roles.activities.on_update",
    ("Update", "roadmap_status"): "roadmap.management.on_status_update",
    ("Update", "remote_roadmap_item"): "roadmap.sync.on_remote_item",
    ("Update", "event"): "events.sync.on_update",
    ("Update", "actor"): "posts.inbound.on_update_actor",
    ("Update", "post"): "posts.inbound.on_update_post",
    ("Delete", "actor"): "posts.inbound.on_delete_actor",
    ("Delete", "post"): "posts.inbound.on_delete_post",
    ("Announce", "post"): "posts.inbound.on_announce",
    ("Announce", "activity"): "posts.inbound.on_announce",
    ("Add", "idea_outcome"): "ideas.activities.on_outcome",
    ("Add", "remote_roadmap_item"): "roadmap.sync.on_remote_item",
    ("Add", "moderator"): "posts.inbound.on_add_remove",
    ("Add", "role_holder"): "posts.inbound.on_add_remove",
    ("Remove", "moderator"): "posts.inbound.on_add_remove",
    ("Remove", "role_holder"): "posts.inbound.on_add_remove",
    ("Accept", "role_join"): "roles.activities.on_claim_accepted",
    ("Accept", "join_request"): "communities.management.on_join_approved",
    ("Accept", "roadmap_follow"): "roadmap.sync.on_follow_accepted",
    ("Accept", "event_join"): "events.sync.on_join_accepted",
    ("Accept", "follow"): "social.activities.on_accept",
    ("Reject", "role_join"): "roles.activities.on_claim_rejected",
    ("Reject", "join_request"): "communities.management.on_join_declined",
    ("Reject", "event_join"): "events.sync.on_join_rejected",
    ("Reject", "follow"): "social.activities.on_reject",
    ("Join", "role"): "roles.activities.on_join",
    ("Join", "event"): "events.activities.on_join",
    ("Leave", "role"): "roles.activities.on_leave",
    ("Leave", "event"): "events.activities.on_leave",
}


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__.removeprefix('server.activitypub.')}.{fn.__qualname__}"


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


def test_the_table_covers_every_pair_the_chains_handled_and_no_other() -> None:
    assert set(inbound.INBOUND) == set(BEFORE)
    assert {pair: _name(fn) for pair, fn in inbound.INBOUND.items()} == PAIRS


def test_every_type_of_the_table_goes_through_route(app: Any) -> None:
    handlers = app[INBOX_HANDLERS]
    assert set(inbound.TYPES) == {kind for kind, _ in BEFORE}
    for kind in inbound.TYPES:
        assert handlers.get(kind) is inbound.route, kind
    assert handlers.get("Wave") is None  # the transport ignores a type nobody handles


G = "https://elsewhere.example/communities/garden"
ITEM = {"id": f"{G}/roadmap/1", "type": "Article", "name": "Seeds", "koers:status": "planned"}
ROLE_PAGE = {"id": f"{G}/roles/1", "type": "Page", "name": "Host", "koers:role": True}


@pytest.mark.parametrize(
    ("activity", "pair"),
    [
        ({"type": "Create", "object": ITEM}, ("Create", "remote_roadmap_item")),
        ({"type": "Create", "object": {"id": f"{G}/e/1", "type": "Event"}}, ("Create", "event")),
        ({"type": "Create", "object": {"id": f"{G}/n/1", "type": "Note"}}, ("Create", "post")),
        ({"type": "Update", "object": ROLE_PAGE}, ("Update", "remote_role")),
        ({"type": "Add", "object": f"{G}/n/1", "koers:outcome": "merged"}, ("Add", "idea_outcome")),
        ({"type": "Add", "object": ITEM}, ("Add", "remote_roadmap_item")),
        ({"type": "Add", "target": f"{G}/moderators"}, ("Add", "moderator")),
        ({"type": "Remove", "target": f"{G}/roles/1/holders"}, ("Remove", "role_holder")),
        ({"type": "Remove", "target": f"{G}/featured"}, ("Remove", "unknown")),
        ({"type": "Delete", "actor": G, "object": G}, ("Delete", "actor")),
        ({"type": "Delete", "actor": G, "object": f"{G}/n/1"}, ("Delete", "post")),
        ({"type": "Announce", "object": {"type": "Create", "id": "x"}}, ("Announce", "activity")),
        ({"type": "Announce", "object": f"{G}/n/1"}, ("Announce", "post")),
        ({"type": "Flag", "object": [G]}, ("Flag", "report")),
        ({"type": "Block", "object": G}, ("Block", "actor")),
        ({"type": "Wave", "object": G}, ("Wave", "unknown")),
    ],
)
async def test_classify_by_shape(app: Any, activity: dict[str, Any], pair: Any) -> None:
    assert await inbound.classify(app, activity) == pair


@pytest.mark.parametrize(
    "activity",
    [
        {"id": f"{G}#r", "type": "Remove", "actor": G, "target": f"{G}/featured"},
        {"id": f"{G}#w", "type": "Wave", "actor": G, "object": G},
    ],
)
async def test_an_unknown_pair_is_ignored_with_a_log_line(
    app: Any, activity: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="server.activitypub.core.inbound"):
        with pytest.raises(Ignore) as raised:
            await inbound.route(app, activity, 1)
    assert raised.value.reason == "unhandled"
    assert f"no handler for {activity['type']} of unknown ({activity['id']})" in caplog.text
