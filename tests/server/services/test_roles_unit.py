"""Roles without a server: defining them, claiming and releasing, approval and assignment, and
who is told."""

from __future__ import annotations

import pytest

from server.errors import Conflict, Forbidden, NotFound, ValidationError
from server.services import accounts, communities, roles
from tests.fast import notifications_of, record_events


async def _role(ctx, crew, fill_mode="open", name="Host"):  # type: ignore[no-untyped-def]
    return await roles.create_role(
        ctx, crew.ana.actor_id, crew.community.id, name=name, fill_mode=fill_mode
    )


async def _get(ctx, crew, role_id):  # type: ignore[no-untyped-def]
    async with ctx.db.read() as conn:
        return await roles.get_role(conn, crew.community.id, role_id)


async def _notes(db, actor_id):  # type: ignore[no-untyped-def]
    return [r.type for r in await notifications_of(db, actor_id)]


async def test_a_manager_defines_a_role_with_competencies(ctx, crew) -> None:
    role_id = await roles.create_role(
        ctx,
        crew.ana.actor_id,
        crew.community.id,
        name="  Treasurer ",
        description="Keeps the **books**",
        competencies=[("Bookkeeping", "practised")],
    )
    role = await _get(ctx, crew, role_id)
    assert role.name == "Treasurer" and "<strong>books</strong>" in role.description_html
    assert role.competencies == [("bookkeeping", "practised")]
    assert role.uri and role.uri.endswith(f"/roles/{role_id}")
    assert role.vacant and role.claimable and role.fill_mode_label
    with pytest.raises(Forbidden):
        await roles.create_role(ctx, crew.bo.actor_id, crew.community.id, name="Mine")
    for bad in ({"name": " "}, {"name": "n" * 121}, {"name": "x", "fill_mode": "lottery"}):
        with pytest.raises(ValidationError):
            await roles.create_role(ctx, crew.ana.actor_id, crew.community.id, **bad)
    async with ctx.db.read() as conn:
        assert [r.name for r in await roles.roles_of(conn, crew.community.id)] == ["Treasurer"]


async def test_an_open_role_is_taken_and_given_up_by_members(ctx, crew) -> None:
    role_id = await _role(ctx, crew)
    assert await roles.claim_role(ctx, crew.bo.actor_id, role_id) == "held"
    with pytest.raises(Conflict):
        await roles.claim_role(ctx, crew.bo.actor_id, role_id)
    assert await roles.claim_role(ctx, crew.cy.actor_id, role_id) == "held"  # roles may be shared
    role = await _get(ctx, crew, role_id)
    assert [h.username for h in role.holders] == ["bo", "cy"] and not role.vacant
    async with ctx.db.read() as conn:
        assert [r.role_name for r in await roles.roles_held_by(conn, crew.bo.actor_id)] == ["Host"]
    await roles.release_role(ctx, crew.bo.actor_id, role_id)
    assert [h.username for h in (await _get(ctx, crew, role_id)).holders] == ["cy"]
    with pytest.raises(NotFound):
        await roles.release_role(ctx, crew.bo.actor_id, role_id)


async def test_outsiders_cannot_claim_and_assigned_roles_are_not_claimed(ctx, crew) -> None:
    open_role = await _role(ctx, crew)
    assigned = await _role(ctx, crew, "assigned", name="Chair")
    with pytest.raises(Conflict, match="already has a role"):
        await _role(ctx, crew, "approval", name="Host")
    with pytest.raises(Forbidden, match="join the community"):
        await roles.claim_role(ctx, crew.dan.actor_id, open_role)
    with pytest.raises(Forbidden, match="assigned"):
        await roles.claim_role(ctx, crew.bo.actor_id, assigned)
    with pytest.raises(NotFound):
        await roles.claim_role(ctx, crew.bo.actor_id, 999)


async def test_an_approval_role_is_asked_for_and_a_manager_decides(ctx, crew) -> None:
    role_id = await _role(ctx, crew, "approval")
    assert await roles.claim_role(ctx, crew.bo.actor_id, role_id) == "requested"
    assert await _notes(ctx.db, crew.ana.actor_id) == ["koers.role_requested"]
    role = await _get(ctx, crew, role_id)
    assert role.vacant and [r.username for r in role.requested] == ["bo"]
    with pytest.raises(Forbidden):
        await roles.assign_role(ctx, crew.cy.actor_id, role_id, crew.bo.actor_id)
    await roles.assign_role(ctx, crew.ana.actor_id, role_id, crew.bo.actor_id)
    assert [h.username for h in (await _get(ctx, crew, role_id)).holders] == ["bo"]
    assert "koers.role_assigned" in await _notes(ctx.db, crew.bo.actor_id)


async def test_a_manager_assigns_members_only_and_can_take_a_role_away(ctx, crew) -> None:
    role_id = await _role(ctx, crew, "assigned")
    with pytest.raises(ValidationError, match="only members"):
        await roles.assign_role(ctx, crew.ana.actor_id, role_id, crew.dan.actor_id)
    await roles.assign_role(ctx, crew.ana.actor_id, role_id, crew.cy.actor_id)
    with pytest.raises(Conflict):
        await roles.assign_role(ctx, crew.ana.actor_id, role_id, crew.cy.actor_id)
    await roles.unassign_role(ctx, crew.ana.actor_id, role_id, crew.cy.actor_id)
    assert (await _get(ctx, crew, role_id)).vacant


async def test_declining_a_request_and_withdrawing_one_emit_what_federation_needs(
    ctx, crew
) -> None:
    role_id = await _role(ctx, crew, "approval")
    seen = record_events(ctx)
    await roles.claim_role(ctx, crew.bo.actor_id, role_id)
    await roles.unassign_role(ctx, crew.ana.actor_id, role_id, crew.bo.actor_id)
    await roles.claim_role(ctx, crew.cy.actor_id, role_id)
    await roles.release_role(ctx, crew.cy.actor_id, role_id)  # withdrawn: nothing to announce
    await roles.assign_role(ctx, crew.ana.actor_id, role_id, crew.bo.actor_id)
    await roles.release_role(ctx, crew.bo.actor_id, role_id)
    assert [e.kind for e in seen] == [
        "role.requested",
        "role.request_declined",
        "role.requested",
        "role.assigned",
        "role.released",
    ]


async def test_leaving_the_community_gives_up_its_roles(ctx, crew) -> None:
    role_id = await _role(ctx, crew)
    await roles.claim_role(ctx, crew.bo.actor_id, role_id)
    await communities.leave(ctx, crew.bo.actor_id, crew.community.id)
    assert (await _get(ctx, crew, role_id)).vacant


async def test_members_matching_a_roles_competencies_best_first(ctx, crew) -> None:
    role_id = await roles.create_role(
        ctx,
        crew.ana.actor_id,
        crew.community.id,
        name="Builder",
        competencies=[("carpentry", None), ("welding", None)],
    )
    await accounts.set_competencies(ctx.db, crew.bo.actor_id, [("carpentry", None)])
    await accounts.set_competencies(
        ctx.db, crew.cy.actor_id, [("carpentry", None), ("welding", "expert")]
    )
    await accounts.set_competencies(ctx.db, crew.dan.actor_id, [("welding", None)])  # outsider
    async with ctx.db.read() as conn:
        role = await roles.get_role(conn, crew.community.id, role_id)
        found = await roles.matching_members(conn, role)
    assert [(r.username, r.matches) for r in found] == [("cy", 2), ("bo", 1)]
