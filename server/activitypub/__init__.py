"""The domain side of federation: what Koers objects look like as ActivityStreams, which local
events become outgoing activities, and what incoming activities do to the community.

``federation/`` is the transport (signatures, inbox, delivery, fetching); this package registers
its handlers, listeners, actor-document extras and object routes with it. Incoming activities go
through one routing table (``inbound.py``), outgoing ones through another (``outbound.py``).
"""

from __future__ import annotations

from aiohttp import web

from federation.state import ACTOR_EXTRAS
from server import event_kinds as kinds
from server.activitypub.communities import documents as community_documents
from server.activitypub.communities import management as remote_management
from server.activitypub.communities import moderators as community_moderators
from server.activitypub.core import documents, inbound, outbound, remote_actors, remote_sync, vocab
from server.activitypub.core.actor_extras import actor_extra
from server.activitypub.core.common import OUTBOX
from server.activitypub.events import activities as event_federation
from server.activitypub.posts.outbound import Outbox
from server.activitypub.purpose import activities as purpose_federation
from server.activitypub.purpose import sync as purpose_sync
from server.activitypub.roadmap import activities as roadmap_federation
from server.activitypub.roadmap import sync as roadmap_sync
from server.activitypub.roles import sync as role_sync
from server.keys import CTX
from server.services.purpose_proposals import index_post, index_posts


def setup(app: web.Application) -> None:
    """Register both routing tables, actor extras, syncers and document routes."""

    ctx = app[CTX]
    outbox = Outbox(ctx, actor_extras=app[ACTOR_EXTRAS])
    remote_actors.register(app)
    app[OUTBOX] = outbox
    outbound.install(ctx, outbox)
    # Not federation: the purpose index follows local and received posts alike.
    ctx.events.on(kinds.POST_CREATED, index_post)
    ctx.events.on(kinds.POST_RECEIVED, index_post, many=index_posts)
    inbound.install(app)
    vocab.setup_terms()
    purpose_federation.setup_terms()
    # Catching up with a remote community: each syncer stores its part (in this order).
    for syncer in (
        purpose_sync.sync_purpose,
        roadmap_sync.sync_roadmap,
        remote_management.sync_managers,
        role_sync.sync_roles,
    ):
        remote_sync.register(syncer)
    app.router.add_get(
        r"/c/{handle}/roadmap/{item_id:\d+}/followers", roadmap_federation.item_followers
    )
    app.middlewares.append(event_federation.negotiate_events)
    app.router.add_routes(remote_management.routes)
    app[ACTOR_EXTRAS].append(actor_extra)
    app.router.add_routes(documents.routes)
    app.router.add_routes(community_documents.routes)
    app.router.add_routes(community_moderators.routes)
    app.router.add_routes(purpose_federation.routes)
    app.middlewares.append(community_documents.negotiate_community_objects)
