"""Community events and roadmap items as ActivityStreams: Mobilizon / FEP-8a8e compatible ``Event``
documents, the item's ``followers``, and Mobilizon's own payloads understood."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from server import clock
from server.activitypub.core.vocab import first_id
from server.activitypub.events.activities import event_fields
from server.services import communities, roadmap
from server.services import community_events as events

AP = {"Accept": "application/activity+json"}
FIXTURES = Path("/work/shared/fixtures")
SOON = (clock.now() + timedelta(days=5)).replace(microsecond=0)


async def test_event_document_negotiates_and_respects_visibility(instance) -> None:
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    public_id = await events.create_event(
        instance.ctx,
        alice.actor_id,
        garden.id,
        events.EventInput(
            title="Seed swap",
            starts_at=SOON,
            ends_at=SOON + timedelta(hours=2),
            place_name="Library",
            place_address="Plein 1",
            capacity=10,
            join_mode="approval",
        ),
    )
    online_id = await events.create_event(
        instance.ctx,
        alice.actor_id,
        garden.id,
        events.EventInput(
            title="Online planning", starts_at=SOON, online_url="https://meet.example/garden"
        ),
    )
    hidden_id = await events.create_event(
        instance.ctx,
        alice.actor_id,
        garden.id,
        events.EventInput(title="Budget", starts_at=SOON, place_name="Shed", audience="community"),
    )

    doc = await (await instance.client.get(f"/c/garden/events/{public_id}", headers=AP)).json()
    assert doc["type"] == "Event" and doc["id"] == f"{instance.url}/c/garden/events/{public_id}"
    assert doc["name"] == "Seed swap" and doc["startTime"].startswith(
        SOON.strftime("%Y-%m-%dT%H:%M")
    )
    assert doc["location"]["type"] == "Place" and doc["location"]["name"] == "Library"
    assert doc["joinMode"] == "restricted" and doc["maximumAttendeeCapacity"] == 10
    assert doc["remainingAttendeeCapacity"] == 9 and doc["participantCount"] == 1
    assert doc["audience"] == f"{instance.url}/communities/garden"
    assert "https://www.w3.org/ns/activitystreams#Public" in doc["to"]
    online = await (await instance.client.get(f"/c/garden/events/{online_id}", headers=AP)).json()
    assert online["isOnline"] is True and "location" not in online
    assert online["attachment"][0]["href"] == "https://meet.example/garden"
    assert (await instance.client.get(f"/c/garden/events/{hidden_id}", headers=AP)).status == 404
    # our own document reads back through the same parser as Mobilizon's
    fields = event_fields(doc)
    assert (
        fields["title"] == "Seed swap"
        and fields["capacity"] == 10
        and fields["join_mode"] == "approval"
    )
    page = await instance.client.get(
        f"/c/garden/events/{public_id}", headers={"Accept": "text/html"}
    )
    assert "json" not in page.headers["Content-Type"]


async def test_roadmap_item_document_carries_followers(instance) -> None:
    alice = await instance.create_member("alice")
    garden = await communities.create_community(
        instance.ctx,
        alice.actor_id,
        handle="garden",
        name="Garden",
        purpose_text="Grow food together",
    )
    item_id = await roadmap.create_item(
        instance.ctx, alice.actor_id, garden.id, title="Bee hotel", purpose_version=1
    )
    doc = await (await instance.client.get(f"/c/garden/roadmap/{item_id}", headers=AP)).json()
    assert doc["followers"] == f"{doc['id']}/followers" and doc["koers:purposeVersion"] == 1
    followers = await (
        await instance.client.get(f"/c/garden/roadmap/{item_id}/followers", headers=AP)
    ).json()
    assert followers["type"] == "OrderedCollection" and followers["totalItems"] == 0


def _fixture(*parts: str) -> dict:
    path = FIXTURES.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"fixture {path} absent")
    return json.loads(path.read_text())


def test_mobilizon_event_is_understood() -> None:
    doc = _fixture("lemmy", "mobilizon", "objects", "event.json")
    fields = event_fields(doc)
    assert fields["title"] == "Caledonian scottish dance class"
    assert fields["starts_at"] is not None and fields["starts_at"].tzinfo is not None
    assert fields["ends_at"] > fields["starts_at"]
    assert fields["place_name"] == "The Kenn Centre" and "EX6 7TW" in fields["place_address"]
    assert (
        fields["join_mode"] == "free" and fields["capacity"] is None
    )  # Mobilizon: 0 means no limit


def test_mobilizon_join_names_the_event() -> None:
    join = _fixture("mobilizon", "mobilizon-join-activity.json")
    assert (
        join["type"] == "Join"
        and first_id(join["object"]) == "http://mobilizon.test/events/some-uuid"
    )
