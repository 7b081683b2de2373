"""The purpose process of a community hosted on another instance, as this instance keeps it.

``server/activitypub/purpose/sync.py`` reads the Group's process document and hands over what it
says of each decision and proposal (``RemoteDecision``, ``RemoteProposal``); they are matched
here with the posts we hold (only those addressed to that community: a Group cannot claim others)
and stored in ``purpose_decisions`` / ``purpose_proposals`` of our row of the community.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.services import purpose
from server.services.purpose_proposals import insert_index_row
from server.storage import schema as t
from server.storage.rows import inserted_id


@dataclass(frozen=True, slots=True)
class RemoteDecision:
    """A decision as the Group's process document describes it (``post_uri``: its poll post)."""

    post_uri: str
    method: str
    opened_at: datetime
    closed_at: datetime | None
    result: str | None
    proposal_uris: list[str]


@dataclass(frozen=True, slots=True)
class RemoteProposal:
    """A proposal as the Group's process document describes it (``post_uri``: its post)."""

    post_uri: str
    state: str
    base_version: int


async def community_row(conn: AsyncConnection, community_id: int) -> sa.Row:
    """Our ``communities`` row."""
    return (
        await conn.execute(sa.select(t.communities).where(t.communities.c.id == community_id))
    ).one()


async def community_of_remote_group(conn: AsyncConnection, group_actor_id: int) -> sa.Row | None:
    """(id, uri of the Group) of our row of a REMOTE Group's community, or None."""
    return (
        await conn.execute(
            sa.select(t.communities.c.id, t.actors.c.uri)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.communities.c.actor_id == group_actor_id, t.communities.c.local.is_(False))
        )
    ).first()


async def known_post_uris(conn: AsyncConnection, uris: list[str]) -> set[str]:
    """Which of these post ids we hold a copy of."""
    if not uris:
        return set()
    return set(
        (await conn.execute(sa.select(t.posts.c.uri).where(t.posts.c.uri.in_(uris)))).scalars()
    )


async def _posts(conn: AsyncConnection, community_id: int, uris: list[str]) -> dict[str, sa.Row]:
    """Our copies of the named posts — only those addressed to this community."""
    if not uris:
        return {}
    rows = await conn.execute(
        sa.select(
            t.posts.c.id, t.posts.c.uri, t.posts.c.author_id, t.posts.c.created_at, t.posts.c.extra
        ).where(
            t.posts.c.uri.in_(uris),
            t.posts.c.community_id == community_id,
            t.posts.c.deleted_at.is_(None),
        )
    )
    return {r.uri: r for r in rows}


async def record_remote_process(
    conn: AsyncConnection,
    community: sa.Row,
    proposals: list[RemoteProposal],
    decisions: list[RemoteDecision],
) -> None:
    """Upsert our index of the remote community's decisions and proposals (matched by their posts); a
    decision that opens asks our members to take part (``koers.decision_opened``, as at home)."""
    community_id = community.id
    posts = await _posts(
        conn, community_id, [p.post_uri for p in proposals] + [d.post_uri for d in decisions]
    )
    decision_of: dict[str, int] = {}
    pd = t.purpose_decisions
    for d in decisions:
        post = posts.get(d.post_uri)
        if post is None:
            continue
        values = {
            "method": d.method,
            "opened_at": d.opened_at,
            "closed_at": d.closed_at,
            "result": d.result,
        }
        found = (
            await conn.execute(
                sa.select(pd.c.id).where(pd.c.community_id == community_id, pd.c.post_id == post.id)
            )
        ).scalar()
        if found is None:
            res = await conn.execute(
                pd.insert().values(community_id=community_id, post_id=post.id, counts={}, **values)
            )
            found = inserted_id(res)
            if values["closed_at"] is None:
                await purpose.notify_members(
                    conn,
                    community.actor_id,
                    "koers.decision_opened",
                    from_actor_id=post.author_id,
                    post_id=post.id,
                    community_id=community_id,
                    extra={"decision_id": found},
                )
        else:
            await conn.execute(pd.update().where(pd.c.id == found).values(**values))
        for uri in d.proposal_uris:
            decision_of[uri] = int(found)
    pp = t.purpose_proposals
    for p in proposals:
        post = posts.get(p.post_uri)
        if post is None:
            continue
        decision_id = decision_of.get(p.post_uri)
        exists = (await conn.execute(sa.select(pp.c.id).where(pp.c.post_id == post.id))).scalar()
        if exists is not None:
            await conn.execute(
                pp.update().where(pp.c.id == exists).values(state=p.state, decision_id=decision_id)
            )
            continue
        # The text is the author's own (their post's koers:proposal), not what the index document says.
        body = (post.extra or {}).get("proposal")
        if not isinstance(body, dict) or not str(body.get("text", "")).strip():
            continue
        new_id = await insert_index_row(
            conn,
            post,
            community_id,
            str(body["text"]),
            str(body.get("reason", "")),
            p.base_version,
            p.state,
        )
        await conn.execute(pp.update().where(pp.c.id == new_id).values(decision_id=decision_id))
