"""What a visitor can discover: the organisation (``/about``) and its public side (``/explore``).

Read models only; every post goes through the visibility module (timelines) and every person
listed chose to be discoverable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import community_lists, federation_admin, instance_facts, timelines
from server.services.post_cache import load_posts
from server.services.view_models import ActorView, PostView
from server.services.views import load_actors
from server.storage import schema as t
from server.visibility import Viewer


@dataclass(slots=True)
class About:
    """The organisation as ``/about`` shows it."""

    organisation: ActorView | None
    contact: ActorView | None
    facts: instance_facts.Facts
    communities: list[sa.Row]
    purposes: dict[int, str]
    partners: list[Any]


@dataclass(slots=True)
class Discoveries:
    """The public side of the instance as ``/explore`` shows it."""

    communities: list[sa.Row]
    purposes: dict[int, str]
    people: list[ActorView] = field(default_factory=list)
    results: list[PostView] = field(default_factory=list)
    posts: list[PostView] = field(default_factory=list)


async def about(conn: AsyncConnection, *, base: str, local_domain: str) -> About:
    """The organisation, its first administrator as contact, its communities and partners."""
    org_id = (
        await conn.execute(
            sa.select(t.actors.c.id).where(
                t.actors.c.kind == "organization", t.actors.c.domain.is_(None)
            )
        )
    ).scalar()
    facts = await instance_facts.count_facts(conn)
    ids = {i for i in (org_id, facts.admin_actor_id) if i is not None}
    actors = await load_actors(conn, ids, base, local_domain)
    partners = [
        p for p in await federation_admin.list_partners(conn) if getattr(p, "state", "") == "active"
    ]
    return About(
        organisation=actors.get(org_id) if org_id is not None else None,
        contact=actors.get(facts.admin_actor_id) if facts.admin_actor_id is not None else None,
        facts=facts,
        communities=await community_lists.local_communities(conn),
        purposes=await community_lists.purposes_in_force(conn),
        partners=partners,
    )


_PEOPLE = (
    sa.select(t.actors.c.id)
    .where(
        t.actors.c.kind == "person",
        t.actors.c.domain.is_(None),
        t.actors.c.discoverable.is_(True),
        t.actors.c.suspended.is_(False),
    )
    .order_by(t.actors.c.id.desc())
    .limit(sa.bindparam("limit"))
)


async def discover(
    conn: AsyncConnection, viewer: Viewer, *, base: str, local_domain: str, limit: int = 12
) -> Discoveries:
    """Public communities, discoverable people (newest first), recent results and posts."""
    people_ids = list((await conn.execute(_PEOPLE, {"limit": limit})).scalars())
    people = await load_actors(conn, set(people_ids), base, local_domain)
    result_ids = await timelines.results(conn, viewer, timelines.Page(limit=6))
    post_ids = await timelines.public(conn, viewer, timelines.Page(limit=10), local=True)
    return Discoveries(
        communities=await community_lists.local_communities(conn),
        purposes=await community_lists.purposes_in_force(conn),
        people=[people[i] for i in people_ids if i in people],
        results=await load_posts(conn, viewer, result_ids, base=base, local_domain=local_domain),
        posts=await load_posts(conn, viewer, post_ids, base=base, local_domain=local_domain),
    )
