"""The domain side of federation: what Koers objects look like as ActivityStreams, which local
events become outgoing activities, and what incoming activities do to the community.

``federation/`` is the transport (signatures, inbox, delivery, fetching); this package registers
its handlers, listeners, actor-document extras and object routes with it.
"""

from __future__ import annotations

from aiohttp import web

from server.keys import CTX


def setup(app: web.Application) -> None:
    """Register outbound listeners, inbound handlers, actor extras and document routes."""
    from federation.state import ACTOR_EXTRAS, INBOX_HANDLERS
    from server.activitypub import (
        community_documents,
        community_moderators,
        documents,
        outgoing_reports,
        purpose_federation,
        purpose_sync,  # noqa: F401 - registers its remote_sync syncer
        remote_actors,
    )
    from server.activitypub import (
        incoming_posts as posts,
    )
    from server.activitypub import (
        incoming_social as social,
    )
    from server.activitypub.actor_extras import actor_extra
    from server.activitypub.incoming_common import OUTBOX
    from server.activitypub.outgoing import Outbox

    outbox = Outbox(app[CTX], actor_extras=app[ACTOR_EXTRAS])
    outbox.register()
    remote_actors.register(app)
    purpose_federation.register(app[CTX])
    outgoing_reports.register(app[CTX])
    community_moderators.register(app[CTX])
    app[OUTBOX] = outbox
    handlers = app[INBOX_HANDLERS]
    for name, handler in {
        "Follow": social.on_follow,
        "Accept": social.on_accept,
        "Reject": social.on_reject,
        "Undo": social.on_undo,
        "Block": social.on_block,
        "Like": social.on_like,
        "Flag": social.on_flag,
        "Create": posts.on_create,
        "Update": posts.on_update,
        "Delete": posts.on_delete,
        "Announce": posts.on_announce,
        "Add": posts.on_add_remove,
        "Remove": posts.on_add_remove,
    }.items():
        handlers.register(name, handler)
    from server.activitypub import roadmap_federation

    roadmap_federation.install(app)
    from server.activitypub import remote_management

    remote_management.install(app)
    from server.activitypub import role_federation

    role_federation.install(
        app
    )  # after roadmap_federation: it wraps Join/Leave/Update/Accept/Reject again
    app[ACTOR_EXTRAS].append(actor_extra)
    app.router.add_routes(documents.routes)
    app.router.add_routes(community_documents.routes)
    app.router.add_routes(community_moderators.routes)
    app.router.add_routes(purpose_federation.routes)
    app.middlewares.append(community_documents.negotiate_community_objects)
