"""A member's content filters, as Mastodon apps manage them (filters v2, and v1 as a view of it).

A filter has a title, the contexts it applies in (``home``, ``notifications``, ``public``,
``thread``, ``account``), an action (``warn``: the app shows the post behind a warning naming the
filter; ``blur``: only its media are hidden; ``hide``: the server leaves the post out) and an optional
expiry. It matches a post by keyword (case-insensitive, optionally on word boundaries) in its text,
content warning, media descriptions and poll options, or by the post itself (a filtered status).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server.context import Context
from server.errors import NotFound, ValidationError
from server.i18n.messages import Message
from server.services.text import html_to_text
from server.storage import schema as t
from server.storage.rows import inserted_id

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide", "blur")
MAX_TITLE = 200
MAX_KEYWORD = 200
MAX_KEYWORDS = 100
MAX_FILTERS = 300


@dataclass(slots=True)
class Keyword:
    """One keyword of a filter."""

    id: int
    keyword: str
    whole_word: bool

    def pattern(self) -> re.Pattern[str]:
        """The compiled, case-insensitive matcher (word boundaries where asked and possible)."""
        text = re.escape(self.keyword)
        if self.whole_word:
            start = r"\b" if re.match(r"\w", self.keyword) else ""
            end = r"\b" if re.search(r"\w$", self.keyword) else ""
            text = f"{start}{text}{end}"
        return re.compile(text, re.IGNORECASE)


@dataclass(slots=True)
class Filter:
    """A filter with its keywords and filtered statuses (``statuses``: (row id, post id))."""

    id: int
    actor_id: int
    title: str
    context: list[str]
    action: str
    expires_at: datetime | None
    keywords: list[Keyword] = field(default_factory=list)
    statuses: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class KeywordChange:
    """A keyword to add (``id`` None), change, or remove (``destroy``)."""

    keyword: str | None = None
    whole_word: bool | None = None
    id: int | None = None
    destroy: bool = False


def check_context(context: list[str]) -> list[str]:
    """The contexts, deduplicated; ValidationError when empty or unknown."""
    unknown = [c for c in context if c not in CONTEXTS]
    if unknown or not context:
        raise ValidationError(
            Message("context: one or more of %(choices)s", choices=", ".join(CONTEXTS)),
            field="context",
        )
    return list(dict.fromkeys(context))


def _check_title(title: str) -> str:
    title = title.strip()
    if not title or len(title) > MAX_TITLE:
        raise ValidationError(
            Message("title: 1 to %(num)s characters", num=MAX_TITLE), field="title"
        )
    return title


def _check_keyword(keyword: str | None) -> str:
    keyword = (keyword or "").strip()
    if not keyword or len(keyword) > MAX_KEYWORD:
        raise ValidationError(
            Message("keyword: 1 to %(num)s characters", num=MAX_KEYWORD), field="keyword"
        )
    return keyword


def _check_action(action: str | None) -> str:
    if action is None or action == "":
        return "warn"
    if action not in ACTIONS:
        raise ValidationError(
            Message("filter_action: one of %(choices)s", choices=", ".join(ACTIONS)),
            field="filter_action",
        )
    return action


def _expiry(expires_in: int | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= 0 or expires_in > 10 * 365 * 86400:
        raise ValidationError(
            "expires_in: a positive number of seconds (at most ten years)", field="expires_in"
        )
    return clock.now() + timedelta(seconds=expires_in)


def _load_in(conn: sa.Connection, rows: list[sa.Row]) -> list[Filter]:
    found = {
        r.id: Filter(
            id=r.id,
            actor_id=r.actor_id,
            title=r.title,
            context=r.context.split(","),
            action=r.action,
            expires_at=clock.aware(r.expires_at) if r.expires_at else None,
        )
        for r in rows
    }
    if not found:
        return []
    for k in conn.execute(
        sa.select(t.filter_keywords)
        .where(t.filter_keywords.c.filter_id.in_(found))
        .order_by(t.filter_keywords.c.id)
    ):
        found[k.filter_id].keywords.append(
            Keyword(id=k.id, keyword=k.keyword, whole_word=k.whole_word)
        )
    for s in conn.execute(
        sa.select(t.filter_statuses)
        .where(t.filter_statuses.c.filter_id.in_(found))
        .order_by(t.filter_statuses.c.id)
    ):
        found[s.filter_id].statuses.append((s.id, s.post_id))
    return list(found.values())


async def _load(conn: AsyncConnection, rows: list[sa.Row]) -> list[Filter]:
    return await conn.run_sync(_load_in, rows) if rows else []


async def filters_of(conn: AsyncConnection, actor_id: int) -> list[Filter]:
    """All of a member's filters, oldest first (expired ones included, as Mastodon lists them)."""
    rows = await conn.execute(
        sa.select(t.filters).where(t.filters.c.actor_id == actor_id).order_by(t.filters.c.id)
    )
    return await _load(conn, list(rows))


async def get(conn: AsyncConnection, actor_id: int, filter_id: int) -> Filter:
    """One of the member's filters, or NotFound (also for someone else's)."""
    rows = await conn.execute(
        sa.select(t.filters).where(t.filters.c.id == filter_id, t.filters.c.actor_id == actor_id)
    )
    loaded = await _load(conn, list(rows))
    if not loaded:
        raise NotFound("Record not found")
    return loaded[0]


_ACTIVE = sa.select(t.filters).where(
    t.filters.c.actor_id == sa.bindparam("actor_id"),
    sa.or_(t.filters.c.expires_at.is_(None), t.filters.c.expires_at > sa.bindparam("now")),
)


def active_in(conn: sa.Connection, actor_id: int | None, context: str) -> list[Filter]:
    """The member's unexpired filters that apply in ``context`` (a unit-of-work function)."""
    if actor_id is None:
        return []
    rows = list(conn.execute(_ACTIVE, {"actor_id": actor_id, "now": clock.now()}))
    return [f for f in _load_in(conn, rows) if context in f.context] if rows else []


async def active(conn: AsyncConnection, actor_id: int | None, context: str) -> list[Filter]:
    """``active_in`` over an async connection."""
    if actor_id is None:
        return []
    return await conn.run_sync(active_in, actor_id, context)


async def create(
    ctx: Context,
    actor_id: int,
    *,
    title: str,
    context: list[str],
    action: str | None = None,
    expires_in: int | None = None,
    keywords: list[KeywordChange] | None = None,
) -> int:
    """A new filter with its first keywords; returns its id."""
    title, context, action = _check_title(title), check_context(context), _check_action(action)
    expires_at = _expiry(expires_in)
    adds = [
        (_check_keyword(k.keyword), True if k.whole_word is None else k.whole_word)
        for k in keywords or []
        if not k.destroy
    ]
    if len(adds) > MAX_KEYWORDS:
        raise ValidationError(
            Message("keywords: at most %(num)s", num=MAX_KEYWORDS), field="keywords_attributes"
        )
    async with ctx.db.write() as conn:
        count = (
            await conn.execute(sa.select(sa.func.count()).where(t.filters.c.actor_id == actor_id))
        ).scalar_one()
        if count >= MAX_FILTERS:
            raise ValidationError(
                Message("at most %(num)s filters per account", num=MAX_FILTERS), field="title"
            )
        now = clock.now()
        res = await conn.execute(
            t.filters.insert().values(
                actor_id=actor_id,
                title=title,
                context=",".join(context),
                action=action,
                expires_at=expires_at,
                created_at=now,
            )
        )
        filter_id = inserted_id(res)
        for keyword, whole_word in adds:
            await conn.execute(
                t.filter_keywords.insert().values(
                    filter_id=filter_id, keyword=keyword, whole_word=whole_word, created_at=now
                )
            )
    return filter_id


async def update(
    ctx: Context,
    actor_id: int,
    filter_id: int,
    *,
    title: str | None = None,
    context: list[str] | None = None,
    action: str | None = None,
    expires_in: int | None = None,
    clear_expiry: bool = False,
    keywords: list[KeywordChange] | None = None,
) -> None:
    """Change a filter; keywords are added, changed (by id) or removed (``destroy``) in one go."""
    values: dict[str, object] = {}
    if title is not None:
        values["title"] = _check_title(title)
    if context is not None:
        values["context"] = ",".join(check_context(context))
    if action is not None:
        values["action"] = _check_action(action)
    if expires_in is not None:
        values["expires_at"] = _expiry(expires_in)
    elif clear_expiry:
        values["expires_at"] = None
    changes = keywords or []
    for k in changes:
        if not k.destroy and (k.id is None or k.keyword is not None):
            k.keyword = _check_keyword(k.keyword)
    async with ctx.db.write() as conn:
        current = await get(conn, actor_id, filter_id)
        if values:
            await conn.execute(
                t.filters.update().where(t.filters.c.id == filter_id).values(**values)
            )
        owned = {k.id for k in current.keywords}
        now = clock.now()
        for k in changes:
            if k.id is not None and k.id not in owned:
                raise NotFound("Record not found")
            if k.id is not None and k.destroy:
                await conn.execute(t.filter_keywords.delete().where(t.filter_keywords.c.id == k.id))
            elif k.id is not None:
                change: dict[str, object] = {"keyword": k.keyword} if k.keyword is not None else {}
                if k.whole_word is not None:
                    change["whole_word"] = k.whole_word
                if change:
                    await conn.execute(
                        t.filter_keywords.update()
                        .where(t.filter_keywords.c.id == k.id)
                        .values(**change)
                    )
            elif not k.destroy:
                await conn.execute(
                    t.filter_keywords.insert().values(
                        filter_id=filter_id,
                        keyword=k.keyword,
                        whole_word=True if k.whole_word is None else k.whole_word,
                        created_at=now,
                    )
                )
        total = (
            await conn.execute(
                sa.select(sa.func.count()).where(t.filter_keywords.c.filter_id == filter_id)
            )
        ).scalar_one()
        if total > MAX_KEYWORDS:
            raise ValidationError(
                Message("keywords: at most %(num)s", num=MAX_KEYWORDS), field="keywords_attributes"
            )


async def delete(ctx: Context, actor_id: int, filter_id: int) -> None:
    """Remove a filter with its keywords and statuses."""
    async with ctx.db.write() as conn:
        await get(conn, actor_id, filter_id)
        await conn.execute(
            t.filter_keywords.delete().where(t.filter_keywords.c.filter_id == filter_id)
        )
        await conn.execute(
            t.filter_statuses.delete().where(t.filter_statuses.c.filter_id == filter_id)
        )
        await conn.execute(t.filters.delete().where(t.filters.c.id == filter_id))


async def keyword_owner(conn: AsyncConnection, actor_id: int, keyword_id: int) -> int:
    """The filter id of one of the member's keywords, or NotFound."""
    found = (
        await conn.execute(
            sa.select(t.filter_keywords.c.filter_id)
            .join(t.filters, t.filters.c.id == t.filter_keywords.c.filter_id)
            .where(t.filter_keywords.c.id == keyword_id, t.filters.c.actor_id == actor_id)
        )
    ).scalar()
    if found is None:
        raise NotFound("Record not found")
    return int(found)


async def status_owner(conn: AsyncConnection, actor_id: int, row_id: int) -> tuple[int, int]:
    """(filter id, post id) of one of the member's filtered statuses, or NotFound."""
    found = (
        await conn.execute(
            sa.select(t.filter_statuses.c.filter_id, t.filter_statuses.c.post_id)
            .join(t.filters, t.filters.c.id == t.filter_statuses.c.filter_id)
            .where(t.filter_statuses.c.id == row_id, t.filters.c.actor_id == actor_id)
        )
    ).first()
    if found is None:
        raise NotFound("Record not found")
    return int(found.filter_id), int(found.post_id)


async def add_status(ctx: Context, actor_id: int, filter_id: int, post_id: int) -> int:
    """Filter one post (the caller checked the member may see it); returns the row id."""
    async with ctx.db.write() as conn:
        await get(conn, actor_id, filter_id)
        existing = (
            await conn.execute(
                sa.select(t.filter_statuses.c.id).where(
                    t.filter_statuses.c.filter_id == filter_id,
                    t.filter_statuses.c.post_id == post_id,
                )
            )
        ).scalar()
        if existing is not None:
            return int(existing)
        res = await conn.execute(
            t.filter_statuses.insert().values(
                filter_id=filter_id, post_id=post_id, created_at=clock.now()
            )
        )
        return inserted_id(res)


async def remove_status(ctx: Context, actor_id: int, row_id: int) -> None:
    """Stop filtering one post."""
    async with ctx.db.write() as conn:
        await status_owner(conn, actor_id, row_id)
        await conn.execute(t.filter_statuses.delete().where(t.filter_statuses.c.id == row_id))


@dataclass(slots=True)
class Match:
    """Why a post matched a filter: the keywords found, or that the post itself is filtered."""

    filter: Filter
    keywords: list[str]
    status_ids: list[int]


def matches(active_filters: list[Filter], post_id: int, text: str) -> list[Match]:
    """The filters ``text`` (a post's searchable text) or the post id match."""
    out = []
    for f in active_filters:
        words = [k.keyword for k in f.keywords if k.pattern().search(text)]
        statuses = [post_id] if any(p == post_id for _, p in f.statuses) else []
        if words or statuses:
            out.append(Match(filter=f, keywords=words, status_ids=statuses))
    return out


async def hides(conn: AsyncConnection, actor_id: int, post_id: int, context: str) -> bool:
    """Whether one of the member's ``hide`` filters of ``context`` matches the post, read from the
    database (its text, content warning, media descriptions, poll options), as the API would match it."""
    hiding = [f for f in await active(conn, actor_id, context) if f.action == "hide"]
    if not hiding:
        return False
    post = (
        await conn.execute(
            sa.select(t.posts.c.content_html, t.posts.c.spoiler_text).where(t.posts.c.id == post_id)
        )
    ).first()
    if post is None:
        return False
    parts = [html_to_text(post.content_html or ""), post.spoiler_text or ""]
    parts += [
        r[0] or ""
        for r in await conn.execute(
            sa.select(t.media.c.description).where(t.media.c.post_id == post_id)
        )
    ]
    for (options,) in await conn.execute(
        sa.select(t.polls.c.options).where(t.polls.c.post_id == post_id)
    ):
        parts += [str(o) for o in options or []]
    return bool(matches(hiding, post_id, "\n".join(parts)))
