"""The one routing table of outgoing activities: domain event kind → activity builder.

Every builder runs inside the transaction that emits the event (``EventHub.on``) and only enqueues
(``federation.delivery.enqueue``). A kind may have several builders (a role assigned is an ``Add`` of
the holder, an ``Update`` of the role and, for a claim from afar, an ``Accept``); each builds its
own activity and none depends on another. Builders listed for a kind run in the order listed.
"""

from __future__ import annotations

from functools import partial

from server import event_kinds as kinds
from server.activitypub import (
    community_moderators,
    event_federation,
    outgoing_reports,
    purpose_federation,
    remote_events,
    remote_ideas,
    roadmap_federation,
    roadmap_sync,
    role_federation,
)
from server.activitypub.outgoing import Outbox
from server.context import Context
from server.events import InTxListener


def outbound(ctx: Context, posts: Outbox) -> list[tuple[str, InTxListener]]:
    """The table for one instance: (event kind, builder) pairs, bound to its context."""
    roles = role_federation.RoleOutbox(ctx)
    events = event_federation.EventOutbox(ctx)
    rsvps = remote_events.RemoteRsvpOutbox(ctx)
    items = roadmap_federation.RoadmapOutbox(ctx)
    remote_items = roadmap_sync.RemoteRoadmapOutbox(ctx)
    outcomes = remote_ideas.IdeaOutcomeOutbox(ctx)
    idea_likes = remote_ideas.RemoteIdeaLikes(ctx)
    return [
        # posts and people
        (kinds.POST_CREATED, posts.post_created),
        (kinds.POST_UPDATED, posts.post_updated),
        (kinds.POST_DELETED, posts.post_deleted),
        (kinds.REBLOG_CREATED, posts.reblog_created),
        (kinds.FAVOURITE_CREATED, posts.favourite_created),
        (kinds.FAVOURITE_CREATED, idea_likes.liked),
        (kinds.FAVOURITE_UNDONE, posts.favourite_undone),
        (kinds.FAVOURITE_UNDONE, idea_likes.unliked),
        (kinds.FOLLOW_CREATED, posts.follow_created),
        (kinds.FOLLOW_ACCEPTED, posts.follow_decided),
        (kinds.FOLLOW_REJECTED, posts.follow_decided),
        (kinds.FOLLOW_UNDONE, posts.follow_undone),
        (kinds.BLOCK_CREATED, posts.block_created),
        (kinds.BLOCK_UNDONE, posts.block_undone),
        (kinds.POLL_VOTED, posts.poll_voted),
        (kinds.ACTOR_UPDATED, posts.actor_updated),
        (kinds.REPORT_CREATED, partial(outgoing_reports.report_created, ctx)),
        # communities
        (kinds.COMMUNITY_MANAGER_ADDED, partial(community_moderators.manager_changed, ctx)),
        (kinds.COMMUNITY_MANAGER_REMOVED, partial(community_moderators.manager_changed, ctx)),
        # roles
        (kinds.ROLE_ASSIGNED, posts.role_changed),
        (kinds.ROLE_ASSIGNED, roles.role_changed),
        (kinds.ROLE_ASSIGNED, roles.answer),
        (kinds.ROLE_RELEASED, posts.role_changed),
        (kinds.ROLE_RELEASED, roles.role_changed),
        (kinds.ROLE_CREATED, roles.role_changed),
        (kinds.ROLE_TERM_CHANGED, roles.role_changed),
        (kinds.ROLE_TERM_RENEWED, roles.role_changed),
        (kinds.ROLE_TERM_ENDED, roles.role_changed),
        (kinds.ROLE_REQUEST_DECLINED, roles.answer),
        (kinds.ROLE_REMOTE_CLAIMED, roles.claim_sent),
        (kinds.ROLE_REMOTE_RELEASED, roles.claim_sent),
        # purpose
        (kinds.PURPOSE_CHANGED, posts.purpose_changed),
        (kinds.PURPOSE_ENDORSED, partial(purpose_federation.endorsed, ctx)),
        (kinds.PURPOSE_ENDORSEMENT_WITHDRAWN, partial(purpose_federation.withdrawn, ctx)),
        (kinds.PURPOSE_PHASE_CHANGED, partial(purpose_federation.process_moved, ctx)),
        (kinds.PURPOSE_DECISION_OPENED, partial(purpose_federation.process_moved, ctx)),
        (kinds.PURPOSE_DECIDED, partial(purpose_federation.process_moved, ctx)),
        # roadmap
        (kinds.ROADMAP_CREATED, items.item_created),
        (kinds.ROADMAP_STATUS_CHANGED, items.item_updated),
        (kinds.ROADMAP_SUPPORTED, remote_items.supported),
        (kinds.ROADMAP_UNSUPPORTED, remote_items.unsupported),
        (kinds.ROADMAP_FOLLOWED, remote_items.followed),
        (kinds.ROADMAP_UNFOLLOWED, remote_items.unfollowed),
        # ideas
        (kinds.IDEA_PROMOTED, outcomes.decided),
        (kinds.IDEA_MERGED, outcomes.decided),
        (kinds.IDEA_DECLINED, outcomes.decided),
        # events
        (kinds.EVENT_CREATED, events.published),
        (kinds.EVENT_UPDATED, events.published),
        (kinds.EVENT_RSVP, events.answered),
        (kinds.EVENT_RSVP, rsvps.joined),
        (kinds.EVENT_DECIDED, events.answered),
        (kinds.EVENT_LEFT, rsvps.left),
    ]


def install(ctx: Context, posts: Outbox) -> None:
    """Register every builder of the table with the event hub (in-transaction)."""
    for kind, build in outbound(ctx, posts):
        ctx.events.on(kind, build)
