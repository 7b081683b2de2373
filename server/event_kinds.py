"""Every kind of domain event, with what it means. Services emit these (``EventHub.emit``); the
outbound routing table, notifications, streaming and indexes listen to them (``EventHub.on`` /
``after_commit``). A new kind is added here first, so a grep for its constant finds every listener.
"""

from __future__ import annotations

ANY = "*"  # every kind (after-commit: waking the delivery worker, streaming, the stream bus)

# people
ACTOR_UPDATED = "actor.updated"  # a local person's or community's profile changed
FOLLOW_CREATED = "follow.created"  # someone asked to follow (or join) an actor
FOLLOW_ACCEPTED = "follow.accepted"  # a follow (or join) was accepted
FOLLOW_REJECTED = "follow.rejected"  # a follow (or join) was refused or ended by the target
FOLLOW_UNDONE = "follow.undone"  # the follower took the follow back (unfollow, leave)
BLOCK_CREATED = "block.created"  # a person blocked another
BLOCK_UNDONE = "block.undone"  # a block was lifted
REPORT_CREATED = "report.created"  # a report was filed (``forward``: send a Flag to its host)
ACTOR_SUSPENDED = "actor.suspended"  # an administrator suspended a local member
ACTOR_UNSUSPENDED = "actor.unsuspended"  # a suspension was lifted

# posts
POST_CREATED = "post.created"  # a local post was published
POST_RECEIVED = "post.received"  # a remote post was stored by the inbox
POST_UPDATED = "post.updated"  # a post was edited (or its poll closed)
POST_DELETED = "post.deleted"  # a post was deleted
REBLOG_CREATED = "reblog.created"  # a post was boosted
FAVOURITE_CREATED = "favourite.created"  # a post was favourited
FAVOURITE_UNDONE = "favourite.undone"  # a favourite was taken back
POLL_VOTED = "poll.voted"  # someone voted in a poll

# communities
COMMUNITY_CREATED = "community.created"  # a community was founded
COMMUNITY_UPDATED = "community.updated"  # a community's settings changed
COMMUNITY_MANAGER_ADDED = "community.manager_added"  # someone became a manager
COMMUNITY_MANAGER_REMOVED = "community.manager_removed"  # a manager stepped down or was removed

# purpose
PURPOSE_CHANGED = "purpose.changed"  # a new purpose version is in force
PURPOSE_PHASE_CHANGED = "purpose.phase_changed"  # the purpose process entered another phase
PURPOSE_DECISION_OPENED = "purpose.decision_opened"  # a poll or consent round was opened
PURPOSE_DECIDED = "purpose.decided"  # a decision closed with a result
PURPOSE_ENDORSED = "purpose.endorsed"  # a member endorsed the purpose in force
PURPOSE_ENDORSEMENT_WITHDRAWN = "purpose.endorsement_withdrawn"  # an endorsement was withdrawn

# roles
ROLE_CREATED = "role.created"  # a role was created
ROLE_REQUESTED = "role.requested"  # a member asked for a role that needs approval
ROLE_ASSIGNED = "role.assigned"  # someone now holds a role
ROLE_RELEASED = "role.released"  # a holder gave a role up (or a request was withdrawn)
ROLE_REQUEST_DECLINED = "role.request_declined"  # a manager declined a request for a role
ROLE_REMOTE_CLAIMED = "role.remote_claimed"  # our member claimed a role of a remote community
ROLE_REMOTE_RELEASED = "role.remote_released"  # our member gave up a remote community's role
ROLE_TERM_CHANGED = "role.term_changed"  # a role's term length changed
ROLE_TERM_RENEWED = "role.term_renewed"  # a holder's term was renewed
ROLE_TERM_ENDED = "role.term_ended"  # a holder's term was ended

# roadmap
ROADMAP_CREATED = "roadmap.created"  # a roadmap item was added
ROADMAP_STATUS_CHANGED = "roadmap.status_changed"  # a roadmap item moved to another status
ROADMAP_UPDATED = "roadmap.updated"  # a roadmap item's target date changed (not its status)
ROADMAP_SUPPORTED = "roadmap.supported"  # someone supports a roadmap item
ROADMAP_UNSUPPORTED = "roadmap.unsupported"  # a support was taken back
ROADMAP_FOLLOWED = "roadmap.followed"  # someone follows a roadmap item
ROADMAP_UNFOLLOWED = "roadmap.unfollowed"  # a follow of a roadmap item was taken back

# ideas
IDEA_CREATED = "idea.created"  # an idea entered a community's idea box
IDEA_SUPPORTED = "idea.supported"  # someone supports an idea
IDEA_PROMOTED = "idea.promoted"  # an idea became a roadmap item or a proposal
IDEA_MERGED = "idea.merged"  # an idea was merged into another
IDEA_DECLINED = "idea.declined"  # an idea was declined

# events
EVENT_CREATED = "event.created"  # a community event was created
EVENT_UPDATED = "event.updated"  # a community event changed
EVENT_RSVP = "event.rsvp"  # someone answered an event (joined, pending)
EVENT_DECIDED = "event.decided"  # a manager accepted or declined a participant
EVENT_LEFT = "event.left"  # a participant left an event
