"""Posts, results, replies, edits, deletes, boosts and favourites: the write side.

Each function validates everything first, then writes in one transaction and emits a domain event
in it (federation turns those into outgoing activities in the same transaction).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server import event_kinds as kinds
from server.context import Context
from server.errors import Conflict, Forbidden, Gone, NotFound, ValidationError
from server.events import Event
from server.i18n.messages import Message
from server.services import home_feed, idempotency, mail_members, notifications, text
from server.services.written_post import WrittenPost, holding
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Audience, Viewer, can_boost, can_see_post, reply_audience

log = logging.getLogger(__name__)

MAX_CHARS = 5000
MAX_MEDIA = 4
MAX_POLL_OPTIONS = 4
MAX_POLL_OPTION_CHARS = 50
POLL_MIN_SECONDS = 300
POLL_MAX_SECONDS = 2629746
KINDS = ("note", "result", "article")


@dataclass(frozen=True, slots=True)
class PollSpec:
    options: tuple[str, ...]
    expires_in: int
    multiple: bool = False
    hide_totals: bool = False


@dataclass(frozen=True, slots=True)
class Draft:
    """What an author asks for; ``audience=None`` means the author's default audience."""

    source: str
    audience: Audience | None = None
    fmt: str = "markdown"
    spoiler_text: str = ""
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: int | None = None
    community_id: int | None = None
    kind: str = "note"
    title: str | None = None
    roadmap_item_id: int | None = None
    role_ids: tuple[int, ...] = ()
    contributor_ids: tuple[int, ...] = ()
    media_ids: tuple[int, ...] = ()
    poll: PollSpec | None = None
    application_id: int | None = None
    # Koers flags carried by the post (``idea``, ``call_for_ideas``); set by the services that own them
    extra: dict | None = None


async def viewer_for_actor(conn: AsyncConnection, actor_id: int) -> Viewer:
    """The Viewer for an actor (local member, or remote actor with its domain)."""
    row = (
        await conn.execute(
            sa.select(t.actors.c.domain, t.users.c.is_admin)
            .select_from(t.actors.outerjoin(t.users, t.users.c.actor_id == t.actors.c.id))
            .where(t.actors.c.id == actor_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such actor")
    return Viewer(
        actor_id=actor_id, local=row.domain is None, domain=row.domain, is_admin=bool(row.is_admin)
    )


async def is_member(conn: AsyncConnection, community_id: int, actor_id: int) -> bool:
    row = await conn.execute(
        sa.select(1)
        .select_from(
            t.follows.join(t.communities, t.communities.c.actor_id == t.follows.c.target_id)
        )
        .where(
            t.communities.c.id == community_id,
            t.follows.c.follower_id == actor_id,
            t.follows.c.state == "accepted",
        )
    )
    return row.first() is not None


def _validate_poll(poll: PollSpec) -> None:
    if not 2 <= len(poll.options) <= MAX_POLL_OPTIONS:
        raise ValidationError(
            Message("a poll needs 2 to %(num)s options", num=MAX_POLL_OPTIONS), field="poll"
        )
    if any(not o.strip() or len(o) > MAX_POLL_OPTION_CHARS for o in poll.options):
        raise ValidationError(
            Message("poll options must be 1–%(num)s characters", num=MAX_POLL_OPTION_CHARS),
            field="poll",
        )
    if len(set(o.strip() for o in poll.options)) != len(poll.options):
        raise ValidationError("poll options must differ", field="poll")
    if not POLL_MIN_SECONDS <= poll.expires_in <= POLL_MAX_SECONDS:
        raise ValidationError(
            Message(
                "poll duration must be between %(poll_min_seconds)s and %(poll_max_seconds)s seconds",
                poll_min_seconds=POLL_MIN_SECONDS,
                poll_max_seconds=POLL_MAX_SECONDS,
            ),
            field="poll",
        )


async def resolve_mentions(
    conn: AsyncConnection, handles: list[tuple[str, str | None]], local_domain: str
) -> list[sa.Row]:
    """Known actors for ``@user`` / ``@user@host`` handles (local first; unknown ones are skipped)."""
    out = []
    for username, domain in handles:
        if domain == local_domain.lower():
            domain = None
        cond = t.actors.c.domain.is_(None) if domain is None else t.actors.c.domain == domain
        row = (
            await conn.execute(sa.select(t.actors).where(t.actors.c.username == username, cond))
        ).first()
        if row is not None and not row.suspended:
            out.append(row)
    return out


async def _render_with_mentions(
    ctx: Context, conn: AsyncConnection, source: str, fmt: str
) -> tuple[text.Rendered, list[sa.Row]]:
    known = await resolve_mentions(conn, text.find_mentions(source), ctx.settings.domain)
    return _render(ctx, source, fmt, known), known


def _render(ctx: Context, source: str, fmt: str, known: list[sa.Row]) -> text.Rendered:
    """The post's HTML, mentions linked to the ``known`` actors and tags to their pages."""
    by_handle = {(r.username, r.domain): r for r in known}

    def mention_url(user: str, domain: str | None) -> str | None:
        d = None if domain == ctx.settings.domain.lower() else domain
        row = by_handle.get((user, d))
        return (row.url or row.uri) if row is not None else None

    return text.render(
        source, fmt=fmt, mention_url=mention_url, tag_url=lambda tag: urls.tag(ctx.base, tag)
    )


def check_draft(draft: Draft) -> None:
    """What can be checked of a draft without the database (also before scheduling it)."""
    source = draft.source or ""
    if draft.kind not in KINDS:
        raise ValidationError(
            Message("kind must be one of %(choices)s", choices=", ".join(KINDS)), field="kind"
        )
    if len(source) > MAX_CHARS:
        raise ValidationError(
            Message("text: at most %(num)s characters", num=MAX_CHARS), field="status"
        )
    if len(draft.spoiler_text) > 500:
        raise ValidationError("content warning: at most 500 characters", field="spoiler_text")
    if draft.title is not None and len(draft.title) > 255:
        raise ValidationError("title: at most 255 characters", field="title")
    if not source.strip() and not draft.media_ids and draft.poll is None:
        raise ValidationError("a post needs text, media or a poll", field="status")
    if draft.fmt not in ("markdown", "plain"):
        raise ValidationError("format: markdown or plain", field="format")
    if len(draft.media_ids) > MAX_MEDIA:
        raise ValidationError(
            Message("at most %(num)s attachments", num=MAX_MEDIA), field="media_ids"
        )
    if draft.poll is not None:
        if draft.media_ids:
            raise ValidationError("a post cannot have both media and a poll", field="poll")
        _validate_poll(draft.poll)
    if draft.kind == "result" and draft.community_id is None:
        raise ValidationError("a result belongs to a community", field="community_id")


async def create_post(
    ctx: Context, author_id: int, draft: Draft, *, idempotency_key: str | None = None
) -> int:
    """Publish a post (or a result) for a local author; returns its id.

    The mentions are looked up and the text rendered before the writer is taken; the write unit
    then checks the draft against the database, writes the rows and runs the in-transaction
    listeners (the outgoing Create and its deliveries), all on the writer's connection.

    ``idempotency_key`` (a client's ``Idempotency-Key``): when an earlier post of the author's
    with that key still exists, its id is returned and nothing is written; otherwise the key is
    recorded for the new post, in the same unit.
    """
    check_draft(draft)
    source = draft.source or ""
    handles = text.find_mentions(source)
    known = await ctx.db.read(resolve_mentions, handles, ctx.settings.domain) if handles else []
    rendered = _render(ctx, source, draft.fmt, known)
    post_id, event = await ctx.db.write(
        _insert_post, ctx, author_id, draft, rendered, known, idempotency_key
    )
    if event is not None:
        await ctx.events.committed(event)
    return post_id


# The write unit's own statements, built once (building one costs more than running it).
_AUTHOR = sa.select(t.actors).where(t.actors.c.id == sa.bindparam("author"))
_USER = sa.select(t.users.c.id, t.users.c.default_audience).where(
    t.users.c.actor_id == sa.bindparam("author")
)
_INSERT_POST = t.posts.insert()
_SET_URI = (
    t.posts.update()
    .where(t.posts.c.id == sa.bindparam("post"))
    .values(uri=sa.bindparam("new_uri"), url=sa.bindparam("new_url"))
    .returning(*t.posts.c)
)


async def _insert_post(
    conn: AsyncConnection,
    ctx: Context,
    author_id: int,
    draft: Draft,
    rendered: text.Rendered,
    mentioned: list[sa.Row],
    idempotency_key: str | None = None,
) -> tuple[int, Event | None]:
    """In the write unit of ``create_post``: check the draft, write the post and its rows, emit.

    With an ``idempotency_key`` an earlier post made with it is returned instead (no event)."""
    source = draft.source or ""
    author = (await conn.execute(_AUTHOR, {"author": author_id})).first()
    if author is None or author.domain is not None:
        raise Forbidden("only local members can post here")
    user = (await conn.execute(_USER, {"author": author_id})).first()
    key = None
    if idempotency_key and user is not None:
        key = await idempotency.lookup_in(conn, user.id, idempotency_key)
        if key.post_id is not None:
            return key.post_id, None
    await mail_members.require_confirmed(conn, author_id)
    default = user.default_audience if user is not None else None
    audience = draft.audience or Audience(default or "public")
    community_id = draft.community_id
    viewer = Viewer(actor_id=author_id, local=True)

    parent = None
    thread_root_id = None
    if draft.in_reply_to_id is not None:
        if not await can_see_post(conn, viewer, draft.in_reply_to_id):
            raise NotFound("the post you reply to does not exist or is not visible to you")
        parent = (
            await conn.execute(sa.select(t.posts).where(t.posts.c.id == draft.in_reply_to_id))
        ).first()
        assert parent is not None
        if parent.reblog_of_id:
            raise ValidationError(
                "reply to the boosted post, not to the boost", field="in_reply_to_id"
            )
        audience = reply_audience(Audience(parent.audience), audience)
        if audience is Audience.COMMUNITY or (community_id is None and parent.community_id):
            community_id = community_id or parent.community_id
            remote_community = not (
                await conn.execute(
                    sa.select(t.communities.c.local).where(t.communities.c.id == community_id)
                )
            ).scalar()
            if (
                audience is not Audience.COMMUNITY
                and draft.community_id is None
                and remote_community
                and not await is_member(conn, community_id, author_id)
            ):
                # An outsider's open reply in a community on another instance (say, to its call for
                # ideas): it does not join the community here; the community's home decides.
                community_id = None
        thread_root_id = parent.thread_root_id or parent.id

    mentioned_communities = [m for m in mentioned if m.kind == "group" and m.domain is None]
    if community_id is None and mentioned_communities:
        # Mentioning a community addresses it (the way Mastodon apps reach a community).
        community_id = (
            await conn.execute(
                sa.select(t.communities.c.id).where(
                    t.communities.c.actor_id == mentioned_communities[0].id
                )
            )
        ).scalar()
    if community_id is not None:
        community = (
            await conn.execute(sa.select(t.communities).where(t.communities.c.id == community_id))
        ).first()
        if community is None:
            raise NotFound("no such community")
        if not await is_member(conn, community_id, author_id):
            raise Forbidden("only members of the community can post to it")
    if audience is Audience.COMMUNITY and community_id is None:
        raise ValidationError("choose the community this post is for", field="community_id")

    if draft.roadmap_item_id is not None:
        item = (
            await conn.execute(
                sa.select(t.roadmap_items).where(t.roadmap_items.c.id == draft.roadmap_item_id)
            )
        ).first()
        if item is None or item.community_id != community_id:
            raise ValidationError(
                "that roadmap item is not part of this community", field="roadmap_item_id"
            )
    if draft.role_ids:
        found = {
            r[0]
            for r in await conn.execute(
                sa.select(t.roles.c.id).where(
                    t.roles.c.id.in_(draft.role_ids), t.roles.c.community_id == community_id
                )
            )
        }
        if found != set(draft.role_ids):
            raise ValidationError("those roles are not part of this community", field="role_ids")
    if draft.contributor_ids:
        if draft.kind != "result":
            raise ValidationError("only results credit contributors", field="contributor_ids")
        known = {
            r[0]
            for r in await conn.execute(
                sa.select(t.actors.c.id).where(
                    t.actors.c.id.in_(draft.contributor_ids), t.actors.c.suspended.is_(False)
                )
            )
        }
        if known != set(draft.contributor_ids):
            raise ValidationError("unknown contributor", field="contributor_ids")
    media_rows = []
    if draft.media_ids:
        media_rows = list(
            await conn.execute(
                sa.select(t.media).where(
                    t.media.c.id.in_(draft.media_ids),
                    t.media.c.owner_id == author_id,
                    t.media.c.post_id.is_(None),
                )
            )
        )
        if len(media_rows) != len(set(draft.media_ids)):
            raise ValidationError("unknown or already used media", field="media_ids")

    now = clock.now()
    res = await conn.execute(
        _INSERT_POST,
        {
            "uri": f"urn:koers:pending:{author_id}:{now.timestamp()}:{id(draft)}",
            "author_id": author_id,
            "local": True,
            "kind": draft.kind,
            "audience": audience.value,
            "community_id": community_id,
            "title": draft.title,
            "content_html": rendered.html,
            "source": source,
            "source_format": draft.fmt,
            "spoiler_text": draft.spoiler_text.strip(),
            "sensitive": draft.sensitive or bool(draft.spoiler_text.strip()),
            "language": draft.language,
            "in_reply_to_id": parent.id if parent is not None else None,
            "in_reply_to_uri": parent.uri if parent is not None else None,
            "thread_root_id": thread_root_id,
            "roadmap_item_id": draft.roadmap_item_id,
            "extra": dict(draft.extra or {}),
            "created_at": now,
            "application_id": draft.application_id,
        },
    )
    post_id = inserted_id(res)
    # the row as stored comes back with its URI, for the listeners below (``written_post``)
    post_row = (
        await conn.execute(
            _SET_URI,
            {
                "post": post_id,
                "new_uri": urls.post(ctx.base, author.username, post_id),
                "new_url": urls.post_page(ctx.base, author.username, post_id),
            },
        )
    ).one()
    await _write_mentions_and_tags(conn, post_id, mentioned, rendered.hashtags)
    credited = [
        a
        for a in dict.fromkeys(draft.contributor_ids)
        if a not in {m.id for m in mentioned} | {author_id}
    ]
    if credited:
        # Contributors are mentioned (tagged) so the result reaches them wherever they are.
        await conn.execute(
            t.post_mentions.insert(), [{"post_id": post_id, "actor_id": a} for a in credited]
        )
    for position, media_id in enumerate(draft.media_ids):
        await conn.execute(
            t.media.update()
            .where(t.media.c.id == media_id)
            .values(post_id=post_id, position=position)
        )
    if draft.role_ids:
        await conn.execute(
            t.result_roles.insert(),
            [{"post_id": post_id, "role_id": r} for r in draft.role_ids],
        )
    contributors = set(draft.contributor_ids) | ({author_id} if draft.kind == "result" else set())
    if contributors:
        await conn.execute(
            t.result_contributors.insert(),
            [{"post_id": post_id, "actor_id": a} for a in sorted(contributors)],
        )
    if draft.poll is not None:
        await conn.execute(
            t.polls.insert().values(
                post_id=post_id,
                options=[o.strip() for o in draft.poll.options],
                multiple=draft.poll.multiple,
                hide_totals=draft.poll.hide_totals,
                expires_at=now + timedelta(seconds=draft.poll.expires_in),
            )
        )
    if parent is not None:
        await conn.execute(
            t.posts.update()
            .where(t.posts.c.id == parent.id)
            .values(replies_count=t.posts.c.replies_count + 1)
        )
    if key is not None and idempotency_key and user is not None:
        await idempotency.record_in(conn, user.id, idempotency_key, post_id, key)
    written = WrittenPost(
        post=post_row,
        author=author,
        mentioned=None if credited else list({m.id: m for m in mentioned}.values()),
        tags=tuple(rendered.hashtags),
        has_media=bool(draft.media_ids),
        has_roles=bool(draft.role_ids),
        has_contributors=bool(contributors),
        has_poll=draft.poll is not None,
    )
    with holding(conn, written):
        await notifications.for_new_post(conn, post_id, post=post_row)
        event = await ctx.events.emit(
            conn, kinds.POST_CREATED, post_id=post_id, author_id=author_id
        )
    return post_id, event


async def _write_mentions_and_tags(
    conn: AsyncConnection, post_id: int, mentioned: list[sa.Row], hashtags: tuple[str, ...]
) -> None:
    if mentioned:
        await conn.execute(
            t.post_mentions.insert(),
            [{"post_id": post_id, "actor_id": a} for a in dict.fromkeys(m.id for m in mentioned)],
        )
    if hashtags:
        await conn.execute(
            t.post_tags.insert(), [{"post_id": post_id, "tag": tag} for tag in hashtags]
        )


async def _own_post(
    conn: AsyncConnection, actor_id: int, post_id: int, *, allow_admin: bool = False
) -> sa.Row:
    row = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()
    if row is None or row.deleted_at is not None:
        raise NotFound("no such post")
    if row.author_id != actor_id:
        if allow_admin:
            is_admin = (
                await conn.execute(
                    sa.select(t.users.c.is_admin).where(t.users.c.actor_id == actor_id)
                )
            ).scalar()
            if is_admin:
                return row
        if await can_see_post(conn, await viewer_for_actor(conn, actor_id), post_id):
            raise Forbidden("this is not your post")
        raise NotFound("no such post")
    return row


async def edit_post(
    ctx: Context,
    actor_id: int,
    post_id: int,
    *,
    source: str,
    spoiler_text: str | None = None,
    sensitive: bool | None = None,
    title: str | None = None,
    language: str | None = None,
    media_ids: tuple[int, ...] | None = None,
) -> None:
    """Change a post's text; the previous version is kept in its history."""
    if len(source) > MAX_CHARS:
        raise ValidationError(
            Message("text: at most %(num)s characters", num=MAX_CHARS), field="status"
        )
    async with ctx.db.write() as conn:
        row = await _own_post(conn, actor_id, post_id)
        if row.reblog_of_id:
            raise ValidationError("a boost cannot be edited", field="id")
        if not source.strip() and media_ids is not None and not media_ids:
            raise ValidationError("a post needs text or media", field="status")
        now = clock.now()
        has_history = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(t.post_edits)
                .where(t.post_edits.c.post_id == post_id)
            )
        ).scalar_one()
        if not has_history:
            await conn.execute(
                t.post_edits.insert().values(
                    post_id=post_id,
                    content_html=row.content_html,
                    source=row.source,
                    spoiler_text=row.spoiler_text,
                    sensitive=row.sensitive,
                    created_at=row.created_at,
                )
            )
        rendered, mentioned = await _render_with_mentions(ctx, conn, source, row.source_format)
        spoiler = row.spoiler_text if spoiler_text is None else spoiler_text.strip()
        values: dict[str, object] = {
            "content_html": rendered.html,
            "source": source,
            "spoiler_text": spoiler,
            "sensitive": (row.sensitive if sensitive is None else sensitive) or bool(spoiler),
            "edited_at": now,
        }
        if title is not None:
            values["title"] = title[:255]
        if language is not None:
            values["language"] = language
        await conn.execute(t.posts.update().where(t.posts.c.id == post_id).values(**values))
        await conn.execute(
            t.post_edits.insert().values(
                post_id=post_id,
                content_html=rendered.html,
                source=source,
                spoiler_text=spoiler,
                sensitive=bool(values["sensitive"]),
                created_at=now,
            )
        )
        # Existing mentions keep their access; new ones are added.
        existing = {
            r[0]
            for r in await conn.execute(
                sa.select(t.post_mentions.c.actor_id).where(t.post_mentions.c.post_id == post_id)
            )
        }
        new_mentions = [m for m in mentioned if m.id not in existing]
        await conn.execute(t.post_tags.delete().where(t.post_tags.c.post_id == post_id))
        await _write_mentions_and_tags(conn, post_id, new_mentions, rendered.hashtags)
        if media_ids is not None:
            if len(media_ids) > MAX_MEDIA:
                raise ValidationError(
                    Message("at most %(num)s attachments", num=MAX_MEDIA), field="media_ids"
                )
            ok = list(
                await conn.execute(
                    sa.select(t.media.c.id).where(
                        t.media.c.id.in_(media_ids),
                        t.media.c.owner_id == actor_id,
                        sa.or_(t.media.c.post_id.is_(None), t.media.c.post_id == post_id),
                    )
                )
            )
            if len(ok) != len(set(media_ids)):
                raise ValidationError("unknown or already used media", field="media_ids")
            await conn.execute(
                t.media.update()
                .where(t.media.c.post_id == post_id, t.media.c.id.not_in(media_ids))
                .values(post_id=None)
            )
            for position, media_id in enumerate(media_ids):
                await conn.execute(
                    t.media.update()
                    .where(t.media.c.id == media_id)
                    .values(post_id=post_id, position=position)
                )
        await notifications.for_edit(conn, post_id)
        event = await ctx.events.emit(conn, kinds.POST_UPDATED, post_id=post_id, author_id=actor_id)
    await ctx.events.committed(event)


async def delete_post(ctx: Context, actor_id: int, post_id: int) -> dict:
    """Delete a post: its content, mentions, tags, media, poll and history go; a tombstone stays.

    Returns the former source (for "delete and redraft").
    """
    async with ctx.db.write() as conn:
        row = await _own_post(conn, actor_id, post_id, allow_admin=True)
        media_paths = [
            p
            for r in await conn.execute(
                sa.select(t.media.c.path, t.media.c.thumb_path).where(t.media.c.post_id == post_id)
            )
            for p in r
            if p
        ]
        former = {
            "source": row.source,
            "spoiler_text": row.spoiler_text,
            "audience": row.audience,
            "in_reply_to_id": row.in_reply_to_id,
            "sensitive": row.sensitive,
            "language": row.language,
        }
        event = await _delete_post_rows(ctx, conn, row)
        boosts = list(
            await conn.execute(
                sa.select(t.posts).where(
                    t.posts.c.reblog_of_id == post_id, t.posts.c.deleted_at.is_(None)
                )
            )
        )
        events = [event]
        for boost in boosts:
            events.append(await _delete_post_rows(ctx, conn, boost))
    for path in media_paths:
        (ctx.settings.media_dir / path).unlink(missing_ok=True)
    await ctx.events.committed(*events)
    return former


async def tombstone(conn: AsyncConnection, row: sa.Row, *, keep_result_links: bool = False) -> None:
    """A deleted post, local or remote: its content and everything hanging off it goes, a
    tombstone row stays (its id keeps answering 410), and what it counted is taken back.

    ``keep_result_links``: a remote delete leaves a result's roles and contributors linked.
    """
    pid = row.id
    tables = [t.post_mentions, t.post_tags, t.post_edits]
    if not keep_result_links:
        tables += [t.result_roles, t.result_contributors]
    for table in (*tables, t.favourites, t.bookmarks, t.pins, t.notifications, t.media):
        await conn.execute(table.delete().where(table.c.post_id == pid))
    poll_ids = [
        r[0] for r in await conn.execute(sa.select(t.polls.c.id).where(t.polls.c.post_id == pid))
    ]
    if poll_ids:
        await conn.execute(t.poll_votes.delete().where(t.poll_votes.c.poll_id.in_(poll_ids)))
        await conn.execute(t.polls.delete().where(t.polls.c.id.in_(poll_ids)))
    await conn.execute(
        t.posts.update()
        .where(t.posts.c.id == pid)
        .values(
            content_html="",
            source="",
            spoiler_text="",
            title=None,
            extra={},
            deleted_at=clock.now(),
        )
    )
    if row.in_reply_to_id:
        await conn.execute(
            t.posts.update()
            .where(t.posts.c.id == row.in_reply_to_id, t.posts.c.replies_count > 0)
            .values(replies_count=t.posts.c.replies_count - 1)
        )
    if row.reblog_of_id:
        await conn.execute(
            t.posts.update()
            .where(t.posts.c.id == row.reblog_of_id, t.posts.c.reblogs_count > 0)
            .values(reblogs_count=t.posts.c.reblogs_count - 1)
        )


async def _delete_post_rows(ctx: Context, conn: AsyncConnection, row: sa.Row) -> Event:
    pid = row.id
    # Emit first so listeners can still read what they need (addressing, recipients).
    event = await ctx.events.emit(
        conn, kinds.POST_DELETED, post_id=pid, author_id=row.author_id, uri=row.uri
    )
    await tombstone(conn, row)
    return event


async def _visible_original(conn: AsyncConnection, actor_id: int, post_id: int) -> sa.Row:
    viewer = await viewer_for_actor(conn, actor_id)
    if not await can_see_post(conn, viewer, post_id):
        raise NotFound("no such post")
    row = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).first()
    assert row is not None
    if row.reblog_of_id:
        return await _visible_original(conn, actor_id, row.reblog_of_id)
    return row


async def _count_boost(conn: AsyncConnection, booster_id: int, original: sa.Row) -> None:
    """The boost rule after its row is written, local and remote alike: counted, author told."""
    await conn.execute(
        t.posts.update()
        .where(t.posts.c.id == original.id)
        .values(reblogs_count=t.posts.c.reblogs_count + 1)
    )
    await notifications.notify(
        conn, original.author_id, "reblog", from_actor_id=booster_id, post_id=original.id
    )


async def receive_boost(conn: AsyncConnection, booster_id: int, original_id: int, uri: str) -> None:
    """A remote ``Announce`` (id ``uri``) of a post we hold, kept as a boost row like a local one.

    NotFound when the post is deleted; Forbidden when its audience may not be boosted.
    """
    if (await conn.execute(sa.select(t.posts.c.id).where(t.posts.c.uri == uri))).first():
        return
    original = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == original_id))).one()
    if original.deleted_at is not None:
        raise NotFound("boost of a deleted post")
    if not can_boost(Audience(original.audience)):
        raise Forbidden("only public and unlisted posts can be boosted")
    res = await conn.execute(
        t.posts.insert().values(
            uri=uri,
            url=uri,
            author_id=booster_id,
            local=False,
            kind="note",
            audience=original.audience,
            reblog_of_id=original_id,
            extra={},
            created_at=clock.now(),
        )
    )
    await conn.run_sync(home_feed.post_added, inserted_id(res))
    await _count_boost(conn, booster_id, original)


async def reblog(ctx: Context, actor_id: int, post_id: int) -> int:
    """Boost a post; returns the boost's id (the existing one when boosted already)."""
    boost_id, event = await ctx.db.write(_reblog, ctx, actor_id, post_id)
    if event is not None:
        await ctx.events.committed(event)
    return boost_id


async def _reblog(
    conn: AsyncConnection, ctx: Context, actor_id: int, post_id: int
) -> tuple[int, Event | None]:
    """In the write unit of ``reblog``: the boost and its event (None: boosted already)."""
    original = await _visible_original(conn, actor_id, post_id)
    if not can_boost(Audience(original.audience)):
        raise Forbidden("only public and unlisted posts can be boosted")
    existing = (
        await conn.execute(
            sa.select(t.posts.c.id).where(
                t.posts.c.reblog_of_id == original.id,
                t.posts.c.author_id == actor_id,
                t.posts.c.deleted_at.is_(None),
            )
        )
    ).scalar()
    if existing:
        return int(existing), None
    author = (
        await conn.execute(sa.select(t.actors.c.username).where(t.actors.c.id == actor_id))
    ).scalar_one()
    now = clock.now()
    res = await conn.execute(
        t.posts.insert().values(
            uri=f"urn:koers:pending-boost:{actor_id}:{original.id}:{now.timestamp()}",
            author_id=actor_id,
            local=True,
            kind="note",
            audience=original.audience,
            reblog_of_id=original.id,
            extra={},
            created_at=now,
        )
    )
    boost_id = inserted_id(res)
    uri = urls.post(ctx.base, author, boost_id) + "/activity"
    await conn.execute(t.posts.update().where(t.posts.c.id == boost_id).values(uri=uri, url=uri))
    await _count_boost(conn, actor_id, original)
    event = await ctx.events.emit(
        conn,
        kinds.REBLOG_CREATED,
        post_id=boost_id,
        original_id=original.id,
        author_id=actor_id,
    )
    return boost_id, event


async def unreblog(ctx: Context, actor_id: int, post_id: int) -> int:
    """Undo a boost of ``post_id``; returns the original's id."""
    original_id, event = await ctx.db.write(_unreblog, ctx, actor_id, post_id)
    if event is not None:
        await ctx.events.committed(event)
    return original_id


async def _unreblog(
    conn: AsyncConnection, ctx: Context, actor_id: int, post_id: int
) -> tuple[int, Event | None]:
    """In the write unit of ``unreblog``: the boost deleted (its event None: there was none)."""
    original = await _visible_original(conn, actor_id, post_id)
    boost = (
        await conn.execute(
            sa.select(t.posts).where(
                t.posts.c.reblog_of_id == original.id,
                t.posts.c.author_id == actor_id,
                t.posts.c.deleted_at.is_(None),
            )
        )
    ).first()
    if boost is None:
        return original.id, None
    return original.id, await _delete_post_rows(ctx, conn, boost)


async def _add_favourite(
    conn: AsyncConnection, actor_id: int, post: sa.Row, uri: str | None
) -> bool:
    """The favourite rule, local and remote alike: one per person and post, counted on the post,
    its author told. False when it was there already."""
    exists = (
        await conn.execute(
            sa.select(t.favourites.c.id).where(
                t.favourites.c.actor_id == actor_id, t.favourites.c.post_id == post.id
            )
        )
    ).first()
    if exists:
        return False
    await conn.execute(
        t.favourites.insert().values(
            actor_id=actor_id, post_id=post.id, uri=uri, created_at=clock.now()
        )
    )
    await conn.execute(
        t.posts.update()
        .where(t.posts.c.id == post.id)
        .values(favourites_count=t.posts.c.favourites_count + 1)
    )
    await notifications.notify(
        conn, post.author_id, "favourite", from_actor_id=actor_id, post_id=post.id
    )
    return True


async def _uncount_favourite(conn: AsyncConnection, post_id: int) -> None:
    await conn.execute(
        t.posts.update()
        .where(t.posts.c.id == post_id, t.posts.c.favourites_count > 0)
        .values(favourites_count=t.posts.c.favourites_count - 1)
    )


async def favourite(ctx: Context, actor_id: int, post_id: int) -> int:
    """Favourite a post (its original, for a boost); returns the original's id."""
    original_id, event = await ctx.db.write(_favourite, ctx, actor_id, post_id)
    if event is not None:
        await ctx.events.committed(event)
    return original_id


async def _favourite(
    conn: AsyncConnection, ctx: Context, actor_id: int, post_id: int
) -> tuple[int, Event | None]:
    """In the write unit of ``favourite``: the favourite and its event (None: there already)."""
    original = await _visible_original(conn, actor_id, post_id)
    if not await _add_favourite(conn, actor_id, original, None):
        return original.id, None
    event = await ctx.events.emit(
        conn, kinds.FAVOURITE_CREATED, post_id=original.id, actor_id=actor_id
    )
    return original.id, event


async def receive_favourite(
    conn: AsyncConnection, actor_id: int, post_uri: str | None, like_uri: str | None
) -> None:
    """A remote ``Like`` of a post we hold: the same favourite as a local one.

    NotFound when we do not have the post; Forbidden when the actor may not see it.
    """
    post = (
        (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == post_uri))).first()
        if post_uri
        else None
    )
    if post is None or post.deleted_at is not None:
        raise NotFound("Like of a post we do not have")
    if not await can_see_post(conn, await viewer_for_actor(conn, actor_id), post.id):
        raise Forbidden("the actor may not see that post")
    await _add_favourite(conn, actor_id, post, like_uri)


async def receive_unfavourite(
    conn: AsyncConnection, actor_id: int, post_uri: str | None, like_uri: str | None
) -> bool:
    """A remote ``Undo`` of a ``Like`` (of ``post_uri``, or by the Like's id): the favourite goes.
    False when there was none."""
    post = (
        (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == post_uri))).first()
        if post_uri
        else None
    )
    cond = t.favourites.c.uri == like_uri if post is None else t.favourites.c.post_id == post.id
    fav = (
        await conn.execute(sa.select(t.favourites).where(t.favourites.c.actor_id == actor_id, cond))
    ).first()
    if fav is None:
        return False
    await conn.execute(t.favourites.delete().where(t.favourites.c.id == fav.id))
    await _uncount_favourite(conn, fav.post_id)
    return True


async def unfavourite(ctx: Context, actor_id: int, post_id: int) -> int:
    """Take a favourite back; returns the original's id."""
    original_id, event = await ctx.db.write(_unfavourite, ctx, actor_id, post_id)
    if event is not None:
        await ctx.events.committed(event)
    return original_id


async def _unfavourite(
    conn: AsyncConnection, ctx: Context, actor_id: int, post_id: int
) -> tuple[int, Event | None]:
    """In the write unit of ``unfavourite``: the favourite gone (its event None: there was none)."""
    original = await _visible_original(conn, actor_id, post_id)
    event = await ctx.events.emit(
        conn, kinds.FAVOURITE_UNDONE, post_id=original.id, actor_id=actor_id
    )
    res = await conn.execute(
        t.favourites.delete().where(
            t.favourites.c.actor_id == actor_id, t.favourites.c.post_id == original.id
        )
    )
    if not res.rowcount:
        return original.id, None
    await _uncount_favourite(conn, original.id)
    return original.id, event


async def set_flag(ctx: Context, actor_id: int, post_id: int, table: sa.Table, on: bool) -> int:
    """Bookmark / pin on or off (private to the actor; pins only for own public posts)."""
    async with ctx.db.write() as conn:
        original = await _visible_original(conn, actor_id, post_id)
        if table is t.pins and on:
            if original.author_id != actor_id:
                raise Forbidden("you can only pin your own posts")
            if original.audience not in (Audience.PUBLIC.value, Audience.UNLISTED.value):
                raise ValidationError("only public and unlisted posts can be pinned", field="id")
        cond = sa.and_(table.c.actor_id == actor_id, table.c.post_id == original.id)
        if on:
            if not (await conn.execute(sa.select(table.c.id).where(cond))).first():
                await conn.execute(
                    table.insert().values(
                        actor_id=actor_id, post_id=original.id, created_at=clock.now()
                    )
                )
        else:
            await conn.execute(table.delete().where(cond))
    return original.id


async def receive_vote(
    conn: AsyncConnection, voter_id: int, poll_uri: str, name: object, uri: str | None
) -> bool:
    """A remote vote the Mastodon way (a reply naming one option of a local ``Question``).
    A multiple-choice poll takes one reply per option. False when ``poll_uri`` is not our poll.

    ValidationError for an unknown option, Gone when the poll has ended, Conflict for a second vote.
    """
    row = (
        await conn.execute(
            sa.select(t.polls)
            .join(t.posts, t.posts.c.id == t.polls.c.post_id)
            .where(t.posts.c.uri == poll_uri, t.posts.c.local.is_(True))
        )
    ).first()
    if row is None:
        return False
    if name not in row.options:
        raise ValidationError("no such poll option", field="choices")
    choice = row.options.index(name)
    if row.expires_at is not None and clock.aware(row.expires_at) <= clock.now():
        raise Gone("the poll has ended")
    voted = await conn.execute(
        sa.select(t.poll_votes.c.choice).where(
            t.poll_votes.c.poll_id == row.id, t.poll_votes.c.actor_id == voter_id
        )
    )
    previous = [r[0] for r in voted]
    if choice in previous or (previous and not row.multiple):
        raise Conflict("one vote per person", field="choices")
    await conn.execute(
        t.poll_votes.insert().values(
            poll_id=row.id, actor_id=voter_id, choice=choice, uri=uri, created_at=clock.now()
        )
    )
    return True


async def vote(ctx: Context, actor_id: int, poll_id: int, choices: list[int]) -> int:
    """Vote in a poll; returns the post id. One vote per person (several choices if multiple)."""
    async with ctx.db.write() as conn:
        poll = (await conn.execute(sa.select(t.polls).where(t.polls.c.id == poll_id))).first()
        if poll is None:
            raise NotFound("no such poll")
        viewer = await viewer_for_actor(conn, actor_id)
        if not await can_see_post(conn, viewer, poll.post_id):
            raise NotFound("no such poll")
        exp = clock.aware(poll.expires_at)
        if exp is not None and exp <= clock.now():
            raise ValidationError("this poll has ended", field="choices")
        if not choices:
            raise ValidationError("choose at least one option", field="choices")
        if len(set(choices)) != len(choices) or any(
            c < 0 or c >= len(poll.options) for c in choices
        ):
            raise ValidationError("unknown poll option", field="choices")
        if not poll.multiple and len(choices) > 1:
            raise ValidationError("this poll allows one choice", field="choices")
        already = (
            await conn.execute(
                sa.select(t.poll_votes.c.id).where(
                    t.poll_votes.c.poll_id == poll_id, t.poll_votes.c.actor_id == actor_id
                )
            )
        ).first()
        if already:
            raise Conflict("you have voted in this poll already", field="choices")
        now = clock.now()
        await conn.execute(
            t.poll_votes.insert(),
            [
                {"poll_id": poll_id, "actor_id": actor_id, "choice": c, "created_at": now}
                for c in choices
            ],
        )
        event = await ctx.events.emit(
            conn,
            kinds.POLL_VOTED,
            poll_id=poll_id,
            post_id=poll.post_id,
            actor_id=actor_id,
            choices=choices,
        )
    await ctx.events.committed(event)
    return int(poll.post_id)
