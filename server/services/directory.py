"""The member directory: people of this instance and of partner organisations, found by name and
filtered by competency (and level), community, role held and organisation.

Only people who want to be listed appear (``actors.discoverable``, the "list me in the directory"
preference, as Mastodon's profile directory), never suspended or silenced ones. Filtering by a
community or a role held in it goes through the community's member-list visibility
(``visibility.member_list_visible``): whoever may not see who is a member learns nothing from the
filter either.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.errors import ValidationError
from server.i18n.messages import Message
from server.storage import schema as t
from server.visibility import Viewer, member_list_visible

LEVELS = ("learning", "practised", "expert")
PAGE = 30
MAX_PAGE = 1000


@dataclass(frozen=True)
class DirectoryQuery:
    """What the directory is asked: every part optional."""

    name: str = ""
    competency: str = ""
    level: str = ""
    community_id: int | None = None
    role_id: int | None = None
    # "" this instance and its partners (everyone known when asked for a competency);
    # "here" this instance; "all" everyone this instance knows; or a partner's domain
    organisation: str = ""
    page: int = 1

    def checked(self) -> DirectoryQuery:
        if self.level and self.level not in LEVELS:
            raise ValidationError(
                Message("level: one of %(choices)s", choices=", ".join(LEVELS)), field="level"
            )
        if not 1 <= self.page <= MAX_PAGE:
            raise ValidationError(Message("page: from 1 to %(num)s", num=MAX_PAGE), field="page")
        return self


def _like(text: str) -> str:
    escaped = text.strip().lower()[:100].replace("\\", "\\\\").replace("%", "\\%")
    return "%" + escaped.replace("_", "\\_") + "%"


def _rank(level: sa.ColumnElement) -> sa.ColumnElement[int]:
    return sa.case(
        (level == "expert", 3), (level == "practised", 2), (level == "learning", 1), else_=0
    )


def _matching(q: DirectoryQuery, actor_id: sa.ColumnElement) -> sa.Select:
    """The person's competencies that match the filter, best level first."""
    c = t.competencies
    found = sa.select(c.c.name, c.c.level).where(c.c.actor_id == actor_id)
    if q.competency.strip():
        prefix = q.competency.strip().lower()[:100]
        prefix = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        found = found.where(c.c.name.like(prefix + "%", escape="\\"))
    if q.level:
        # "at least": an expert is also practised
        found = found.where(c.c.level.in_(LEVELS[LEVELS.index(q.level) :]))
    return found.order_by(_rank(c.c.level).desc(), c.c.name).limit(1)


def _best(q: DirectoryQuery, column: sa.ColumnElement) -> sa.ScalarSelect:
    """One column of the person's best matching competency (correlated to the listed actor)."""
    return _matching(q, t.actors.c.id).with_only_columns(column).scalar_subquery()


def _query(viewer: Viewer, q: DirectoryQuery) -> sa.Select:
    a = t.actors
    by_competency = bool(q.competency.strip() or q.level)
    columns: list[sa.ColumnElement] = [*a.c]
    if by_competency:
        columns += [
            _best(q, t.competencies.c.name).label("competency"),
            _best(q, t.competencies.c.level).label("level"),
        ]
    stmt = sa.select(*columns).where(
        a.c.kind == "person",
        a.c.discoverable.is_(True),
        a.c.suspended.is_(False),
        a.c.silenced.is_(False),
    )
    local_active = sa.and_(
        a.c.domain.is_(None),
        sa.exists(sa.select(1).where(t.users.c.actor_id == a.c.id, t.users.c.state == "active")),
    )
    partners = sa.select(t.partners.c.domain).where(t.partners.c.state == "active")
    organisation = q.organisation.strip().lower()
    if organisation == "here":
        stmt = stmt.where(local_active)
    elif organisation == "all" or (not organisation and by_competency):
        stmt = stmt.where(sa.or_(local_active, a.c.domain.is_not(None)))
    elif organisation:
        stmt = stmt.where(a.c.domain == organisation, a.c.domain.in_(partners))
    else:
        stmt = stmt.where(sa.or_(local_active, a.c.domain.in_(partners)))
    if by_competency:
        stmt = stmt.where(sa.exists(_matching(q, a.c.id)))
    if q.name.strip():
        like = _like(q.name)
        stmt = stmt.where(
            sa.or_(
                a.c.username.like(like, escape="\\"),
                sa.func.lower(a.c.display_name).like(like, escape="\\"),
            )
        )
    if q.community_id is not None:
        community = t.communities.alias("directory_community")
        member = t.follows.alias("directory_member")
        stmt = stmt.where(
            sa.exists(
                sa.select(1)
                .select_from(member.join(community, community.c.actor_id == member.c.target_id))
                .where(
                    community.c.id == q.community_id,
                    member.c.follower_id == a.c.id,
                    member.c.state == "accepted",
                    member_list_visible(viewer, community),
                )
            )
        )
    if q.role_id is not None:
        role_community = t.communities.alias("directory_role_community")
        stmt = stmt.where(
            sa.exists(
                sa.select(1)
                .select_from(
                    t.role_holders.join(t.roles, t.roles.c.id == t.role_holders.c.role_id).join(
                        role_community, role_community.c.id == t.roles.c.community_id
                    )
                )
                .where(
                    t.role_holders.c.role_id == q.role_id,
                    t.role_holders.c.actor_id == a.c.id,
                    t.role_holders.c.state == "held",
                    member_list_visible(viewer, role_community),
                )
            )
        )
    return stmt


async def find(
    conn: AsyncConnection, viewer: Viewer, query: DirectoryQuery
) -> tuple[list[sa.Row], bool]:
    """A page of people (by display name, then handle) and whether another page follows."""
    q = query.checked()
    a = t.actors
    name = sa.func.lower(sa.func.coalesce(sa.func.nullif(a.c.display_name, ""), a.c.username))
    stmt = _query(viewer, q)
    order: list[sa.ColumnElement] = [name, a.c.id]
    if q.competency.strip() or q.level:
        # the expression itself: PostgreSQL orders by an output name only when it stands alone
        order.insert(0, _rank(_best(q, t.competencies.c.level)).desc())
    stmt = stmt.order_by(*order).limit(PAGE + 1).offset((q.page - 1) * PAGE)
    rows = list(await conn.execute(stmt))
    return rows[:PAGE], len(rows) > PAGE


@dataclass(frozen=True)
class Choices:
    """What the directory's filters offer: communities whose members the viewer may see, their
    roles, and the organisations."""

    communities: list[tuple[int, str]]
    roles: list[tuple[int, str]]
    organisations: list[str]


async def choices(conn: AsyncConnection, viewer: Viewer) -> Choices:
    c = t.communities
    communities = [
        (r.id, r.name)
        for r in await conn.execute(
            sa.select(c.c.id, c.c.name)
            .where(c.c.local.is_(True), member_list_visible(viewer))
            .order_by(sa.func.lower(c.c.name))
            .limit(500)
        )
    ]
    roles = [
        (r.id, f"{r.name} ({r.community})")
        for r in await conn.execute(
            sa.select(t.roles.c.id, t.roles.c.name, c.c.name.label("community"))
            .join(c, c.c.id == t.roles.c.community_id)
            .where(c.c.local.is_(True), member_list_visible(viewer))
            .order_by(sa.func.lower(c.c.name), sa.func.lower(t.roles.c.name))
            .limit(500)
        )
    ]
    organisations = [
        r[0]
        for r in await conn.execute(
            sa.select(t.partners.c.domain)
            .where(t.partners.c.state == "active")
            .order_by(t.partners.c.domain)
        )
    ]
    return Choices(communities, roles, organisations)
