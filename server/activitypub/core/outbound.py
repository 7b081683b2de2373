"""The one routing table of outgoing activities: domain event kind → activity builder.

Every builder runs inside the transaction that emits the event (``EventHub.on``) and only enqueues
(``federation.delivery.enqueue``). A kind may have several builders (a role assigned is an ``Add`` of
the holder, an ``Update`` of the role and, for a claim from afar, an ``Accept``); each builds its
own activity and none depends on another. Builders listed for a kind run in the order listed.
"""

from __future__ import annotations

from functools import partial

from server import event_kinds as kinds
from server.activitypub.communities import moderators
from server.activitypub.events import activities as events
from server.activitypub.events import sync as event_sync
from server.activitypub.ideas import activities as ideas
from server.activitypub.posts.outbound import Outbox
from server.activitypub.purpose import activities as purpose
from server.activitypub.roadmap import activities as roadmap
from server.activitypub.roadmap import sync as roadmap_sync
from server.activitypub.roles import activities as roles
from server.activitypub.social import reports, suspension
from server.context import Context
from server.events import InTxListener


def outbound(ctx: Context, posts: Outbox) -> list[tuple[str, InTxListener]]:
    """The table for one instance: (event kind, builder) pairs, bound to its context."""
    role_outbox = roles.RoleOutbox(ctx)
    event_outbox = events.EventOutbox(ctx)
    rsvp_outbox = event_sync.RemoteRsvpOutbox(ctx)
    item_outbox = roadmap.RoadmapOutbox(ctx)
    remote_item_outbox = roadmap_sync.RemoteRoadmapOutbox(ctx)
    outcome_outbox = ideas.IdeaOutcomeOutbox(ctx)
    idea_likes = ideas.RemoteIdeaLikes(ctx)
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
        (kinds.REPORT_CREATED, partial(reports.report_created, ctx)),
        (kinds.ACTOR_SUSPENDED, partial(suspension.actor_suspended, ctx)),
        (kinds.ACTOR_UNSUSPENDED, posts.actor_updated),
        # communities
        (kinds.COMMUNITY_MANAGER_ADDED, partial(moderators.manager_changed, ctx)),
        (kinds.COMMUNITY_MANAGER_REMOVED, partial(moderators.manager_changed, ctx)),
        # roles
        (kinds.ROLE_ASSIGNED, posts.role_changed),
        (kinds.ROLE_ASSIGNED, role_outbox.role_changed),
        (kinds.ROLE_ASSIGNED, role_outbox.answer),
        (kinds.ROLE_RELEASED, posts.role_changed),
        (kinds.ROLE_RELEASED, role_outbox.role_changed),
        (kinds.ROLE_CREATED, role_outbox.role_changed),
        (kinds.ROLE_TERM_CHANGED, role_outbox.role_changed),
        (kinds.ROLE_TERM_RENEWED, role_outbox.role_changed),
        (kinds.ROLE_TERM_ENDED, role_outbox.role_changed),
        (kinds.ROLE_REQUEST_DECLINED, role_outbox.answer),
        (kinds.ROLE_REMOTE_CLAIMED, role_outbox.claim_sent),
        (kinds.ROLE_REMOTE_RELEASED, role_outbox.claim_sent),
        # purpose
        (kinds.PURPOSE_CHANGED, posts.purpose_changed),
        (kinds.PURPOSE_ENDORSED, partial(purpose.endorsed, ctx)),
        (kinds.PURPOSE_ENDORSEMENT_WITHDRAWN, partial(purpose.withdrawn, ctx)),
        (kinds.PURPOSE_PHASE_CHANGED, partial(purpose.process_moved, ctx, posts.actor_extras)),
        (kinds.PURPOSE_DECISION_OPENED, partial(purpose.process_moved, ctx, posts.actor_extras)),
        (kinds.PURPOSE_DECIDED, partial(purpose.process_moved, ctx, posts.actor_extras)),
        # roadmap
        (kinds.ROADMAP_CREATED, item_outbox.item_created),
        (kinds.ROADMAP_STATUS_CHANGED, item_outbox.item_updated),
        (kinds.ROADMAP_UPDATED, item_outbox.item_updated),
        (kinds.ROADMAP_SUPPORTED, remote_item_outbox.supported),
        (kinds.ROADMAP_UNSUPPORTED, remote_item_outbox.unsupported),
        (kinds.ROADMAP_FOLLOWED, remote_item_outbox.followed),
        (kinds.ROADMAP_UNFOLLOWED, remote_item_outbox.unfollowed),
        # ideas
        (kinds.IDEA_PROMOTED, outcome_outbox.decided),
        (kinds.IDEA_MERGED, outcome_outbox.decided),
        (kinds.IDEA_DECLINED, outcome_outbox.decided),
        # events
        (kinds.EVENT_CREATED, event_outbox.published),
        (kinds.EVENT_UPDATED, event_outbox.published),
        (kinds.EVENT_RSVP, event_outbox.answered),
        (kinds.EVENT_RSVP, rsvp_outbox.joined),
        (kinds.EVENT_DECIDED, event_outbox.answered),
        (kinds.EVENT_LEFT, rsvp_outbox.left),
    ]


def install(ctx: Context, posts: Outbox) -> None:
    """Register every builder of the table with the event hub (in-transaction)."""
    for kind, build in outbound(ctx, posts):
        ctx.events.on(kind, build)
