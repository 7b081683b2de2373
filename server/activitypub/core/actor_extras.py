"""Koers terms added to local actor documents: a Group's collections and moderators, a Person's
competencies and roles held."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from server.activitypub.purpose.activities import phase_object
from server.keys import CTX
from server.storage import schema as t


async def actor_extra(app: web.Application, row: Any) -> dict[str, Any]:
    """Extra properties for the actor document of ``row`` (a local actor)."""
    async with app[CTX].db.read() as conn:
        if row.kind == "group":
            community = (
                await conn.execute(
                    sa.select(t.communities).where(t.communities.c.actor_id == row.id)
                )
            ).first()
            if community is None:
                return {}
            managers = [
                r[0]
                for r in await conn.execute(
                    sa.select(t.actors.c.uri)
                    .join(t.community_managers, t.community_managers.c.actor_id == t.actors.c.id)
                    .where(t.community_managers.c.community_id == community.id)
                )
            ]
            return {
                "attributedTo": managers,
                "audience": row.uri,
                "koers:openness": community.openness,
                "koers:members": f"{row.uri}/members",
                "koers:roles": f"{row.uri}/roles",
                "koers:roadmap": f"{row.uri}/roadmap",
                "koers:purpose": f"{row.uri}/purpose",
                "postingRestrictedToMods": False,
                # where the purpose process stands (server/activitypub/purpose/activities.py)
                "koers:purposePhase": await phase_object(conn, community.id),
                "koers:purposeProcess": f"{row.uri}/purpose/process",
            }
        if row.kind == "person":
            comps = [
                {"name": n, "koers:level": lvl}
                for n, lvl in await conn.execute(
                    sa.select(t.competencies.c.name, t.competencies.c.level).where(
                        t.competencies.c.actor_id == row.id
                    )
                )
            ]
            roles = [
                {"id": uri, "name": name}
                for uri, name in await conn.execute(
                    sa.select(t.roles.c.uri, t.roles.c.name)
                    .join(t.role_holders, t.role_holders.c.role_id == t.roles.c.id)
                    .where(t.role_holders.c.actor_id == row.id, t.role_holders.c.state == "held")
                )
                if uri
            ]
            return {"koers:competencies": comps, "koers:roles": roles}
    return {}
