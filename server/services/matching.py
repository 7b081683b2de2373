"""Networks of like-minded people: "who can help with X" for a role or a roadmap item, and
suggestions of communities that share your competencies and purposes.

Matching compares names of competencies (lower-cased, as stored) of local and remote people; remote
people's competencies come from their actor documents (``remote_competencies``). Community members
are only listed to viewers who may see the member list; beyond the community only people who chose
to be discoverable are suggested.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t
from server.visibility import Viewer, can_see_members

LEVEL_SCORE = {"expert": 3, "practised": 2, "learning": 1}


@dataclass(frozen=True, slots=True)
class Helper:
    """Someone whose competencies match what is needed."""

    actor_id: int
    username: str
    domain: str | None
    name: str
    url: str
    is_member: bool
    matched: tuple[tuple[str, str | None], ...]  # (competency, their level)
    score: int

    @property
    def handle(self) -> str:
        return self.username if self.domain is None else f"{self.username}@{self.domain}"


async def role_needs(conn: AsyncConnection, role_id: int) -> list[str]:
    """The competencies a role requires."""
    return [
        r[0]
        for r in await conn.execute(
            sa.select(t.role_competencies.c.name).where(t.role_competencies.c.role_id == role_id)
        )
    ]


def _members_of(community_id: int) -> sa.Select:
    return (
        sa.select(t.follows.c.follower_id)
        .join(t.communities, t.communities.c.actor_id == t.follows.c.target_id)
        .where(t.communities.c.id == community_id, t.follows.c.state == "accepted")
    )


async def who_can_help(
    conn: AsyncConnection, viewer: Viewer, community_id: int, needs: list[str], *, limit: int = 20
) -> list[Helper]:
    """People with the needed competencies: the community's members (when the viewer may see the
    member list) and discoverable people anywhere, most and best matches first, members first on ties."""
    names = sorted({n.strip().lower() for n in needs if n.strip()})
    if not names:
        return []
    members = set(r[0] for r in await conn.execute(_members_of(community_id)))
    show_members = await can_see_members(conn, viewer, community_id)
    rows = await conn.execute(
        sa.select(
            t.actors.c.id,
            t.actors.c.username,
            t.actors.c.domain,
            t.actors.c.display_name,
            t.actors.c.url,
            t.actors.c.uri,
            t.actors.c.discoverable,
            t.competencies.c.name,
            t.competencies.c.level,
        )
        .join(t.competencies, t.competencies.c.actor_id == t.actors.c.id)
        .where(
            t.competencies.c.name.in_(names),
            t.actors.c.suspended.is_(False),
            t.actors.c.kind == "person",
        )
    )
    found: dict[int, dict] = {}
    for r in rows:
        member = r.id in members
        if member and not show_members:
            continue  # listing them at all would reveal a hidden member list
        if not member and not r.discoverable:
            continue
        entry = found.setdefault(r.id, {"row": r, "member": member, "matched": []})
        entry["matched"].append((r.name, r.level))
    helpers = [
        Helper(
            actor_id=e["row"].id,
            username=e["row"].username,
            domain=e["row"].domain,
            name=e["row"].display_name or e["row"].username,
            url=f"/@{e['row'].username}"
            if e["row"].domain is None
            else (e["row"].url or e["row"].uri),
            is_member=e["member"],
            matched=tuple(sorted(e["matched"])),
            score=sum(LEVEL_SCORE.get(level or "", 1) for _, level in e["matched"]),
        )
        for e in found.values()
    ]
    helpers.sort(key=lambda h: (-len(h.matched), -h.score, not h.is_member, h.handle))
    return helpers[:limit]


async def suggested_communities(
    conn: AsyncConnection, actor_id: int, *, limit: int = 5
) -> list[sa.Row]:
    """Communities the actor has not joined whose roles need, or whose members or purpose share,
    the actor's competencies: ``id``, ``name``, ``handle``, ``score`` (highest first)."""
    mine = [
        r[0]
        for r in await conn.execute(
            sa.select(t.competencies.c.name).where(t.competencies.c.actor_id == actor_id)
        )
    ]
    if not mine:
        return []
    joined = sa.select(t.follows.c.target_id).where(t.follows.c.follower_id == actor_id)
    c, a = t.communities, t.actors
    roles_need = (
        sa.select(sa.func.count(t.role_competencies.c.id))
        .join(t.roles, t.roles.c.id == t.role_competencies.c.role_id)
        .where(t.roles.c.community_id == c.c.id, t.role_competencies.c.name.in_(mine))
        .scalar_subquery()
    )
    members_share = (
        sa.select(sa.func.count(sa.distinct(t.competencies.c.actor_id)))
        .join(t.follows, t.follows.c.follower_id == t.competencies.c.actor_id)
        .where(
            t.follows.c.target_id == c.c.actor_id,
            t.follows.c.state == "accepted",
            t.competencies.c.name.in_(mine),
        )
        .scalar_subquery()
    )
    pv, newer = t.purpose_versions.alias("pv"), t.purpose_versions.alias("newer")
    in_purpose = sa.exists(
        sa.select(1)
        .where(
            pv.c.community_id == c.c.id,
            sa.not_(
                sa.exists(
                    sa.select(1)
                    .where(newer.c.community_id == pv.c.community_id, newer.c.id > pv.c.id)
                    .correlate(pv)
                )
            ),
            sa.or_(*[sa.func.lower(pv.c.text_source).contains(name) for name in mine[:30]]),
        )
        .correlate(c)
    )
    score = (roles_need * 2 + members_share + sa.case((in_purpose, 2), else_=0)).label("score")
    rows = await conn.execute(
        sa.select(c.c.id, c.c.name, a.c.username.label("handle"), a.c.domain, score)
        .join(a, a.c.id == c.c.actor_id)
        .where(c.c.actor_id.not_in(joined), a.c.suspended.is_(False))
        .order_by(score.desc(), c.c.name)
        .limit(limit * 3)
    )
    return [r for r in rows if r.score > 0][:limit]


async def community_of_role(conn: AsyncConnection, role_id: int) -> int | None:
    """The community a role belongs to, or None when there is no such role."""
    return (
        await conn.execute(sa.select(t.roles.c.community_id).where(t.roles.c.id == role_id))
    ).scalar()
