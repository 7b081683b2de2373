"""Read models: posts and actors as the pages, feeds and APIs show them.

``load_posts`` turns post ids into ``PostView``s with author, boosted post, media, tags, mentions,
poll, community and the viewer's own flags, in a fixed number of queries whatever the page size.
Callers pass ids they obtained through the visibility module; boosted originals are checked again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.storage import schema as t
from server.visibility import Audience, Viewer, posts_visible_to


@dataclass(slots=True)
class ActorView:
    id: int
    uri: str
    kind: str
    username: str
    domain: str | None
    display_name: str
    summary_html: str
    url: str | None
    avatar_url: str | None
    header_url: str | None
    fields: list
    locked: bool
    bot: bool
    discoverable: bool
    created_at: datetime
    local_domain: str

    @property
    def local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        """``user`` for local accounts, ``user@host`` for remote ones (as Mastodon)."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.domain or self.local_domain}"

    @property
    def name(self) -> str:
        return self.display_name or self.username


@dataclass(slots=True)
class MediaView:
    id: int
    kind: str
    url: str
    preview_url: str
    mime_type: str
    description: str
    width: int | None
    height: int | None
    blurhash: str | None
    focus_x: float
    focus_y: float
    remote_url: str | None


@dataclass(slots=True)
class PollView:
    id: int
    options: list[str]
    counts: list[int]
    multiple: bool
    expires_at: datetime | None
    voters_count: int
    own_votes: list[int]

    @property
    def expired(self) -> bool:
        exp = clock.aware(self.expires_at)
        return exp is not None and exp <= clock.now()


@dataclass(slots=True)
class PostView:
    id: int
    uri: str
    url: str
    author: ActorView
    kind: str
    audience: Audience
    community_id: int | None
    community_handle: str | None
    community_name: str | None
    title: str | None
    content_html: str
    source: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    in_reply_to_id: int | None
    in_reply_to_uri: str | None
    in_reply_to_author_id: int | None
    thread_root_id: int | None
    roadmap_item_id: int | None
    created_at: datetime
    edited_at: datetime | None
    local: bool
    replies_count: int
    reblogs_count: int
    favourites_count: int
    reblog: PostView | None = None
    media: list[MediaView] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    mentions: list[ActorView] = field(default_factory=list)
    poll: PollView | None = None
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False
    muted: bool = False
    roles: list[tuple[int, str]] = field(default_factory=list)
    contributors: list[ActorView] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    community_path: str | None = None  # its page here: /c/{handle} or /c/{handle}@{host}

    def _community_base(self) -> str:
        return self.community_path or f"/c/{self.community_handle}"

    def role_path(self, role_id: int) -> str:
        """A role the post names, here: its page, or its entry on a remote community's roles page."""
        base = self._community_base()
        return f"{base}/roles#role-{role_id}" if "@" in base else f"{base}/roles/{role_id}"

    def roadmap_item_path(self) -> str:
        """The roadmap item the post is about, here (a remote community's roadmap lists its items)."""
        base = self._community_base()
        return (
            f"{base}/roadmap#item-{self.roadmap_item_id}"
            if "@" in base
            else f"{base}/roadmap/{self.roadmap_item_id}"
        )


def media_url(base: str, path: str | None, remote: str | None) -> str:
    if path:
        return f"{base}/media/{path}"
    return remote or ""


def actor_view(row: sa.Row, base: str, local_domain: str) -> ActorView:
    m = row._mapping
    return ActorView(
        id=m["id"],
        uri=m["uri"],
        kind=m["kind"],
        username=m["username"],
        domain=m["domain"],
        display_name=m["display_name"] or "",
        summary_html=m["summary_html"] or "",
        url=m["url"],
        avatar_url=media_url(base, m["avatar_path"], m["avatar_url"]) or None,
        header_url=media_url(base, m["header_path"], m["header_url"]) or None,
        fields=list(m["fields"] or []),
        locked=bool(m["manually_approves_followers"]),
        bot=bool(m["bot"]),
        discoverable=bool(m["discoverable"]),
        created_at=clock.aware(m["created_at"]),
        local_domain=local_domain,
    )


async def load_actors(
    conn: AsyncConnection, ids: set[int], base: str, local_domain: str
) -> dict[int, ActorView]:
    if not ids:
        return {}
    rows = await conn.execute(sa.select(t.actors).where(t.actors.c.id.in_(ids)))
    return {r.id: actor_view(r, base, local_domain) for r in rows}


async def load_posts(
    conn: AsyncConnection, viewer: Viewer, ids: list[int], *, base: str, local_domain: str
) -> list[PostView]:
    """PostViews for ``ids`` in the given order; boosts carry their original when the viewer may see it."""
    if not ids:
        return []
    r: sa.Row[*tuple[Any, ...]] | None  # the loops below read rows of several shapes
    rows = {r.id: r for r in await conn.execute(sa.select(t.posts).where(t.posts.c.id.in_(ids)))}
    reblog_ids = {r.reblog_of_id for r in rows.values() if r.reblog_of_id}
    originals: dict[int, sa.Row] = {}
    if reblog_ids:
        originals = {
            r.id: r
            for r in await conn.execute(
                sa.select(t.posts).where(t.posts.c.id.in_(reblog_ids), posts_visible_to(viewer))
            )
        }
    all_rows = {**rows, **originals}
    post_ids = set(all_rows)
    # The stored count includes replies the viewer may not see (followers-only, direct …): count what they may.
    replies = t.posts.alias("replies")
    visible_replies: dict[int, int] = dict(
        (
            await conn.execute(
                sa.select(replies.c.in_reply_to_id, sa.func.count())
                .where(replies.c.in_reply_to_id.in_(post_ids), posts_visible_to(viewer, replies))
                .group_by(replies.c.in_reply_to_id)
            )
        ).all()
    )
    actor_ids = {r.author_id for r in all_rows.values()}

    mentions: dict[int, list[int]] = defaultdict(list)
    for r in await conn.execute(
        sa.select(t.post_mentions.c.post_id, t.post_mentions.c.actor_id).where(
            t.post_mentions.c.post_id.in_(post_ids)
        )
    ):
        mentions[r.post_id].append(r.actor_id)
        actor_ids.add(r.actor_id)
    contributors: dict[int, list[int]] = defaultdict(list)
    for r in await conn.execute(
        sa.select(t.result_contributors.c.post_id, t.result_contributors.c.actor_id).where(
            t.result_contributors.c.post_id.in_(post_ids)
        )
    ):
        contributors[r.post_id].append(r.actor_id)
        actor_ids.add(r.actor_id)
    parent_ids = {r.in_reply_to_id for r in all_rows.values() if r.in_reply_to_id}
    parent_authors: dict[int, int] = {}
    if parent_ids:
        parent_authors = {
            r.id: r.author_id
            for r in await conn.execute(
                sa.select(t.posts.c.id, t.posts.c.author_id).where(t.posts.c.id.in_(parent_ids))
            )
        }
    actors = await load_actors(conn, actor_ids, base, local_domain)

    tags: dict[int, list[str]] = defaultdict(list)
    for r in await conn.execute(
        sa.select(t.post_tags.c.post_id, t.post_tags.c.tag)
        .where(t.post_tags.c.post_id.in_(post_ids))
        .order_by(t.post_tags.c.id)
    ):
        tags[r.post_id].append(r.tag)
    media: dict[int, list[MediaView]] = defaultdict(list)
    for r in await conn.execute(
        sa.select(t.media)
        .where(t.media.c.post_id.in_(post_ids))
        .order_by(t.media.c.position, t.media.c.id)
    ):
        url = media_url(base, r.path, r.remote_url)
        media[r.post_id].append(
            MediaView(
                id=r.id,
                kind=r.kind,
                url=url,
                preview_url=media_url(base, r.thumb_path, None) or url,
                mime_type=r.mime_type,
                description=r.description or "",
                width=r.width,
                height=r.height,
                blurhash=r.blurhash,
                focus_x=r.focus_x or 0.0,
                focus_y=r.focus_y or 0.0,
                remote_url=r.remote_url,
            )
        )
    communities: dict[int, tuple[str, str]] = {}
    community_paths: dict[int, str] = {}
    community_ids = {r.community_id for r in all_rows.values() if r.community_id}
    if community_ids:
        for r in await conn.execute(
            sa.select(
                t.communities.c.id, t.communities.c.name, t.actors.c.username, t.actors.c.domain
            )
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.communities.c.id.in_(community_ids))
        ):
            communities[r.id] = (r.username, r.name)
            # the community's page here: /c/{handle} (local) or /c/{handle}@{host} (remote)
            community_paths[r.id] = (
                f"/c/{r.username}" if r.domain is None else f"/c/{r.username}@{r.domain}"
            )
    roles: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for r in await conn.execute(
        sa.select(t.result_roles.c.post_id, t.roles.c.id, t.roles.c.name)
        .join(t.roles, t.roles.c.id == t.result_roles.c.role_id)
        .where(t.result_roles.c.post_id.in_(post_ids))
    ):
        roles[r.post_id].append((r.id, r.name))
    polls = await _load_polls(conn, viewer, post_ids)

    flags: dict[str, set[int]] = {"fav": set(), "reblog": set(), "bookmark": set(), "pin": set()}
    if viewer.actor_id is not None:
        me = viewer.actor_id
        for key, table, col in (
            ("fav", t.favourites, t.favourites.c.post_id),
            ("bookmark", t.bookmarks, t.bookmarks.c.post_id),
            ("pin", t.pins, t.pins.c.post_id),
        ):
            flags[key] = {
                r[0]
                for r in await conn.execute(
                    sa.select(col).where(col.in_(post_ids), table.c.actor_id == me)
                )
            }
        flags["reblog"] = {
            r[0]
            for r in await conn.execute(
                sa.select(t.posts.c.reblog_of_id).where(
                    t.posts.c.reblog_of_id.in_(post_ids),
                    t.posts.c.author_id == me,
                    t.posts.c.deleted_at.is_(None),
                )
            )
        }

    def build(r: sa.Row) -> PostView:
        handle, cname = (
            communities.get(r.community_id, (None, None)) if r.community_id else (None, None)
        )
        return PostView(
            id=r.id,
            uri=r.uri,
            url=r.url or r.uri,
            author=actors[r.author_id],
            kind=r.kind,
            audience=Audience(r.audience),
            community_id=r.community_id,
            community_handle=handle,
            community_name=cname,
            community_path=community_paths.get(r.community_id) if r.community_id else None,
            title=r.title,
            content_html=r.content_html or "",
            source=r.source or "",
            spoiler_text=r.spoiler_text or "",
            sensitive=bool(r.sensitive),
            language=r.language,
            in_reply_to_id=r.in_reply_to_id,
            in_reply_to_uri=r.in_reply_to_uri,
            in_reply_to_author_id=parent_authors.get(r.in_reply_to_id)
            if r.in_reply_to_id
            else None,
            thread_root_id=r.thread_root_id,
            roadmap_item_id=r.roadmap_item_id,
            created_at=clock.aware(r.created_at),
            edited_at=clock.aware(r.edited_at),
            local=bool(r.local),
            replies_count=int(visible_replies.get(r.id, 0)),
            reblogs_count=r.reblogs_count,
            favourites_count=r.favourites_count,
            media=media.get(r.id, []),
            tags=tags.get(r.id, []),
            mentions=[actors[a] for a in mentions.get(r.id, []) if a in actors],
            poll=polls.get(r.id),
            favourited=r.id in flags["fav"],
            reblogged=r.id in flags["reblog"],
            bookmarked=r.id in flags["bookmark"],
            pinned=r.id in flags["pin"],
            roles=roles.get(r.id, []),
            contributors=[actors[a] for a in contributors.get(r.id, []) if a in actors],
            extra=dict(r.extra or {}),
        )

    out: list[PostView] = []
    for pid in ids:
        r = rows.get(pid)
        if r is None:
            continue
        view = build(r)
        if r.reblog_of_id:
            orig = originals.get(r.reblog_of_id)
            if orig is None or orig.deleted_at is not None:
                continue
            view.reblog = build(orig)
        out.append(view)
    return out


async def _load_polls(
    conn: AsyncConnection, viewer: Viewer, post_ids: set[int]
) -> dict[int, PollView]:
    rows = list(await conn.execute(sa.select(t.polls).where(t.polls.c.post_id.in_(post_ids))))
    if not rows:
        return {}
    poll_ids = [r.id for r in rows]
    counts: dict[int, dict[int, int]] = defaultdict(dict)
    for r in await conn.execute(
        sa.select(t.poll_votes.c.poll_id, t.poll_votes.c.choice, sa.func.count())
        .where(t.poll_votes.c.poll_id.in_(poll_ids))
        .group_by(t.poll_votes.c.poll_id, t.poll_votes.c.choice)
    ):
        counts[r[0]][r[1]] = r[2]
    voters: dict[int, int] = {
        r[0]: r[1]
        for r in await conn.execute(
            sa.select(t.poll_votes.c.poll_id, sa.func.count(sa.distinct(t.poll_votes.c.actor_id)))
            .where(t.poll_votes.c.poll_id.in_(poll_ids))
            .group_by(t.poll_votes.c.poll_id)
        )
    }
    own: dict[int, list[int]] = defaultdict(list)
    if viewer.actor_id is not None:
        for r in await conn.execute(
            sa.select(t.poll_votes.c.poll_id, t.poll_votes.c.choice).where(
                t.poll_votes.c.poll_id.in_(poll_ids), t.poll_votes.c.actor_id == viewer.actor_id
            )
        ):
            own[r.poll_id].append(r.choice)
    out = {}
    for r in rows:
        options = list(r.options)
        remote = list(r.remote_counts or [])
        local_counts = [counts[r.id].get(i, 0) for i in range(len(options))]
        merged = [
            local_counts[i] + (remote[i] if i < len(remote) else 0) for i in range(len(options))
        ]
        out[r.post_id] = PollView(
            id=r.id,
            options=options,
            counts=merged,
            multiple=bool(r.multiple),
            expires_at=clock.aware(r.expires_at),
            voters_count=voters.get(r.id, 0) + (r.voters_count or 0),
            own_votes=sorted(own.get(r.id, [])),
        )
    return out
