"""The reads the community folders of ``server/activitypub/`` build their documents and
activities from (``community_documents``, ``community_requests``, ``roadmap_lookup``,
``role_lookup``, ``event_lookup``, ``idea_lookup``), without a server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server import clock
from server.errors import NotFound
from server.services import (
    community_documents,
    community_events,
    community_requests,
    event_lookup,
    idea_lookup,
    ideas,
    roadmap,
    roadmap_lookup,
    role_lookup,
    roles,
)
from server.services.community_events import EventInput
from server.visibility import ANONYMOUS


async def test_a_local_community_is_found_by_its_handle_in_any_case(ctx, crew) -> None:
    async with ctx.db.read() as conn:
        found = await community_documents.local_community_id(conn, "GARDEN")
        missing = await community_documents.local_community_id(conn, "orchard")
        group = await community_documents.local_group(conn, crew.community.id)
        either = await community_documents.group_of(conn, crew.community.id)
    assert (found, missing) == (crew.community.id, None)
    assert group is not None and group.id == crew.community.actor_id and group.domain is None
    assert either is not None and either.id == group.id


async def test_roles_are_listed_with_their_community_and_no_holder_yet(ctx, crew) -> None:
    role_id = await roles.create_role(
        ctx, crew.ana.actor_id, crew.community.id, name="Treasurer", competencies=[("books", None)]
    )
    async with ctx.db.read() as conn:
        ids = await community_documents.role_ids(conn, crew.community.id)
        owner = await community_documents.role_community(conn, role_id)
        comps = await community_documents.role_competencies(conn, role_id)
        holders = await community_documents.role_holders(conn, role_id)
        found = await role_lookup.role_and_group(conn, role_id)
        unknown = await role_lookup.role_and_group(conn, role_id + 1)
    assert (ids, owner, comps, holders) == ([role_id], crew.community.id, [("books", None)], [])
    assert found is not None and found[1].id == crew.community.actor_id and unknown is None


async def test_members_only_items_are_left_out_of_the_published_roadmap(ctx, crew) -> None:
    public = await roadmap.create_item(ctx, crew.ana.actor_id, crew.community.id, title="Bins")
    await roadmap.create_item(
        ctx, crew.ana.actor_id, crew.community.id, title="Budget", audience="members"
    )
    async with ctx.db.read() as conn:
        published = await community_documents.published_roadmap_ids(
            conn, crew.viewer(crew.ana), crew.community.id
        )
        listed = await roadmap_lookup.listed_item_ids(conn, crew.community.id)
        uri = await roadmap_lookup.item_uri(conn, public)
        assert uri is not None
        by_uri = await roadmap.item_id_by_uri(conn, uri)
        local = await roadmap_lookup.local_item_by_uri(conn, uri)
        home = await roadmap_lookup.remote_item_home(conn, public)
        supports = await community_documents.support_count(conn, public)
    assert published == listed == [public]
    assert by_uri == public and local is not None and local.status == "idea"
    assert home is None and supports == 0  # a local item has no remote home
    async with ctx.db.read() as conn:
        assert await community_documents.published_roadmap_ids(
            conn, ANONYMOUS, crew.community.id
        ) == [public]


async def test_the_managers_and_purpose_versions_of_a_new_community(ctx, crew) -> None:
    async with ctx.db.read() as conn:
        managers = await community_documents.manager_uris(conn, crew.community.id)
        ana = await community_documents.actor_uri(conn, crew.ana.actor_id)
        versions = await community_documents.purpose_version_numbers(conn, crew.community.id)
        first = await community_documents.purpose_version(conn, crew.community.id, 1)
    assert managers == [ana] and versions == [1]
    assert first is not None and "Grow food" in first.text_html


async def test_a_local_community_is_not_managed_from_afar(ctx, crew) -> None:
    async with ctx.db.read() as conn:
        with pytest.raises(NotFound):
            await community_requests.manager_and_group(conn, crew.ana.actor_id, crew.community.id)
        assert await community_requests.pending_requests(conn, crew.community.actor_id, 10) == []
        assert (
            await community_documents.has_blocked(conn, crew.ana.actor_id, crew.bo.actor_id)
            is False
        )


async def test_an_event_is_found_by_its_id_and_has_no_remote_participant_yet(ctx, crew) -> None:
    soon = clock.now() + timedelta(days=3)
    event_id = await community_events.create_event(
        ctx,
        crew.bo.actor_id,
        crew.community.id,
        EventInput(title="Seed swap", starts_at=soon, place_name="The shed"),
    )
    await community_events.rsvp(ctx, crew.cy.actor_id, event_id)
    async with ctx.db.read() as conn:
        uri = await event_lookup.event_uri(conn, event_id)
        assert uri is not None
        by_uri = await event_lookup.event_id_by_uri(conn, uri)
        row = await event_lookup.event_row(conn, event_id)
        remote = await event_lookup.remote_participants(conn, event_id)
        home = await event_lookup.remote_event_home(conn, event_id)
        join = await event_lookup.join_uri(conn, event_id, crew.cy.actor_id)
    assert by_uri == event_id and row is not None and row.title == "Seed swap"
    assert (remote, home, join) == ([], None, None)  # a local member's RSVP names no Join


async def test_what_a_merged_idea_became_is_the_post_of_the_idea_kept(ctx, crew) -> None:
    kept = await ideas.submit_idea(ctx, crew.bo.actor_id, crew.community.id, title="Compost")
    twin = await ideas.submit_idea(ctx, crew.cy.actor_id, crew.community.id, title="Composting")
    await ideas.merge(ctx, crew.ana.actor_id, twin, kept)
    async with ctx.db.read() as conn:
        merged = await idea_lookup.idea_row(conn, twin)
        kept_row = await idea_lookup.idea_row(conn, kept)
        assert merged is not None and kept_row is not None
        target = await idea_lookup.outcome_target(conn, merged, "merged")
        declined = await idea_lookup.outcome_target(conn, merged, "declined")
        kept_uri = await idea_lookup.post_uri(conn, kept_row.post_id)
        home = await idea_lookup.remote_idea_home(conn, kept_row.post_id)
    assert target == kept_uri is not None and declined is None
    assert home is None  # an idea of a local community stays here
