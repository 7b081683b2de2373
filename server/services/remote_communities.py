"""Communities hosted on another instance, as this instance knows them.

A remote community is a Group actor (``actors.kind == 'group'`` with a domain); once one of our
members joins, takes part in an event or receives one of its posts it also has a ``communities``
row (``local=False``) holding what was federated to us: purpose versions, events, posts. The web
pages at ``/c/{handle}@{host}`` (``server.web.remote_communities``) read it through here.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import NotFound
from server.i18n.messages import Message
from server.services import communities
from server.services.communities import Community
from server.storage import schema as t


@dataclass(frozen=True, slots=True)
class RemoteCommunity:
    """A remote Group and, when we hold one, its ``communities`` row."""

    actor_id: int
    handle: str
    domain: str
    name: str
    summary_html: str
    uri: str
    url: str
    approval: bool
    community: Community | None

    @property
    def path(self) -> str:
        """The page of this community on this instance."""
        return page_path(self.handle, self.domain)


def page_path(handle: str, domain: str | None) -> str:
    """``/c/{handle}`` for a local community, ``/c/{handle}@{domain}`` for a remote one."""
    return f"/c/{handle}" if domain is None else f"/c/{handle}@{domain}"


async def find(conn: AsyncConnection, handle: str, host: str) -> RemoteCommunity:
    """The remote community ``handle@host`` we know of, or NotFound (we do not fetch here)."""
    a = t.actors
    row = (
        await conn.execute(
            sa.select(a).where(
                a.c.username == handle.lower(),
                a.c.domain == host.lower(),
                a.c.kind == "group",
                a.c.suspended.is_(False),
            )
        )
    ).first()
    if row is None:
        raise NotFound(
            Message("no community %(handle)s@%(host)s is known here", handle=handle, host=host)
        )
    community_id = (
        await conn.execute(sa.select(t.communities.c.id).where(t.communities.c.actor_id == row.id))
    ).scalar()
    community = await communities.get(conn, community_id) if community_id is not None else None
    return RemoteCommunity(
        actor_id=row.id,
        handle=row.username,
        domain=row.domain,
        name=community.name if community else (row.display_name or row.username),
        summary_html=row.summary_html or "",
        uri=row.uri,
        url=row.url or row.uri,
        approval=bool(row.manually_approves_followers),
        community=community,
    )


async def membership(
    conn: AsyncConnection, group_actor_id: int, actor_id: int | None
) -> str | None:
    """The viewer's follow of the Group: ``accepted`` (member), ``pending`` (until the Accept) or None."""
    if actor_id is None:
        return None
    return (
        await conn.execute(
            sa.select(t.follows.c.state).where(
                t.follows.c.follower_id == actor_id, t.follows.c.target_id == group_actor_id
            )
        )
    ).scalar()
