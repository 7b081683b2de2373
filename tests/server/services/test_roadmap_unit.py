"""The roadmap without a server: items in each audience, status changes with their history, who
may change them, and what each viewer sees."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.errors import Forbidden, NotFound, ValidationError
from server.services import roadmap, roles
from server.storage import schema as t
from server.visibility import ANONYMOUS, Viewer, can_see_item
from tests.fast import record_events


async def _item(ctx, crew, **kw):  # type: ignore[no-untyped-def]
    values = {"title": "Compost bins", **kw}
    return await roadmap.create_item(ctx, crew.ana.actor_id, crew.community.id, **values)


async def test_an_item_starts_with_its_first_status_recorded(ctx, crew) -> None:
    item_id = await _item(ctx, crew, description="Three **bins**", status="planned")
    async with ctx.db.read() as conn:
        item = await roadmap.get_item(conn, ANONYMOUS, crew.community.id, item_id)
        history = await roadmap.history(conn, item_id)
    assert (item.title, item.status, item.audience.value) == ("Compost bins", "planned", "public")
    assert "<strong>bins</strong>" in item.description_html
    assert item.uri and item.uri.endswith(f"/roadmap/{item_id}")
    assert [(h.from_status, h.to_status, h.author_username) for h in history] == [
        (None, "planned", "ana")
    ]


@pytest.mark.parametrize(
    "values",
    [
        {"title": "  "},
        {"title": "t" * 256},
        {"status": "someday"},
        {"audience": "followers"},
        {"audience": "direct"},
        {"audience": "nonsense"},
        {"purpose_version": 7},
        {"purpose_version": 0},
        {"owner_role_id": 999},
    ],
)
async def test_invalid_items_are_refused(ctx, crew, values) -> None:
    with pytest.raises(ValidationError):
        await _item(ctx, crew, **values)
    async with ctx.db.read() as conn:
        assert await roadmap.items(conn, crew.viewer(crew.ana), crew.community.id) == []


async def test_only_members_add_items(ctx, crew) -> None:
    with pytest.raises(Forbidden):
        await roadmap.create_item(ctx, crew.dan.actor_id, crew.community.id, title="Mine")
    with pytest.raises(NotFound):
        await roadmap.create_item(ctx, crew.ana.actor_id, 999, title="Nowhere")
    assert await roadmap.create_item(ctx, crew.bo.actor_id, crew.community.id, title="Ours")


async def test_status_changes_are_recorded_with_a_note_and_tell_the_author(ctx, crew) -> None:
    item_id = await roadmap.create_item(ctx, crew.bo.actor_id, crew.community.id, title="Bins")
    seen = record_events(ctx, "roadmap.status_changed")
    await roadmap.change_status(ctx, crew.ana.actor_id, item_id, "planned", note=" soon ")
    await roadmap.change_status(ctx, crew.bo.actor_id, item_id, "in_progress")
    with pytest.raises(ValidationError, match="already"):
        await roadmap.change_status(ctx, crew.bo.actor_id, item_id, "in_progress")
    with pytest.raises(ValidationError):
        await roadmap.change_status(ctx, crew.bo.actor_id, item_id, "finished")
    async with ctx.db.read() as conn:
        history = await roadmap.history(conn, item_id)
        recent = await roadmap.recent_changes(conn, ANONYMOUS, crew.community.id)
        notes = [
            r.type
            for r in await conn.execute(
                sa.select(t.notifications.c.type).where(
                    t.notifications.c.actor_id == crew.bo.actor_id
                )
            )
        ]
    assert [(h.from_status, h.to_status, h.note) for h in history] == [
        (None, "idea", ""),
        ("idea", "planned", "soon"),
        ("planned", "in_progress", ""),
    ]
    assert [c.to_status for c in recent] == ["in_progress", "planned", "idea"]
    assert [(e.data["from_status"], e.data["to_status"]) for e in seen] == [
        ("idea", "planned"),
        ("planned", "in_progress"),
    ]
    assert notes == ["koers.roadmap_status"]  # told of ana's change, not of their own


async def test_managers_authors_and_owner_role_holders_change_status_others_not(ctx, crew) -> None:
    role_id = await roles.create_role(ctx, crew.ana.actor_id, crew.community.id, name="Builder")
    await roles.claim_role(ctx, crew.cy.actor_id, role_id)
    item_id = await _item(ctx, crew, owner_role_id=role_id)
    async with ctx.db.read() as conn:
        item = await roadmap.get_item(conn, ANONYMOUS, crew.community.id, item_id)
        allowed = {
            p.username: await roadmap.may_change(conn, item, p.actor_id)
            for p in (crew.ana, crew.bo, crew.cy, crew.dan)
        }
        assert not await roadmap.may_change(conn, item, None)
    assert allowed == {"ana": True, "bo": False, "cy": True, "dan": False}
    with pytest.raises(Forbidden):
        await roadmap.change_status(ctx, crew.bo.actor_id, item_id, "done")
    await roadmap.change_status(ctx, crew.cy.actor_id, item_id, "done")


@pytest.mark.parametrize(
    ("audience", "anonymous", "outsider", "insider"),
    [
        ("public", True, True, True),
        ("unlisted", True, True, True),
        ("community", False, False, True),
        ("members", False, True, True),
        ("partners", False, True, True),
    ],
)
async def test_who_sees_an_item(ctx, crew, audience, anonymous, outsider, insider) -> None:
    item_id = await _item(ctx, crew, audience=audience)
    async with ctx.db.read() as conn:
        seen = {
            "anonymous": await can_see_item(conn, ANONYMOUS, item_id),
            "outsider": await can_see_item(conn, crew.viewer(crew.dan), item_id),
            "insider": await can_see_item(conn, crew.viewer(crew.bo), item_id),
            "remote": await can_see_item(
                conn, Viewer(actor_id=crew.dan.actor_id + 100, domain="far.example"), item_id
            ),
        }
        listed = [i.id for i in await roadmap.items(conn, crew.viewer(crew.dan), crew.community.id)]
    assert seen == {
        "anonymous": anonymous,
        "outsider": outsider,
        "insider": insider,
        "remote": anonymous,
    }
    assert (item_id in listed) is outsider


async def test_a_hidden_item_cannot_be_changed_or_fetched(ctx, crew) -> None:
    item_id = await _item(ctx, crew, audience="community")
    with pytest.raises(NotFound):
        await roadmap.change_status(ctx, crew.dan.actor_id, item_id, "done")
    async with ctx.db.read() as conn:
        with pytest.raises(NotFound):
            await roadmap.get_item(conn, crew.viewer(crew.dan), crew.community.id, item_id)


async def test_items_by_status_and_most_recently_changed_first(ctx, crew) -> None:
    first = await _item(ctx, crew, title="First")
    second = await _item(ctx, crew, title="Second", status="planned")
    third = await _item(ctx, crew, title="Third")
    await roadmap.change_status(ctx, crew.ana.actor_id, first, "done")
    async with ctx.db.read() as conn:
        found = await roadmap.items(conn, ANONYMOUS, crew.community.id)
    assert [i.id for i in found] == [first, third, second]
    grouped = roadmap.by_status(found)
    assert [i.title for i in grouped["idea"]] == ["Third"]
    assert [i.title for i in grouped["done"]] == ["First"]
    assert list(grouped) == list(roadmap.STATUSES) and grouped["dropped"] == []
