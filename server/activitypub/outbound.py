"""The one routing table of outgoing activities: domain event kind → activity builder.

Every builder runs inside the transaction that emits the event (``EventHub.on``) and only enqueues
(``federation.delivery.enqueue``). A kind may have several builders (a role assigned is an ``Add`` of
the holder, an ``Update`` of the role and, for a claim from afar, an ``Accept``); each builds its
own activity and none depends on another. Builders listed for a kind run in the order listed.
"""

from __future__ import annotations

from functools import partial

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
        ("post.created", posts.post_created),
        ("post.updated", posts.post_updated),
        ("post.deleted", posts.post_deleted),
        ("reblog.created", posts.reblog_created),
        ("favourite.created", posts.favourite_created),
        ("favourite.created", idea_likes.liked),
        ("favourite.undone", posts.favourite_undone),
        ("favourite.undone", idea_likes.unliked),
        ("follow.created", posts.follow_created),
        ("follow.accepted", posts.follow_decided),
        ("follow.rejected", posts.follow_decided),
        ("follow.undone", posts.follow_undone),
        ("block.created", posts.block_created),
        ("block.undone", posts.block_undone),
        ("poll.voted", posts.poll_voted),
        ("actor.updated", posts.actor_updated),
        ("report.created", partial(outgoing_reports.report_created, ctx)),
        # communities
        ("community.manager_added", partial(community_moderators.manager_changed, ctx)),
        ("community.manager_removed", partial(community_moderators.manager_changed, ctx)),
        # roles
        ("role.assigned", posts.role_changed),
        ("role.assigned", roles.role_changed),
        ("role.assigned", roles.answer),
        ("role.released", posts.role_changed),
        ("role.released", roles.role_changed),
        ("role.created", roles.role_changed),
        ("role.term_changed", roles.role_changed),
        ("role.term_renewed", roles.role_changed),
        ("role.term_ended", roles.role_changed),
        ("role.request_declined", roles.answer),
        ("role.remote_claimed", roles.claim_sent),
        ("role.remote_released", roles.claim_sent),
        # purpose
        ("purpose.changed", posts.purpose_changed),
        ("purpose.endorsed", partial(purpose_federation.endorsed, ctx)),
        ("purpose.endorsement_withdrawn", partial(purpose_federation.withdrawn, ctx)),
        ("purpose.phase_changed", partial(purpose_federation.process_moved, ctx)),
        ("purpose.decision_opened", partial(purpose_federation.process_moved, ctx)),
        ("purpose.decided", partial(purpose_federation.process_moved, ctx)),
        # roadmap
        ("roadmap.created", items.item_created),
        ("roadmap.status_changed", items.item_updated),
        ("roadmap.supported", remote_items.supported),
        ("roadmap.unsupported", remote_items.unsupported),
        ("roadmap.followed", remote_items.followed),
        ("roadmap.unfollowed", remote_items.unfollowed),
        # ideas
        ("idea.promoted", outcomes.decided),
        ("idea.merged", outcomes.decided),
        ("idea.declined", outcomes.decided),
        # events
        ("event.created", events.published),
        ("event.updated", events.published),
        ("event.rsvp", events.answered),
        ("event.rsvp", rsvps.joined),
        ("event.decided", events.answered),
        ("event.left", rsvps.left),
    ]


def install(ctx: Context, posts: Outbox) -> None:
    """Register every builder of the table with the event hub (in-transaction)."""
    for kind, build in outbound(ctx, posts):
        ctx.events.on(kind, build)
