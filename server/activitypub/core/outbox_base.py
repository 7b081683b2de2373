"""What every outgoing-activity builder of the outbound table shares: the instance's context, its
base URL, the Koers terms local actor documents carry, and the stamp that makes an activity id
unique (``core/outbound.py`` lists the builders; ``posts/outbound.py`` gathers them in ``Outbox``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from federation.delivery import inboxes_for
from federation.state import ActorExtra
from server import clock
from server.activitypub.core.recipients import remote_followers
from server.context import Context


def stamp() -> str:
    """Milliseconds now: the part of an activity id that makes each send its own."""
    return str(int(clock.now().timestamp() * 1000))


async def followers_inboxes(conn: AsyncConnection, actor_id: int) -> list[str]:
    """The inboxes of an actor's remote followers (each shared inbox once)."""
    return await inboxes_for(conn, await remote_followers(conn, actor_id))


class OutboxBase:
    """The listeners' shared state, bound to one instance's context."""

    def __init__(self, ctx: Context, actor_extras: list[ActorExtra] | None = None) -> None:
        self.ctx = ctx
        # what the semantics side adds to local actor documents (federation.state.ACTOR_EXTRAS)
        self.actor_extras = actor_extras if actor_extras is not None else []

    @property
    def base(self) -> str:
        return self.ctx.base
