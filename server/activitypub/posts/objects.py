"""Reading one local post (or a remote one we hold) into ``convert.PostParts``.

This is the only place the converters' inputs are gathered, so documents, outgoing activities and
tests all see the same object.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import urls
from server.activitypub.core.convert import MediaPart, PollPart, PostParts
from server.errors import NotFound
from server.storage import schema as t
from server.visibility import Addressing, Audience, addressing, anonymous_audiences


async def actor_uri(conn: AsyncConnection, actor_id: int) -> str:
    """The ActivityPub id of an actor."""
    uri = (await conn.execute(sa.select(t.actors.c.uri).where(t.actors.c.id == actor_id))).scalar()
    if uri is None:
        raise NotFound("no such actor")
    return str(uri)


async def community_actor(conn: AsyncConnection, community_id: int | None) -> sa.Row | None:
    """The Group actor row of a community, or None."""
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
    """Actors mentioned in a post (they may see it and are addressed)."""
    return list(
        await conn.execute(
            sa.select(t.actors)
            .join(t.post_mentions, t.post_mentions.c.actor_id == t.actors.c.id)
            .where(t.post_mentions.c.post_id == post_id)
            .order_by(t.post_mentions.c.id)
        )
    )


async def post_addressing(conn: AsyncConnection, base: str, post: sa.Row) -> Addressing | None:
    """to/cc of a post from the visibility module; None for ``members`` (never federated)."""
    author, group, mentions = await _addressed(conn, post)
    return _addressing(base, post, author, group, mentions)


async def _addressed(
    conn: AsyncConnection, post: sa.Row
) -> tuple[sa.Row, sa.Row | None, list[sa.Row]]:
    """The rows a post's addressing names: its author, its community's Group, the mentioned."""
    author = (
        await conn.execute(sa.select(t.actors).where(t.actors.c.id == post.author_id))
    ).first()
    assert author is not None
    group = await community_actor(conn, post.community_id)
    return author, group, await mentioned(conn, post.id)


def _addressing(
    base: str, post: sa.Row, author: sa.Row, group: sa.Row | None, mentions: list[sa.Row]
) -> Addressing | None:
    return addressing(
        Audience(post.audience),
        followers_url=author.followers_url or f"{author.uri}/followers",
        mentioned=[m.uri for m in mentions],
        community_uri=group.uri if group is not None else None,
        partners_url=urls.partners_collection(base),
    )


def _handle(row: sa.Row, local_domain: str) -> str:
    return f"@{row.username}@{row.domain or local_domain}"


async def load_post(conn: AsyncConnection, base: str, local_domain: str, post_id: int) -> PostParts:
    """All of a post's object, resolved to URIs. Raises NotFound for unknown or ``members`` posts."""
    post = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()
    if post is None:
        raise NotFound("no such post")
    author, group, mentioned_rows = await _addressed(conn, post)
    address = _addressing(base, post, author, group, mentioned_rows)
    if address is None:
        raise NotFound("this post does not leave the instance")
    author_uri = str(author.uri)
    mentions = tuple((m.uri, _handle(m, local_domain)) for m in mentioned_rows)
    tags = tuple(
        (tag, urls.tag(base, tag))
        for (tag,) in await conn.execute(
            sa.select(t.post_tags.c.tag)
            .where(t.post_tags.c.post_id == post.id)
            .order_by(t.post_tags.c.id)
        )
    )
    media = tuple(
        MediaPart(
            url=m.remote_url or urls.media(base, m.path or ""),
            media_type=m.mime_type,
            description=m.description,
            blurhash=m.blurhash,
            focus=(m.focus_x, m.focus_y),
            width=m.width,
            height=m.height,
        )
        for m in await conn.execute(
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
        if item_uri is None and group is not None:
            item_uri = urls.roadmap_item(base, group.username, post.roadmap_item_id)
    role_uris: list[str] = []
    for role_id, role_uri in await conn.execute(
        sa.select(t.roles.c.id, t.roles.c.uri)
        .join(t.result_roles, t.result_roles.c.role_id == t.roles.c.id)
        .where(t.result_roles.c.post_id == post.id)
    ):
        role_uris.append(
            role_uri or (urls.role(base, group.username, role_id) if group is not None else "")
        )
    contributors = tuple(
        r[0]
        for r in await conn.execute(
            sa.select(t.actors.c.uri)
            .join(t.result_contributors, t.result_contributors.c.actor_id == t.actors.c.id)
            .where(t.result_contributors.c.post_id == post.id)
        )
    )
    # What every recipient may know: replies anyone may see (a signed GET recounts for its signer).
    # (the denormalised counts of the audiences an anonymous viewer sees: visibility.py)
    public_replies = (
        await conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(t.post_reply_counts.c.replies), 0)).where(
                t.post_reply_counts.c.post_id == post.id,
                t.post_reply_counts.c.audience.in_(anonymous_audiences()),
            )
        )
    ).scalar_one()
    return PostParts(
        uri=post.uri,
        url=post.url,
        kind=post.kind,
        author_uri=author_uri,
        audience=post.audience,
        addressing=address,
        content_html=post.content_html,
        published=post.created_at,
        title=post.title,
        summary=post.spoiler_text,
        sensitive=post.sensitive,
        language=post.language,
        updated=post.edited_at,
        in_reply_to=post.in_reply_to_uri,
        mentions=mentions,
        hashtags=tags,
        media=media,
        poll=await _poll(conn, post.id),
        community_uri=group.uri if group is not None else None,
        roadmap_item_uri=item_uri,
        role_uris=tuple(u for u in role_uris if u),
        contributor_uris=contributors,
        replies_count=int(public_replies),
        extra=dict(post.extra or {}),
    )


async def _poll(conn: AsyncConnection, post_id: int) -> PollPart | None:
    poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.post_id == post_id))).first()
    if poll is None:
        return None
    options = tuple(poll.options)
    if poll.remote_counts is not None:
        counts = tuple(int(c) for c in poll.remote_counts)
        voters = poll.voters_count
    else:
        rows: dict[int, int] = dict(
            (
                await conn.execute(
                    sa.select(t.poll_votes.c.choice, sa.func.count())
                    .where(t.poll_votes.c.poll_id == poll.id)
                    .group_by(t.poll_votes.c.choice)
                )
            ).all()
        )
        counts = tuple(int(rows.get(i, 0)) for i in range(len(options)))
        voters = (
            await conn.execute(
                sa.select(sa.func.count(sa.distinct(t.poll_votes.c.actor_id))).where(
                    t.poll_votes.c.poll_id == poll.id
                )
            )
        ).scalar_one()
    return PollPart(
        options=options,
        counts=counts,
        multiple=poll.multiple,
        end_time=poll.expires_at,
        voters=int(voters),
    )
