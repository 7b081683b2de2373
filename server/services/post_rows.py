"""The rows one post's ActivityStreams object is made of (``activitypub/posts/objects.py`` turns
them into ``PostParts``): the post, its author, its community's Group, whom it mentions, its tags,
media, poll, result links, and how many replies anyone may see.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import NotFound
from server.services.written_post import written
from server.storage import schema as t
from server.visibility import anonymous_audiences


@dataclass(frozen=True, slots=True)
class PollRows:
    """A poll row with its counts per choice and its number of voters (a remote poll's as its
    origin told them, a local poll's counted from the votes)."""

    poll: sa.Row
    counts: tuple[int, ...]
    voters: int


@dataclass(frozen=True, slots=True)
class PostRows:
    """Everything ``load_post`` reads of one post, in the order the object lists it."""

    post: sa.Row
    author: sa.Row
    group: sa.Row | None
    mentioned: list[sa.Row]
    tags: list[str]
    media: list[sa.Row]
    roadmap_item_uri: str | None
    roles: list[tuple[int, str | None]]
    contributor_uris: tuple[str, ...]
    public_replies: int
    poll: PollRows | None


async def post_by_id(conn: AsyncConnection, post_id: int) -> sa.Row | None:
    """The post ``post_id``, or None (the row this transaction has just written, if it is that)."""
    known = written(conn, post_id)
    if known is not None:
        return known.post
    return (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()


async def poll_options(conn: AsyncConnection, poll_id: int) -> list[str]:
    """The names of a poll's choices, in order (the poll must exist)."""
    return list(
        (
            await conn.execute(sa.select(t.polls.c.options).where(t.polls.c.id == poll_id))
        ).scalar_one()
    )


async def actor_uri(conn: AsyncConnection, actor_id: int) -> str:
    """The ActivityPub id of an actor; NotFound when there is none."""
    uri = (await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == actor_id))).scalar()
    if uri is None:
        raise NotFound("no such actor")
    return str(uri)


async def community_actor(conn: AsyncConnection, community_id: int | None) -> sa.Row | None:
    """The Group actor row of a community (with its ``community_id``), or None."""
    if community_id is None:
        return None
    return (
        await conn.execute(
            sa.select(t.actors, t.communities.c.id.label("community_id"))
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == community_id)
        )
    ).first()


async def mentioned(conn: AsyncConnection, post_id: int) -> list[sa.Row]:
    """Actors mentioned in a post (they may see it and are addressed), in the order named."""
    return list(
        await conn.execute(
            sa.select(t.actors)
            .join(t.post_mentions, t.post_mentions.c.actor_id == t.actors.c.id)
            .where(t.post_mentions.c.post_id == post_id)
            .order_by(t.post_mentions.c.id)
        )
    )


async def addressed(
    conn: AsyncConnection, post: sa.Row
) -> tuple[sa.Row, sa.Row | None, list[sa.Row]]:
    """The rows a post's addressing names: its author, its community's Group, the mentioned."""
    author = (
        await conn.execute(sa.select(t.actors).where(t.actors.c.id == post.author_id))
    ).first()
    assert author is not None
    group = await community_actor(conn, post.community_id)
    return author, group, await mentioned(conn, post.id)


async def post_rows(conn: AsyncConnection, post_id: int) -> PostRows:
    """All the rows of the post ``post_id``; NotFound when there is no such post.

    For a post the transaction has just written (``written_post``) the rows it knows are taken
    from there and the parts it does not have are not looked up."""
    known = written(conn, post_id)
    if known is not None:
        post, author = known.post, known.author
        group = await community_actor(conn, post.community_id)
        mentioned_rows = (
            known.mentioned if known.mentioned is not None else await mentioned(conn, post.id)
        )
        tags = list(known.tags)
    else:
        found = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()
        if found is None:
            raise NotFound("no such post")
        post = found
        author, group, mentioned_rows = await addressed(conn, post)
        tags = [
            tag
            for (tag,) in await conn.execute(
                sa.select(t.post_tags.c.tag)
                .where(t.post_tags.c.post_id == post.id)
                .order_by(t.post_tags.c.id)
            )
        ]
    media = []
    if known is None or known.has_media:
        media = list(
            await conn.execute(
                sa.select(t.media).where(t.media.c.post_id == post.id).order_by(t.media.c.position)
            )
        )
    item_uri = None
    if post.roadmap_item_id is not None:
        item_uri = (
            await conn.execute(
                sa.select(t.roadmap_items.c.uri).where(t.roadmap_items.c.id == post.roadmap_item_id)
            )
        ).scalar()
    roles = []
    if known is None or known.has_roles:
        roles = [
            (int(role_id), role_uri)
            for role_id, role_uri in await conn.execute(
                sa.select(t.roles.c.id, t.roles.c.uri)
                .join(t.result_roles, t.result_roles.c.role_id == t.roles.c.id)
                .where(t.result_roles.c.post_id == post.id)
            )
        ]
    contributors: tuple[str, ...] = ()
    if known is None or known.has_contributors:
        contributors = tuple(
            r[0]
            for r in await conn.execute(
                sa.select(t.actors.c.uri)
                .join(t.result_contributors, t.result_contributors.c.actor_id == t.actors.c.id)
                .where(t.result_contributors.c.post_id == post.id)
            )
        )
    return PostRows(
        post=post,
        author=author,
        group=group,
        mentioned=mentioned_rows,
        tags=tags,
        media=media,
        roadmap_item_uri=item_uri,
        roles=roles,
        contributor_uris=contributors,
        # a post written in this transaction has no replies yet
        public_replies=0 if known is not None else await _public_replies(conn, post.id),
        poll=await _poll(conn, post.id) if known is None or known.has_poll else None,
    )


async def _public_replies(conn: AsyncConnection, post_id: int) -> int:
    """Replies anyone may see (a signed GET recounts for its signer): the denormalised counts of
    the audiences an anonymous viewer sees (``visibility.py``)."""
    count = (
        await conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.post_reply_counts.c.replies), 0)).where(
                t.post_reply_counts.c.post_id == post_id,
                t.post_reply_counts.c.audience.in_(anonymous_audiences()),
            )
        )
    ).scalar_one()
    return int(count)


async def _poll(conn: AsyncConnection, post_id: int) -> PollRows | None:
    poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == post_id))).first()
    if poll is None:
        return None
    if poll.remote_counts is not None:
        return PollRows(poll, tuple(int(c) for c in poll.remote_counts), int(poll.voters_count))
    rows: dict[int, int] = dict(
        (
            await conn.execute(
                sa.select(t.poll_votes.c.choice, sa.func.count())
                .where(t.poll_votes.c.poll_id == poll.id)
                .group_by(t.poll_votes.c.choice)
            )
        ).all()
    )
    counts = tuple(int(rows.get(i, 0)) for i in range(len(poll.options)))
    voters = (
        await conn.execute(
            sa.select(sa.func.count(sa.distinct(t.poll_votes.c.actor_id))).where(
                t.poll_votes.c.poll_id == poll.id
            )
        )
    ).scalar_one()
    return PollRows(poll, counts, int(voters))
