"""Koers terms added to local actor documents: a Group's collections and moderators, a Person's
competencies and roles held.

A Person's competencies also go out as a profile field (``PropertyValue`` "Competencies"), so
servers that do not know Koers show them; the field is marked ``koers:derivedFrom`` and Koers
receivers drop it again (``remote_actors.drop_derived_fields``), as they read the structured term.
"""

from __future__ import annotations

import html
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from server.activitypub.purpose.activities import phase_object
from server.services import actor_terms

COMPETENCIES_FIELD = "Competencies"


def competencies_field(comps: list[tuple[str, str | None]]) -> dict[str, Any]:
    """The profile field listing ``(name, level)`` pairs: "energy modelling (expert), …"."""
    value = html.escape(
        ", ".join(f"{name} ({level})" if level else name for name, level in comps), quote=False
    )  # a field's value is HTML, as the other fields' are
    return {
        "type": "PropertyValue",
        "name": COMPETENCIES_FIELD,
        "value": value,
        "koers:derivedFrom": "koers:competencies",
    }


async def actor_extra(conn: AsyncConnection, row: Any) -> dict[str, Any]:
    """Extra properties for the actor document of ``row`` (a local actor)."""
    if row.kind == "group":
        group = await actor_terms.group_terms(conn, row.id)
        if group is None:
            return {}
        community = group.community
        return {
            "attributedTo": group.manager_uris,
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
        person = await actor_terms.person_terms(conn, row.id)
        pairs = person.competencies
        comps = [{"name": n, "koers:level": lvl} for n, lvl in pairs]
        roles = [{"id": uri, "name": name} for uri, name in person.roles]
        extra: dict[str, Any] = {"koers:competencies": comps, "koers:roles": roles}
        if pairs:
            extra["attachment"] = [competencies_field(pairs)]
        return extra
    return {}
