"""Roles in a community: named responsibilities with required competencies and holders.

How a role is filled: ``open`` (any member claims it: informal leadership), ``approval`` (a member
asks, a manager decides) or ``assigned`` (managers assign). ``role.assigned`` / ``role.released``
events carry ``role_id`` and ``actor_id``; federation turns them into ``Add`` / ``Remove``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server import event_kinds as kinds
from server.context import Context
from server.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationError
from server.events import Event
from server.i18n import N_
from server.i18n.current import Labels
from server.i18n.messages import Message
from server.services import accounts, notifications, text
from server.services.follows import community_managers
from server.services.posts import is_member
from server.services.remote_groups import ensure_remote_community
from server.services.role_terms import check_term, term_end
from server.storage import schema as t
from server.storage.rows import inserted_id

FILL_MODES = ("open", "approval", "assigned")
FILL_MODE_LABELS = Labels(
    {
        "open": N_("Open: any member may claim it"),
        "approval": N_("By approval of a manager"),
        "assigned": N_("Assigned by managers"),
    }
)
MAX_NAME = 120
MAX_DESCRIPTION = 5000


@dataclass(slots=True)
class Role:
    """A role with its holders (usernames by state) and required competencies."""

    id: int
    community_id: int
    name: str
    description_html: str
    fill_mode: str
    uri: str | None
    competencies: list[tuple[str, str | None]] = field(default_factory=list)
    holders: list[sa.Row] = field(default_factory=list)
    requested: list[sa.Row] = field(default_factory=list)
    term_days: int | None = None

    @property
    def claimable(self) -> bool:
        """Members may take it themselves (open) or ask for it (approval)."""
        return self.fill_mode in ("open", "approval")

    @property
    def vacant(self) -> bool:
        return not self.holders

    @property
    def fill_mode_label(self) -> str:
        return FILL_MODE_LABELS[self.fill_mode]


async def create_role(
    ctx: Context,
    manager_id: int,
    community_id: int,
    *,
    name: str,
    description: str = "",
    competencies: list[tuple[str, str | None]] | None = None,
    fill_mode: str = "open",
    term_days: int | str | None = None,
) -> int:
    """A manager defines a role (``term_days``: how long a holding lasts before it is reconsidered,
    in days, as a number or the text of a form field)."""
    found = FieldErrors()
    with found.check("term_days"):
        term_days = check_term(term_days)
    name = name.strip()
    if not name:
        found.add("name", "name: please name the role")
    if len(name) > MAX_NAME:
        found.add("name", Message("name: at most %(num)s characters", num=MAX_NAME))
    if len(description) > MAX_DESCRIPTION:
        found.add(
            "description", Message("description: at most %(num)s characters", num=MAX_DESCRIPTION)
        )
    if fill_mode not in FILL_MODES:
        found.add(
            "fill_mode",
            Message("how it is filled: one of %(choices)s", choices=", ".join(FILL_MODES)),
        )
    cleaned: list[tuple[str, str | None]] = []
    with found.check("competencies"):
        cleaned = accounts.parse_competencies(competencies or [])
    found.raise_any()
    async with ctx.db.write() as conn:
        handle = await _require_manager(conn, community_id, manager_id)
        clash = await conn.execute(
            sa.select(t.roles.c.id).where(
                t.roles.c.community_id == community_id, t.roles.c.name == name
            )
        )
        if clash.first():
            raise Conflict(
                Message("this community already has a role called %(name)s", name=repr(name)),
                field="name",
            )
        res = await conn.execute(
            t.roles.insert().values(
                community_id=community_id,
                name=name,
                description_source=description,
                description_html=text.render(description).html if description.strip() else "",
                fill_mode=fill_mode,
                created_at=clock.now(),
                term_days=term_days,
            )
        )
        role_id = inserted_id(res)
        await conn.execute(
            t.roles.update()
            .where(t.roles.c.id == role_id)
            .values(uri=urls.role(ctx.base, handle, role_id))
        )
        if cleaned:
            await conn.execute(
                t.role_competencies.insert(),
                [{"role_id": role_id, "name": n, "level": lv} for n, lv in cleaned],
            )
        event = await ctx.events.emit(
            conn, kinds.ROLE_CREATED, role_id=role_id, community_id=community_id
        )
    await ctx.events.committed(event)
    return role_id


async def _require_manager(conn: AsyncConnection, community_id: int, actor_id: int) -> str:
    """The community handle, after checking the actor manages it."""
    handle = (
        await conn.execute(
            sa.select(t.actors.c.username)
            .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
            .where(t.communities.c.id == community_id)
        )
    ).scalar()
    if handle is None:
        raise NotFound("no such community")
    manager = await conn.execute(
        sa.select(1).where(
            t.community_managers.c.community_id == community_id,
            t.community_managers.c.actor_id == actor_id,
        )
    )
    if manager.first() is None:
        raise Forbidden("only community managers can do this")
    return str(handle)


async def _role_row(conn: AsyncConnection, role_id: int) -> sa.Row:
    row = (await conn.execute(sa.select(t.roles).where(t.roles.c.id == role_id))).first()
    if row is None:
        raise NotFound("no such role")
    return row


async def _holding(conn: AsyncConnection, role_id: int, actor_id: int) -> str | None:
    return (
        await conn.execute(
            sa.select(t.role_holders.c.state).where(
                t.role_holders.c.role_id == role_id, t.role_holders.c.actor_id == actor_id
            )
        )
    ).scalar()


async def _tell_holder(conn: AsyncConnection, role: sa.Row, holder_id: int, by: int) -> None:
    """``koers.role_assigned`` for someone who now holds a role someone else gave them."""
    await notifications.notify(
        conn,
        holder_id,
        "koers.role_assigned",
        from_actor_id=by,
        community_id=role.community_id,
        extra={"role_id": role.id, "role": role.name},
    )


async def _hold(
    ctx: Context, conn: AsyncConnection, role: sa.Row, actor_id: int, by: int | None
) -> Event:
    """Make ``actor_id`` a holder (from nothing or from a request); notify when someone else did it."""
    state = await _holding(conn, role.id, actor_id)
    if state == "held":
        raise Conflict("already holds this role", field="actor_id")
    now = clock.now()
    if state == "requested":
        await conn.execute(
            t.role_holders.update()
            .where(t.role_holders.c.role_id == role.id, t.role_holders.c.actor_id == actor_id)
            .values(state="held", created_at=now, ends_at=term_end(role.term_days, now))
        )
    else:
        await conn.execute(
            t.role_holders.insert().values(
                role_id=role.id,
                actor_id=actor_id,
                state="held",
                created_at=now,
                ends_at=term_end(role.term_days, now),
            )
        )
    if by is not None and by != actor_id:
        await _tell_holder(conn, role, actor_id, by)
    return await ctx.events.emit(
        conn,
        kinds.ROLE_ASSIGNED,
        role_id=role.id,
        actor_id=actor_id,
        community_id=role.community_id,
        by_actor_id=by,
    )


async def _drop(
    ctx: Context, conn: AsyncConnection, role: sa.Row, actor_id: int, by: int
) -> Event | None:
    state = await _holding(conn, role.id, actor_id)
    if state is None:
        raise NotFound("that person neither holds nor asked for this role")
    await conn.execute(
        t.role_holders.delete().where(
            t.role_holders.c.role_id == role.id, t.role_holders.c.actor_id == actor_id
        )
    )
    if state != "held":
        if by == actor_id:
            return None
        return await ctx.events.emit(  # a manager declined the request (a Reject when it came from afar)
            conn,
            kinds.ROLE_REQUEST_DECLINED,
            role_id=role.id,
            actor_id=actor_id,
            community_id=role.community_id,
        )
    return await ctx.events.emit(
        conn,
        kinds.ROLE_RELEASED,
        role_id=role.id,
        actor_id=actor_id,
        community_id=role.community_id,
        by_actor_id=by,
    )


async def is_remote_role(conn: AsyncConnection, role_id: int) -> bool:
    """Does the role belong to a community hosted on another instance?"""
    local = (
        await conn.execute(
            sa.select(t.communities.c.local)
            .join(t.roles, t.roles.c.community_id == t.communities.c.id)
            .where(t.roles.c.id == role_id)
        )
    ).scalar()
    return local is False


async def claim_role(ctx: Context, actor_id: int, role_id: int) -> str:
    """A member takes an open role (``held``) or asks for an approval role (``requested``).

    A role of a community on another instance is always ``requested`` here: its home decides, and
    ``role.remote_claimed`` sends it the claim (a ``Join`` of the role).
    """
    async with ctx.db.write() as conn:
        role = await _role_row(conn, role_id)
        if not await is_member(conn, role.community_id, actor_id):
            raise Forbidden("join the community before you take on one of its roles")
        if role.fill_mode == "assigned":
            raise Forbidden("this role is assigned by the community managers")
        if await is_remote_role(conn, role_id):
            if await _holding(conn, role_id, actor_id) is not None:
                raise Conflict("you already hold or asked for this role")
            await conn.execute(
                t.role_holders.insert().values(
                    role_id=role_id, actor_id=actor_id, state="requested", created_at=clock.now()
                )
            )
            event = await ctx.events.emit(
                conn,
                kinds.ROLE_REMOTE_CLAIMED,
                role_id=role_id,
                actor_id=actor_id,
                community_id=role.community_id,
            )
            state = "requested"
        elif role.fill_mode == "open":
            event = await _hold(ctx, conn, role, actor_id, actor_id)
            state = "held"
        else:
            if await _holding(conn, role_id, actor_id) is not None:
                raise Conflict("you already hold or asked for this role")
            await conn.execute(
                t.role_holders.insert().values(
                    role_id=role_id, actor_id=actor_id, state="requested", created_at=clock.now()
                )
            )
            for (manager,) in list(
                await conn.execute(
                    sa.select(t.community_managers.c.actor_id).where(
                        t.community_managers.c.community_id == role.community_id
                    )
                )
            ):
                await notifications.notify(
                    conn,
                    manager,
                    "koers.role_requested",
                    from_actor_id=actor_id,
                    community_id=role.community_id,
                    extra={"role_id": role_id, "role": role.name},
                )
            event = await ctx.events.emit(
                conn,
                kinds.ROLE_REQUESTED,
                role_id=role_id,
                actor_id=actor_id,
                community_id=role.community_id,
            )
            state = "requested"
    await ctx.events.committed(event)
    return state


async def release_role(ctx: Context, actor_id: int, role_id: int) -> None:
    """A holder gives the role up (or withdraws a request); for a remote role its home is told."""
    async with ctx.db.write() as conn:
        role = await _role_row(conn, role_id)
        done = [await _drop(ctx, conn, role, actor_id, actor_id)]
        if await is_remote_role(conn, role_id):
            done.append(
                await ctx.events.emit(
                    conn,
                    kinds.ROLE_REMOTE_RELEASED,
                    role_id=role_id,
                    actor_id=actor_id,
                    community_id=role.community_id,
                )
            )
    for event in done:
        if event:
            await ctx.events.committed(event)


async def assign_role(ctx: Context, manager_id: int, role_id: int, actor_id: int) -> None:
    """A manager gives a member a role (any fill mode); approving a request is the same act."""
    async with ctx.db.write() as conn:
        role = await _role_row(conn, role_id)
        await _require_manager(conn, role.community_id, manager_id)
        if not await is_member(conn, role.community_id, actor_id):
            raise ValidationError(
                "only members of the community can hold its roles", field="actor_id"
            )
        event = await _hold(ctx, conn, role, actor_id, manager_id)
    await ctx.events.committed(event)


async def unassign_role(ctx: Context, manager_id: int, role_id: int, actor_id: int) -> None:
    """A manager takes a role away (or denies a request)."""
    async with ctx.db.write() as conn:
        role = await _role_row(conn, role_id)
        await _require_manager(conn, role.community_id, manager_id)
        event = await _drop(ctx, conn, role, actor_id, manager_id)
    if event:
        await ctx.events.committed(event)


async def _people(conn: AsyncConnection, role_ids: list[int]) -> dict[int, list[sa.Row]]:
    out: dict[int, list[sa.Row]] = {}
    if not role_ids:
        return out
    rows = await conn.execute(
        sa.select(
            t.role_holders.c.role_id,
            t.role_holders.c.state,
            t.role_holders.c.created_at.label("since"),
            t.role_holders.c.ends_at,
            t.actors,
        )
        .join(t.actors, t.actors.c.id == t.role_holders.c.actor_id)
        .where(t.role_holders.c.role_id.in_(role_ids))
        .order_by(t.role_holders.c.created_at)
    )
    for r in rows:
        out.setdefault(r.role_id, []).append(r)
    return out


async def _build(conn: AsyncConnection, rows: list[sa.Row]) -> list[Role]:
    ids = [r.id for r in rows]
    people = await _people(conn, ids)
    comps: dict[int, list[tuple[str, str | None]]] = {}
    if ids:
        for c in await conn.execute(
            sa.select(t.role_competencies)
            .where(t.role_competencies.c.role_id.in_(ids))
            .order_by(t.role_competencies.c.name)
        ):
            comps.setdefault(c.role_id, []).append((c.name, c.level))
    return [
        Role(
            id=r.id,
            community_id=r.community_id,
            name=r.name,
            description_html=r.description_html or "",
            fill_mode=r.fill_mode,
            uri=r.uri,
            competencies=comps.get(r.id, []),
            term_days=r.term_days,
            holders=[p for p in people.get(r.id, []) if p.state == "held"],
            requested=[p for p in people.get(r.id, []) if p.state == "requested"],
        )
        for r in rows
    ]


async def roles_of(conn: AsyncConnection, community_id: int) -> list[Role]:
    """All roles of a community, by name, with holders and competencies."""
    rows = list(
        await conn.execute(
            sa.select(t.roles)
            .where(t.roles.c.community_id == community_id)
            .order_by(t.roles.c.name)
        )
    )
    return await _build(conn, rows)


async def get_role(conn: AsyncConnection, community_id: int, role_id: int) -> Role:
    """One role of this community, or NotFound."""
    row = await _role_row(conn, role_id)
    if row.community_id != community_id:
        raise NotFound("no such role in this community")
    return (await _build(conn, [row]))[0]


async def matching_members(conn: AsyncConnection, role: Role, *, limit: int = 20) -> list[sa.Row]:
    """Members of the role's community with at least one required competency, best matches first."""
    names = [n for n, _ in role.competencies]
    if not names:
        return []
    matches = sa.func.count(t.competencies.c.id).label("matches")
    return list(
        await conn.execute(
            sa.select(t.actors, matches)
            .join(t.competencies, t.competencies.c.actor_id == t.actors.c.id)
            .join(t.follows, t.follows.c.follower_id == t.actors.c.id)
            .join(t.communities, t.communities.c.actor_id == t.follows.c.target_id)
            .where(
                t.communities.c.id == role.community_id,
                t.follows.c.state == "accepted",
                t.competencies.c.name.in_(names),
                t.actors.c.suspended.is_(False),
            )
            .group_by(t.actors.c.id)
            .order_by(matches.desc(), t.actors.c.username)
            .limit(limit)
        )
    )


async def roles_held_by(conn: AsyncConnection, actor_id: int) -> list[sa.Row]:
    """Roles an actor holds, with their community (``role_id``, ``role_name``, ``handle``, ``community_name``)."""
    return list(
        await conn.execute(
            sa.select(
                t.roles.c.id.label("role_id"),
                t.roles.c.name.label("role_name"),
                t.actors.c.username.label("handle"),
                t.communities.c.name.label("community_name"),
            )
            .join(t.role_holders, t.role_holders.c.role_id == t.roles.c.id)
            .join(t.communities, t.communities.c.id == t.roles.c.community_id)
            .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
            .where(t.role_holders.c.actor_id == actor_id, t.role_holders.c.state == "held")
            .order_by(t.communities.c.name, t.roles.c.name)
        )
    )


async def settle_remote_claim(
    conn: AsyncConnection, role: sa.Row, member_id: int, group_id: int, *, accepted: bool
) -> None:
    """The Group of a remote community answered our member's claim of one of its roles: held (and
    the member told so), or the request is gone. Forbidden when another actor answers."""
    rh = t.role_holders
    where = (rh.c.role_id == role.id, rh.c.actor_id == member_id)
    group = (
        await conn.execute(
            sa.select(t.communities.c.actor_id).where(t.communities.c.id == role.community_id)
        )
    ).scalar()
    if group != group_id:
        raise Forbidden("only the role's community answers a claim")
    state = (await conn.execute(sa.select(rh.c.state).where(*where))).scalar()
    if not accepted:
        await conn.execute(rh.delete().where(*where, rh.c.state == "requested"))
        return
    if state == "held":
        return
    if state is None:
        await conn.execute(
            rh.insert().values(
                role_id=role.id, actor_id=member_id, state="held", created_at=clock.now()
            )
        )
    else:
        await conn.execute(rh.update().where(*where).values(state="held", created_at=clock.now()))
    await _tell_holder(conn, role, member_id, group_id)


async def receive_holder_change(
    conn: AsyncConnection,
    actor_id: int,
    role_uri: str,
    holder_id: int,
    *,
    add: bool,
    name: str | None,
    from_role_host: bool,
) -> None:
    """A remote ``Add`` / ``Remove`` of a role's holder: of one of our roles by a manager on another
    instance, or of a remote Group's own role (a role we do not know yet is kept when its Group,
    on the role's host, names it). The holder is told of an ``Add``.

    NotFound for an unknown role; Forbidden unless the actor is the Group or one of its managers.
    """
    actor = (await conn.execute(sa.select(t.actors).where(t.actors.c.id == actor_id))).one()
    role = (await conn.execute(sa.select(t.roles).where(t.roles.c.uri == role_uri))).first()
    if role is None and actor.kind == "group" and from_role_host:
        community_id = await ensure_remote_community(conn, actor)
        res = await conn.execute(
            t.roles.insert().values(
                community_id=community_id,
                name=(name or role_uri)[:120],
                uri=role_uri,
                fill_mode="assigned",
                created_at=clock.now(),
            )
        )
        role = (
            await conn.execute(sa.select(t.roles).where(t.roles.c.id == inserted_id(res)))
        ).one()
    if role is None:
        raise NotFound("no such role")
    group = (
        await conn.execute(
            sa.select(t.communities.c.actor_id).where(t.communities.c.id == role.community_id)
        )
    ).scalar()
    if actor.id != group and actor.id not in await community_managers(conn, role.community_id):
        raise Forbidden("only the community or its managers change role holders")
    cond = sa.and_(t.role_holders.c.role_id == role.id, t.role_holders.c.actor_id == holder_id)
    await conn.execute(t.role_holders.delete().where(cond))
    if add:
        await conn.execute(
            t.role_holders.insert().values(
                role_id=role.id, actor_id=holder_id, state="held", created_at=clock.now()
            )
        )
        await _tell_holder(conn, role, holder_id, actor_id)
