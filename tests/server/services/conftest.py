"""Shared set-ups of the services' unit tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from server.services import communities
from server.services.accounts import Account
from server.services.communities import Community
from server.visibility import Viewer


@dataclass(frozen=True)
class Crew:
    """The community ``garden``: ana founded and manages it, bo and cy joined, dan is outside."""

    community: Community
    ana: Account
    bo: Account
    cy: Account
    dan: Account

    @staticmethod
    def viewer(person: Account) -> Viewer:
        return Viewer(actor_id=person.actor_id, local=True)


@pytest.fixture
async def crew(ctx, member, make_member) -> Crew:  # type: ignore[no-untyped-def]
    community = await communities.create_community(
        ctx, member.actor_id, handle="garden", name="Garden", purpose_text="Grow food"
    )
    bo, cy, dan = [await make_member(n) for n in ("bo", "cy", "dan")]
    for person in (bo, cy):
        await communities.join(ctx, person.actor_id, community.id)
    return Crew(community, member, bo, cy, dan)
