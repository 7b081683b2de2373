"""What becomes of an idea (a roadmap item, a purpose proposal, merged, declined), and telling its
author wherever they are.

A local author gets a ``koers.idea_update`` notification. A remote author (an outsider on Mastodon,
a partner member) gets a reply to their idea post that mentions them, written by the manager through
the normal posts machinery, so it is delivered to their inbox and lands in their own notifications
and timeline.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from server import urls
from server.context import Context
from server.errors import Conflict
from server.services import ideas, notifications, posts, purpose, purpose_proposals, roadmap
from server.storage import schema as t

log = logging.getLogger(__name__)

MESSAGES = {
    "roadmap": "your idea “{title}” is now on the roadmap of {community}: {link}",
    "merged": "your idea “{title}” was merged with a similar one in {community}: {link}",
    "declined": "thank you for your idea “{title}”; {community} will not take it up for now.",
    "proposal": "your idea “{title}” became a proposal to change the purpose of {community}: {link}",
}


async def promote_to_roadmap(
    ctx: Context,
    manager_id: int,
    idea_id: int,
    *,
    owner_role_id: int | None = None,
    status: str = "idea",
) -> int:
    """Turn an open idea into a roadmap item (managers); the author is told. Returns the item id."""
    idea = await ideas.check_promotable(ctx, manager_id, idea_id)
    description = f"From the idea box (idea {idea.id}).\n\n"
    item_id = await roadmap.create_item(
        ctx,
        manager_id,
        idea.community_id,
        title=idea.title[: roadmap.MAX_TITLE],
        description=description,
        status=status,
        owner_role_id=owner_role_id,
        audience="public" if idea.audience == "public" else "community",
    )
    await ideas.mark_promoted(ctx, manager_id, idea_id, "roadmap", item_id)
    await tell_author(ctx, manager_id, idea_id, "roadmap")
    return item_id


async def promote_to_proposal(
    ctx: Context, manager_id: int, idea_id: int, *, new_text: str, reason: str = ""
) -> int:
    """Turn an open idea into a purpose proposal (managers; the purpose must be in drafting or
    review); ``new_text`` is the proposed purpose. The author is told. Returns the proposal id."""
    idea = await ideas.check_promotable(ctx, manager_id, idea_id)
    post_id = await purpose_proposals.create_proposal(
        ctx,
        manager_id,
        idea.community_id,
        new_text,
        reason or f"From the idea box: {idea.title}"[: purpose.MAX_REASON],
    )
    async with ctx.db.read() as conn:
        proposal_id = (
            await conn.execute(
                sa.select(t.purpose_proposals.c.id).where(t.purpose_proposals.c.post_id == post_id)
            )
        ).scalar()
    if proposal_id is None:  # not indexed (e.g. the phase moved on meanwhile): nothing to point at
        raise Conflict("the proposal could not be recorded; check the purpose phase")
    await ideas.mark_promoted(ctx, manager_id, idea_id, "proposal", int(proposal_id))
    await tell_author(ctx, manager_id, idea_id, "proposal")
    return int(proposal_id)


async def merge(ctx: Context, manager_id: int, idea_id: int, into_id: int) -> None:
    """Merge a duplicate (``ideas.merge``) and tell its author."""
    await ideas.merge(ctx, manager_id, idea_id, into_id)
    await tell_author(ctx, manager_id, idea_id, "merged")


async def decline(ctx: Context, manager_id: int, idea_id: int) -> None:
    """Decline an idea (``ideas.decline``) and tell its author."""
    await ideas.decline(ctx, manager_id, idea_id)
    await tell_author(ctx, manager_id, idea_id, "declined")


def _link(ctx: Context, idea: sa.Row, outcome: str, handle: str) -> str:
    page = urls.community_page(ctx.base, handle)
    if outcome == "roadmap" and idea.promoted_to_id:
        return f"{page}/roadmap/{idea.promoted_to_id}"
    if outcome == "proposal" and idea.promoted_to_id:
        return f"{page}/purpose/proposals/{idea.promoted_to_id}"
    target = idea.merged_into_id if outcome == "merged" and idea.merged_into_id else idea.id
    return f"{page}/ideas/{target}"


async def tell_author(ctx: Context, manager_id: int, idea_id: int, outcome: str) -> None:
    """Notify a local author; reply (mentioning them) to a remote author's idea post."""
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(
                    t.ideas,
                    t.actors.c.username,
                    t.actors.c.domain,
                    t.communities.c.name.label("community"),
                    t.communities.c.actor_id.label("group_id"),
                )
                .join(t.actors, t.actors.c.id == t.ideas.c.author_id)
                .join(t.communities, t.communities.c.id == t.ideas.c.community_id)
                .where(t.ideas.c.id == idea_id)
            )
        ).one()
        handle = (
            await conn.execute(sa.select(t.actors.c.username).where(t.actors.c.id == row.group_id))
        ).scalar_one()
    if row.author_id == manager_id:
        return
    message = MESSAGES[outcome].format(
        title=row.title, community=row.community, link=_link(ctx, row, outcome, handle)
    )
    if row.domain is None:
        async with ctx.db.write() as conn:
            await notifications.notify(
                conn,
                row.author_id,
                "koers.idea_update",
                from_actor_id=manager_id,
                post_id=row.post_id,
                community_id=row.community_id,
                extra={"idea_id": row.id, "outcome": outcome, "text": message},
            )
        return
    source = f"@{row.username}@{row.domain} {message}"
    await posts.create_post(
        ctx, manager_id, posts.Draft(source=source, in_reply_to_id=row.post_id, fmt="plain")
    )
