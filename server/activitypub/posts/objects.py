"""Reading one local post (or a remote one we hold) into ``convert.PostParts``.

This is the only place the converters' inputs are gathered, so documents, outgoing activities and
tests all see the same object.
"""

from __future__ import annotations

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from server import urls
from server.activitypub.core.convert import MediaPart, PollPart, PostParts
from server.errors import NotFound
from server.services import post_rows
from server.visibility import Addressing, Audience, addressing


async def post_addressing(conn: AsyncConnection, base: str, post: Row) -> Addressing | None:
    """to/cc of a post from the visibility module; None for ``members`` (never federated)."""
    author, group, mentions = await post_rows.addressed(conn, post)
    return _addressing(base, post, author, group, mentions)


def _addressing(
    base: str, post: Row, author: Row, group: Row | None, mentions: list[Row]
) -> Addressing | None:
    return addressing(
        Audience(post.audience),
        followers_url=author.followers_url or f"{author.uri}/followers",
        mentioned=[m.uri for m in mentions],
        community_uri=group.uri if group is not None else None,
        partners_url=urls.partners_collection(base),
    )


def _handle(row: Row, local_domain: str) -> str:
    return f"@{row.username}@{row.domain or local_domain}"


async def load_post(conn: AsyncConnection, base: str, local_domain: str, post_id: int) -> PostParts:
    """All of a post's object, resolved to URIs. Raises NotFound for unknown or ``members`` posts."""
    rows = await post_rows.post_rows(conn, post_id)
    post, author, group = rows.post, rows.author, rows.group
    address = _addressing(base, post, author, group, rows.mentioned)
    if address is None:
        raise NotFound("this post does not leave the instance")
    mentions = tuple((m.uri, _handle(m, local_domain)) for m in rows.mentioned)
    tags = tuple((tag, urls.tag(base, tag)) for tag in rows.tags)
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
        for m in rows.media
    )
    item_uri = rows.roadmap_item_uri
    if post.roadmap_item_id is not None and item_uri is None and group is not None:
        item_uri = urls.roadmap_item(base, group.username, post.roadmap_item_id)
    role_uris = [
        role_uri or (urls.role(base, group.username, role_id) if group is not None else "")
        for role_id, role_uri in rows.roles
    ]
    return PostParts(
        uri=post.uri,
        url=post.url,
        kind=post.kind,
        author_uri=str(author.uri),
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
        poll=_poll(rows.poll),
        community_uri=group.uri if group is not None else None,
        roadmap_item_uri=item_uri,
        role_uris=tuple(u for u in role_uris if u),
        contributor_uris=rows.contributor_uris,
        replies_count=rows.public_replies,
        extra=dict(post.extra or {}),
    )


def _poll(rows: post_rows.PollRows | None) -> PollPart | None:
    if rows is None:
        return None
    return PollPart(
        options=tuple(rows.poll.options),
        counts=rows.counts,
        multiple=rows.poll.multiple,
        end_time=rows.poll.expires_at,
        voters=rows.voters,
    )
