"""Proposals to change a community's purpose: each is a post carrying a ``koers:proposal`` term.

A proposal is an ordinary post addressed to the community (audience ``community``) whose text shows
the proposed purpose to any fediverse app, and whose ``extra.proposal`` ({text, reason}) carries it
exactly; it is discussed by replying to that post. ``index_post`` — an in-transaction listener on
``post.created`` and ``post.received`` — keeps the ``purpose_proposals`` index of a local community
in step, whether the proposal was written here or arrived from a member on another instance.
The same listener records consent replies (``koers:consent``) and remote purpose versions.
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import NotFound, ValidationError
from server.events import Event
from server.i18n.messages import Message
from server.services import notifications, posts, purpose
from server.services.communities import get
from server.services.follows import community_managers
from server.services.post_rows import post_by_id
from server.services.purpose_decisions import record_consent_reply
from server.services.purpose_phases import current as current_phase
from server.services.purpose_phases import is_local, label_message
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import Audience, Viewer, posts_visible_to

log = logging.getLogger(__name__)

OPEN_PHASES = ("drafting", "review")
STATES = ("open", "in_decision", "adopted", "declined")
_TOKENS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True, slots=True)
class Proposal:
    """A proposed new text for the purpose, with where it stands."""

    id: int
    community_id: int
    post_id: int
    author_id: int
    author_handle: str
    author_name: str
    text_source: str
    reason: str
    base_version: int
    state: str
    decision_id: int | None
    replies_count: int
    created_at: datetime


def diff_html(old: str, new: str) -> Markup:
    """A word-level diff as accessible HTML: ``<del>`` for removed words, ``<ins>`` for added ones."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    out: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(str(escape("".join(a[i1:i2]))))
            continue
        if op in ("delete", "replace"):
            out.append(f'<del aria-label="removed">{escape("".join(a[i1:i2]))}</del>')
        if op in ("insert", "replace"):
            out.append(f'<ins aria-label="added">{escape("".join(b[j1:j2]))}</ins>')
    return Markup(f'<p class="diff">{"".join(out)}</p>'.replace("\n", "<br>\n"))


def _check(new_text: str, reason: str) -> None:
    purpose.check_text(new_text)
    if len(reason) > purpose.MAX_REASON:
        raise ValidationError(
            Message("reason: at most %(num)s characters", num=purpose.MAX_REASON), field="reason"
        )


def _post_source(name: str, new_text: str, reason: str) -> str:
    """What a Mastodon app shows: the proposal, quoted, with its reason (bounded to a post's length)."""
    quoted = "\n".join(f"> {line}" for line in new_text.strip().splitlines())
    head = f"Proposal for the purpose of {name}" + (f": {reason.strip()}" if reason.strip() else "")
    body = f"{head}\n\n{quoted}"
    return body if len(body) <= posts.MAX_CHARS else body[: posts.MAX_CHARS - 1] + "…"


async def create_proposal(
    ctx: Context, actor_id: int, community_id: int, new_text: str, reason: str
) -> int:
    """A member proposes a new purpose text; returns the proposal's post id.

    In a local community the drafting (or review) phase must be on; for a community on another
    instance the post goes there by federation and that instance decides.
    """
    _check(new_text, reason)
    async with ctx.db.read() as conn:
        community = await get(conn, community_id)
        if await is_local(conn, community_id):
            phase = await current_phase(conn, community_id)
            if phase.phase not in OPEN_PHASES:
                raise ValidationError(
                    Message(
                        "proposals are made while drafting or reviewing; the purpose is now in %(phase)s",
                        phase=label_message(phase.phase),
                    ),
                    field="text",
                )
        base = await purpose.current(conn, community_id)
    draft = posts.Draft(
        source=_post_source(community.name, new_text, reason),
        audience=Audience.COMMUNITY,
        community_id=community_id,
        extra={
            "proposal": {
                "text": new_text,
                "reason": reason.strip(),
                "baseVersion": base.version if base else 0,
            }
        },
    )
    post_id = await posts.create_post(ctx, actor_id, draft)
    if not ctx.events.listens(
        kinds.POST_CREATED, index_post
    ):  # a bare Context (``koers demo``, scripts)
        async with ctx.db.write() as conn:
            await index_post(conn, Event(kinds.POST_CREATED, {"post_id": post_id}))
    return post_id


# --- the index listener ---------------------------------------------------------------------------


async def index_post(conn: AsyncConnection, event: Event) -> None:
    """Index a new post (local or remote) that carries a proposal, a consent or a purpose version."""
    post = await post_by_id(conn, event.data["post_id"])
    if post is None or not post.extra:
        return
    if post.extra.get("proposal") and post.community_id is not None:
        await _index_proposal(conn, post)
    if post.extra.get("consent") and post.in_reply_to_id is not None:
        await record_consent_reply(conn, post)
    if post.extra.get("purpose_version") and not post.local:
        await _remote_version(conn, post)


_EXTRAS = sa.select(t.posts.c.id, t.posts.c.extra).where(
    t.posts.c.id.in_(sa.bindparam("ids", expanding=True))
)


async def index_posts(conn: AsyncConnection, events: list[Event]) -> None:
    """``index_post`` for many new posts: one read of their terms, then only those carrying any."""
    by_id = {e.data["post_id"]: e for e in events}
    for post_id, extra in list(await conn.execute(_EXTRAS, {"ids": sorted(by_id)})):
        if extra:
            await index_post(conn, by_id[post_id])


async def _index_proposal(conn: AsyncConnection, post: sa.Row) -> None:
    # A community on another instance decides there; here we index what reached us (our members'
    # proposals, and others' that its Group relayed) while we know it to be drafting, so our
    # members see them. ``purpose_sync`` later sets their state from the community's own index.
    local = await is_local(conn, post.community_id)
    if local and not await posts.is_member(conn, post.community_id, post.author_id):
        return
    if (await current_phase(conn, post.community_id)).phase not in OPEN_PHASES:
        log.info("proposal %s arrived outside drafting; kept as a post", post.uri)
        return
    exists = await conn.execute(
        sa.select(t.purpose_proposals.c.id).where(t.purpose_proposals.c.post_id == post.id)
    )
    if exists.first():
        return
    body = post.extra["proposal"]
    new_text, reason = str(body.get("text", "")), str(body.get("reason", ""))
    try:
        _check(new_text, reason)
    except ValidationError:
        return
    base = await purpose.current(conn, post.community_id)
    if not local:
        await insert_index_row(
            conn, post, post.community_id, new_text, reason, base.version if base else 0
        )
        return
    res = await conn.execute(
        t.purpose_proposals.insert().values(
            community_id=post.community_id,
            post_id=post.id,
            author_id=post.author_id,
            text_source=new_text,
            reason=reason,
            base_version=base.version if base else 0,
            state="open",
            created_at=clock.now(),
        )
    )
    for manager in await community_managers(conn, post.community_id):
        await notifications.notify(
            conn,
            manager,
            "koers.proposal",
            from_actor_id=post.author_id,
            post_id=post.id,
            community_id=post.community_id,
            extra={"proposal_id": inserted_id(res)},
        )


async def insert_index_row(
    conn: AsyncConnection,
    post: sa.Row,
    community_id: int,
    new_text: str,
    reason: str,
    base_version: int,
    state: str = "open",
) -> int:
    """Index a proposal of a community on another instance (no notification: its managers are there)."""
    res = await conn.execute(
        t.purpose_proposals.insert().values(
            community_id=community_id,
            post_id=post.id,
            author_id=post.author_id,
            text_source=new_text,
            reason=reason,
            base_version=base_version,
            state=state,
            created_at=clock.aware(post.created_at) or clock.now(),
        )
    )
    return inserted_id(res)


async def _remote_version(conn: AsyncConnection, post: sa.Row) -> None:
    """A remote community's new purpose version (its Update): keep it, and ask our members there to endorse."""
    community = (
        await conn.execute(
            sa.select(t.communities).where(
                t.communities.c.actor_id == post.author_id, t.communities.c.local.is_(False)
            )
        )
    ).first()
    version = post.extra["purpose_version"]
    if community is None:
        return
    if not await purpose.record_remote_version(
        conn,
        community.id,
        version,
        post.content_html,
        reason=post.spoiler_text or "",
        uri=post.uri,
        created_at=None,
    ):
        return
    await purpose.notify_members(
        conn,
        community.actor_id,
        "koers.endorse_requested",
        from_actor_id=community.actor_id,
        community_id=community.id,
        extra={"version": version},
    )


# --- reading --------------------------------------------------------------------------------------


def _select(viewer: Viewer) -> sa.Select:
    pp, a = t.purpose_proposals, t.actors
    replies = t.posts.alias("proposal_replies")
    # Count only the replies the viewer may see (the stored count includes followers-only and direct ones).
    replies_count = (
        sa.select(sa.func.count())
        .select_from(replies)
        .where(replies.c.in_reply_to_id == t.posts.c.id, posts_visible_to(viewer, replies))
        .scalar_subquery()
        .label("replies_count")
    )
    return (
        sa.select(pp, a.c.username, a.c.domain, a.c.display_name, replies_count)
        .join(t.posts, t.posts.c.id == pp.c.post_id)
        .join(a, a.c.id == pp.c.author_id)
        .where(posts_visible_to(viewer))
    )


def _proposal(row: sa.Row) -> Proposal:
    handle = row.username if row.domain is None else f"{row.username}@{row.domain}"
    return Proposal(
        id=row.id,
        community_id=row.community_id,
        post_id=row.post_id,
        author_id=row.author_id,
        author_handle=handle,
        author_name=row.display_name or row.username,
        text_source=row.text_source,
        reason=row.reason,
        base_version=row.base_version,
        state=row.state,
        decision_id=row.decision_id,
        replies_count=row.replies_count,
        created_at=clock.aware(row.created_at),
    )


async def proposals(
    conn: AsyncConnection, viewer: Viewer, community_id: int, *, state: str | None = None
) -> list[Proposal]:
    """The proposals of a community the viewer may see (they are community posts), newest first."""
    query = _select(viewer).where(t.purpose_proposals.c.community_id == community_id)
    if state is not None:
        query = query.where(t.purpose_proposals.c.state == state)
    rows = await conn.execute(query.order_by(t.purpose_proposals.c.id.desc()))
    return [_proposal(r) for r in rows]


async def get_proposal(conn: AsyncConnection, viewer: Viewer, proposal_id: int) -> Proposal:
    """One proposal, or NotFound (also when the viewer may not see its post)."""
    row = (
        await conn.execute(_select(viewer).where(t.purpose_proposals.c.id == proposal_id))
    ).first()
    if row is None:
        raise NotFound("no such proposal, or it is not visible to you")
    return _proposal(row)


async def diff_against_current(conn: AsyncConnection, proposal: Proposal) -> Markup:
    """The proposal's change against the purpose as it stands now."""
    now = await purpose.current(conn, proposal.community_id)
    return diff_html(now.text_source if now else "", proposal.text_source)
