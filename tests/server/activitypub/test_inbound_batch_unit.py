"""Which stored ``Create`` activities the inbox worker's batch path takes (``_plan``): only those
``on_create`` would store as a plain post without fetching or resolving anything."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from server.activitypub.posts.inbound_batch import _plan

ACTOR = "https://remote.example/users/ann"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _row(obj: Any, **activity: Any) -> SimpleNamespace:
    doc = {"id": f"{ACTOR}/activities/1", "type": "Create", "actor": ACTOR, "object": obj}
    return SimpleNamespace(id=1, type="Create", document={**doc, **activity}, signer_id=7)


def _note(**fields: Any) -> dict[str, Any]:
    return {
        "id": f"{ACTOR}/notes/1",
        "type": "Note",
        "attributedTo": ACTOR,
        "to": [PUBLIC],
        "content": "<p>hi</p><script>x()</script>",
        **fields,
    }


def test_a_plain_note_is_planned_with_its_content_read() -> None:
    plan = _plan(_row(_note(tag=[{"type": "Hashtag", "name": "#Koers"}])))
    assert plan is not None and plan.signer_id == 7 and plan.actor_uri == ACTOR
    assert plan.content.values["content_html"] == "<p>hi</p>" and plan.content.tags == ("koers",)
    assert PUBLIC in plan.named and plan.parent_uri is None


@pytest.mark.parametrize(
    "obj",
    [
        f"{ACTOR}/notes/1",  # named by id only: fetched
        _note(id="https://elsewhere.example/notes/1"),  # another host's: fetched from its origin
        _note(attributedTo="https://remote.example/users/bob"),  # not the actor's: ignored
        _note(type="Event"),  # a community event
        _note(type="Question", oneOf=[{"name": "a"}, {"name": "b"}]),  # a poll
        _note(type="Person"),  # nothing we store
        _note(audience="https://remote.example/c/garden"),  # a community to resolve
        _note(inReplyTo="https://x.example/poll", name="a", content=None),  # a vote
        _note(**{"koers:result": True}),  # a result's links
        _note(type="Article", **{"koers:status": "planned"}),  # a roadmap item
        _note(content="x" * 200_000),  # over a limit
    ],
)
def test_anything_else_goes_one_by_one(obj: Any) -> None:
    assert _plan(_row(obj)) is None


def test_an_activity_without_a_signer_or_of_an_odd_actor_goes_one_by_one() -> None:
    assert _plan(SimpleNamespace(**{**vars(_row(_note())), "signer_id": None})) is None
    assert _plan(_row(_note(), actor=f"{ACTOR}#main-key")) is None
    assert _plan(_row(_note(), type="Update")) is None
