"""People as pages show them: finding one from what someone typed in a form (``name``,
``@name``, ``@name@host``), the roles a person holds, whom they follow and who follows them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import ValidationError
from server.i18n.messages import Message
from server.services import follows
from server.storage import schema as t
from server.storage.prepared import prepared, viewer_params
from server.visibility import Viewer, memberships_shown_to


async def actor_id_by_username(
    conn: AsyncConnection, username: str, field: str = "username"
) -> int:
    """A person's actor id from ``name`` / ``@name`` (local) or ``@name@host`` typed in a form.

    ``@name@host`` finds a person of another instance we already know (a member of a community
    from a partner organisation, say), else the local ``name``.
    """
    name, _, host = username.strip().lstrip("@").partition("@")
    person = sa.select(t.actors.c.id).where(
        t.actors.c.username == name.lower(),
        t.actors.c.kind == "person",
        t.actors.c.suspended.is_(False),
    )
    row = (
        (await conn.execute(person.where(t.actors.c.domain == host.lower()))).first()
        if host
        else None
    )
    if row is None:
        row = (await conn.execute(person.where(t.actors.c.domain.is_(None)))).first()
    if row is None:
        raise ValidationError(
            Message("no member called %(username)s here", username=repr(username)), field=field
        )
    return int(row[0])


_COMMUNITY_ACTOR = t.actors.alias("community_actor")
_ACTOR = sa.bindparam("actor", type_=t.Id)  # the person whose page it is
# Built once (a hot path of every profile page): what varies travels as parameters.
_ROLES_HELD = (
    sa.select(
        t.roles.c.id,
        t.roles.c.name,
        t.communities.c.name.label("community_name"),
        _COMMUNITY_ACTOR.c.username.label("community_handle"),
        _COMMUNITY_ACTOR.c.domain.label("community_domain"),
    )
    .select_from(
        t.role_holders.join(t.roles, t.roles.c.id == t.role_holders.c.role_id)
        .join(t.communities, t.communities.c.id == t.roles.c.community_id)
        .join(_COMMUNITY_ACTOR, _COMMUNITY_ACTOR.c.id == t.communities.c.actor_id)
    )
    .where(t.role_holders.c.actor_id == _ACTOR, t.role_holders.c.state == "held")
    .order_by(t.communities.c.name, t.roles.c.name)
)


async def roles_held(conn: AsyncConnection, actor_id: int) -> list[sa.Row]:
    """Roles an actor holds, with the community each belongs to."""
    return list(await conn.execute(_ROLES_HELD, {"actor": actor_id}))


def _counted(query: sa.Select) -> sa.Select:
    return sa.select(sa.func.count()).select_from(query.order_by(None).subquery())


def following_query(who: Viewer, actor_id: int) -> sa.Select:
    """Whom ``actor_id`` follows; a community only when ``who`` may see its member list (the visibility module)."""
    return follows.following_query(actor_id, kind=None).where(
        memberships_shown_to(who, t.actors.c.id)
    )


_FOLLOWERS_COUNT = _counted(follows.followers_query(_ACTOR))  # type: ignore[arg-type]


@prepared
def _following_count(viewer: Viewer) -> sa.Select:
    return _counted(following_query(viewer, _ACTOR))  # type: ignore[arg-type]


async def count_followers(conn: AsyncConnection, actor_id: int) -> int:
    """How many follow ``actor_id`` (accepted follows)."""
    return int((await conn.execute(_FOLLOWERS_COUNT, {"actor": actor_id})).scalar_one())


async def count_following(conn: AsyncConnection, who: Viewer, actor_id: int) -> int:
    """How many ``actor_id`` follows, as far as ``who`` may see (``following_query``)."""
    params = {**viewer_params(who), "actor": actor_id}
    return int((await conn.execute(_following_count.get(who), params)).scalar_one())


async def list_follows(
    conn: AsyncConnection, who: Viewer, actor_id: int, which: str, offset: int, limit: int
) -> list[sa.Row]:
    """A page of the ``followers`` of ``actor_id`` or of whom it is ``following``."""
    query = (
        follows.followers_query(actor_id)
        if which == "followers"
        else following_query(who, actor_id)
    )
    return list(await conn.execute(query.offset(offset).limit(limit)))


async def pending_followers(conn: AsyncConnection, actor_id: int) -> list[sa.Row]:
    """Who asked to follow ``actor_id`` and waits for an answer."""
    return list(await conn.execute(follows.followers_query(actor_id, state="pending")))
