"""A community's roadmap: items with a status, an owner role and an audience; status history kept.

Every read goes through ``visibility.items_visible_to`` / ``can_see_item``. A status change is a
row in ``roadmap_status_changes`` and a ``roadmap.status_changed`` event (an ``Update`` when federated).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server import event_kinds as kinds
from server.context import Context
from server.errors import FieldErrors, Forbidden, NotFound, ValidationError
from server.events import Event
from server.i18n import N_
from server.i18n.current import Labels
from server.i18n.messages import Message
from server.services import notifications, text
from server.services.posts import is_member
from server.storage import schema as t
from server.storage.rows import inserted_id
from server.visibility import ITEM_AUDIENCES, Audience, Viewer, can_see_item, items_visible_to

STATUSES = ("idea", "planned", "in_progress", "done", "dropped")
STATUS_LABELS = Labels(
    {
        "idea": N_("Idea"),
        "planned": N_("Planned"),
        "in_progress": N_("In progress"),
        "done": N_("Done"),
        "dropped": N_("Dropped"),
    }
)
MAX_TITLE = 255
MAX_DESCRIPTION = 10000
MAX_NOTE = 2000


@dataclass(frozen=True, slots=True)
class Item:
    """A roadmap item as pages show it."""

    id: int
    community_id: int
    title: str
    description_html: str
    status: str
    owner_role_id: int | None
    owner_role_name: str | None
    audience: Audience
    author_id: int | None
    uri: str | None
    created_at: datetime
    updated_at: datetime
    purpose_version: int | None = None
    lead_actor_id: int | None = None
    target_date: date | None = None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One recorded status change (``from_status`` is None for the first one)."""

    id: int
    item_id: int
    item_title: str
    from_status: str | None
    to_status: str
    author_username: str | None
    note: str
    created_at: datetime


def _check_status(status: str) -> str:
    if status not in STATUSES:
        raise ValidationError(
            Message("status: one of %(choices)s", choices=", ".join(STATUSES)), field="status"
        )
    return status


def _check_audience(audience: str) -> Audience:
    try:
        value = Audience.parse(audience)
    except ValueError as exc:
        raise ValidationError(str(exc), field="audience") from None
    if value not in ITEM_AUDIENCES:
        raise ValidationError(
            Message(
                "audience of a roadmap item: one of %(choices)s",
                choices=", ".join(a.value for a in ITEM_AUDIENCES),
            ),
            field="audience",
        )
    return value


async def _is_local(conn: AsyncConnection, community_id: int) -> bool:
    """Is the community hosted here (a remote community's roadmap is only mirrored)?"""
    return bool(
        (
            await conn.execute(
                sa.select(t.communities.c.local).where(t.communities.c.id == community_id)
            )
        ).scalar()
    )


async def _may_edit(conn: AsyncConnection, item: sa.Row, actor_id: int) -> bool:
    """Managers, the item's author, an initiative's lead and holders of its owner role may change its
    status; nobody here changes an item of a community hosted elsewhere."""
    if not await _is_local(conn, item.community_id):
        return False
    if actor_id in (item.author_id, item.lead_actor_id):
        return True
    manager = await conn.execute(
        sa.select(1).where(
            t.community_managers.c.community_id == item.community_id,
            t.community_managers.c.actor_id == actor_id,
        )
    )
    if manager.first():
        return True
    if item.owner_role_id is None:
        return False
    holder = await conn.execute(
        sa.select(1).where(
            t.role_holders.c.role_id == item.owner_role_id,
            t.role_holders.c.actor_id == actor_id,
            t.role_holders.c.state == "held",
        )
    )
    return holder.first() is not None


async def create_item(
    ctx: Context,
    actor_id: int,
    community_id: int,
    *,
    title: str,
    description: str = "",
    status: str = "idea",
    owner_role_id: int | None = None,
    audience: str = "public",
    purpose_version: int | None = None,
    lead: bool = False,
    target_date: date | str | None = None,
) -> int:
    """A member adds an item to the roadmap; returns its id. The first status is recorded too.
    ``target_date`` (optional) is when it should be done, a date or a form's YYYY-MM-DD.

    With ``lead`` the item is an initiative and the member its informal lead.
    """
    title = title.strip()
    found = FieldErrors()
    if not title:
        found.add("title", "title: please give the item a title")
    if len(title) > MAX_TITLE:
        found.add("title", Message("title: at most %(num)s characters", num=MAX_TITLE))
    if len(description) > MAX_DESCRIPTION:
        found.add(
            "description", Message("description: at most %(num)s characters", num=MAX_DESCRIPTION)
        )
    with found.check("status"):
        _check_status(status)
    item_audience = Audience.PUBLIC
    with found.check("audience"):
        item_audience = _check_audience(audience)
    target: date | None = None
    with found.check("target_date"):
        target = parse_target(target_date) if isinstance(target_date, str) else target_date
    found.raise_any()
    async with ctx.db.write() as conn:
        handle = (
            await conn.execute(
                sa.select(t.actors.c.username)
                .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
                .where(t.communities.c.id == community_id)
            )
        ).scalar()
        if handle is None:
            raise NotFound("no such community")
        if not await _is_local(conn, community_id):
            raise Forbidden("this community's roadmap is kept on its own instance; add items there")
        if not await is_member(conn, community_id, actor_id):
            raise Forbidden("only members of the community can add to its roadmap")
        if owner_role_id is not None:
            role_community = (
                await conn.execute(
                    sa.select(t.roles.c.community_id).where(t.roles.c.id == owner_role_id)
                )
            ).scalar()
            if role_community != community_id:
                raise ValidationError(
                    "the owner role must be a role of this community", field="owner_role_id"
                )
        if purpose_version is not None:
            if not 1 <= purpose_version <= 2_147_483_647:  # an INTEGER column on PostgreSQL
                raise ValidationError(
                    "no such purpose version in this community", field="purpose_version"
                )
            known = await conn.execute(
                sa.select(1).where(
                    t.purpose_versions.c.community_id == community_id,
                    t.purpose_versions.c.version == purpose_version,
                )
            )
            if not known.first():
                raise ValidationError(
                    "purpose_version: no such version of the purpose", field="purpose_version"
                )
        now = clock.now()
        res = await conn.execute(
            t.roadmap_items.insert().values(
                purpose_version=purpose_version,
                community_id=community_id,
                title=title,
                description_source=description,
                description_html=text.render(description).html if description.strip() else "",
                status=status,
                owner_role_id=owner_role_id,
                audience=item_audience.value,
                author_id=actor_id,
                created_at=now,
                updated_at=now,
                lead_actor_id=actor_id if lead else None,
                target_date=target,
            )
        )
        item_id = inserted_id(res)
        await conn.execute(
            t.roadmap_items.update()
            .where(t.roadmap_items.c.id == item_id)
            .values(uri=urls.roadmap_item(ctx.base, handle, item_id))
        )
        await conn.execute(
            t.roadmap_status_changes.insert().values(
                item_id=item_id,
                from_status=None,
                to_status=status,
                actor_id=actor_id,
                note="",
                created_at=now,
            )
        )
        event = await ctx.events.emit(
            conn,
            kinds.ROADMAP_CREATED,
            item_id=item_id,
            community_id=community_id,
            actor_id=actor_id,
        )
    await ctx.events.committed(event)
    return item_id


KEEP = object()  # ``edit_item``'s target date when the form does not change it


async def change_status(
    ctx: Context, actor_id: int, item_id: int, status: str, note: str = ""
) -> None:
    """Move an item to another status, recording who, when and why."""
    await edit_item(ctx, actor_id, item_id, status=status, note=note)


async def edit_item(
    ctx: Context,
    actor_id: int,
    item_id: int,
    *,
    status: str,
    note: str = "",
    target_date: date | str | None | object = KEEP,
) -> None:
    """Change an item's status and/or its target date (a form's YYYY-MM-DD; blank clears it),
    every field checked at once. A status change is recorded with who, when and why; either
    change federates as an ``Update`` of the item, which carries its target date."""
    found = FieldErrors()
    with found.check("status"):
        _check_status(status)
    if len(note) > MAX_NOTE:
        found.add("note", Message("note: at most %(num)s characters", num=MAX_NOTE))
    target: date | None | object = KEEP
    with found.check("target_date"):
        target = parse_target(target_date) if isinstance(target_date, str) else target_date
    found.raise_any()
    async with ctx.db.write() as conn:
        item = (
            await conn.execute(sa.select(t.roadmap_items).where(t.roadmap_items.c.id == item_id))
        ).first()
        viewer = Viewer(actor_id=actor_id, local=True)
        if item is None or not await can_see_item(conn, viewer, item_id):
            raise NotFound("no such roadmap item")
        if not await _may_edit(conn, item, actor_id):
            raise Forbidden(
                "only managers, the item's author or its owner role can change its status"
            )
        new_target = target is not KEEP and target != item.target_date
        if item.status == status and not new_target:
            raise ValidationError(
                Message(
                    "status: the item has this status already (%(status)s)", status=label(status)
                ),
                field="status",
            )
        now = clock.now()
        changed: dict[str, object] = {"updated_at": now}
        if new_target:
            changed["target_date"] = target
        if item.status != status:
            changed["status"] = status
        await conn.execute(
            t.roadmap_items.update().where(t.roadmap_items.c.id == item_id).values(**changed)
        )
        if item.status == status:  # only the target date: an Update, no status change recorded
            event = await ctx.events.emit(
                conn,
                kinds.ROADMAP_UPDATED,
                item_id=item_id,
                community_id=item.community_id,
                change_id=f"edit-{int(now.timestamp() * 1000)}",
                actor_id=actor_id,
            )
        else:
            event = await _record_status(conn, ctx, item, actor_id, status, note, now)
    await ctx.events.committed(event)


def label(status: str) -> Message:
    """A status's label as a value of a message, translated where the message is shown."""
    return Message(dict.__getitem__(STATUS_LABELS, status))


async def _record_status(
    conn: AsyncConnection,
    ctx: Context,
    item: sa.Row,
    actor_id: int,
    status: str,
    note: str,
    now: datetime,
) -> Event:
    res = await conn.execute(
        t.roadmap_status_changes.insert().values(
            item_id=item.id,
            from_status=item.status,
            to_status=status,
            actor_id=actor_id,
            note=note.strip(),
            created_at=now,
        )
    )
    if item.author_id is not None:
        await notifications.notify(
            conn,
            item.author_id,
            "koers.roadmap_status",
            from_actor_id=actor_id,
            community_id=item.community_id,
            extra={"item_id": item.id, "status": status},
        )
    return await ctx.events.emit(
        conn,
        kinds.ROADMAP_STATUS_CHANGED,
        item_id=item.id,
        community_id=item.community_id,
        change_id=inserted_id(res),
        from_status=item.status,
        to_status=status,
        actor_id=actor_id,
    )


def _item_select() -> sa.Select:
    ri = t.roadmap_items
    return sa.select(ri, t.roles.c.name.label("owner_role_name")).select_from(
        ri.outerjoin(t.roles, t.roles.c.id == ri.c.owner_role_id)
    )


def _item(r: sa.Row) -> Item:
    return Item(
        id=r.id,
        community_id=r.community_id,
        title=r.title,
        description_html=r.description_html or "",
        status=r.status,
        owner_role_id=r.owner_role_id,
        owner_role_name=r.owner_role_name,
        audience=Audience(r.audience),
        author_id=r.author_id,
        uri=r.uri,
        created_at=clock.aware(r.created_at),
        updated_at=clock.aware(r.updated_at),
        purpose_version=r.purpose_version,
        lead_actor_id=r.lead_actor_id,
        target_date=r.target_date,
    )


async def items(conn: AsyncConnection, viewer: Viewer, community_id: int) -> list[Item]:
    """The items of a community the viewer may see, most recently changed first."""
    rows = await conn.execute(
        _item_select()
        .where(t.roadmap_items.c.community_id == community_id, items_visible_to(viewer))
        .order_by(t.roadmap_items.c.updated_at.desc(), t.roadmap_items.c.id.desc())
    )
    return [_item(r) for r in rows]


def by_target(all_items: list[Item]) -> list[tuple[str, list[Item]]]:
    """The timeline: items with a target date by month ("2027-03"), soonest first, then those
    without one (under "")."""
    months: dict[str, list[Item]] = {}
    for item in sorted(
        (i for i in all_items if i.target_date), key=lambda i: (i.target_date, i.id)
    ):
        assert item.target_date is not None
        months.setdefault(item.target_date.strftime("%Y-%m"), []).append(item)
    undated = [i for i in all_items if i.target_date is None]
    return [*months.items(), *([("", undated)] if undated else [])]


def parse_target(value: str) -> date | None:
    """A form's target date (YYYY-MM-DD, from a date input); blank is none."""
    value = value.strip()
    if not value:
        return None
    try:
        found = date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            "target_date: a date such as 2027-03-31", field="target_date"
        ) from None
    if not 2000 <= found.year <= 2200:
        raise ValidationError("target_date: a date between 2000 and 2200", field="target_date")
    return found


def by_status(all_items: list[Item]) -> dict[str, list[Item]]:
    """Items grouped into the roadmap's columns, in status order."""
    columns: dict[str, list[Item]] = {s: [] for s in STATUSES}
    for item in all_items:
        columns[item.status].append(item)
    return columns


async def get_item(conn: AsyncConnection, viewer: Viewer, community_id: int, item_id: int) -> Item:
    """One item of this community the viewer may see, or NotFound (hidden items do not exist)."""
    row = (
        await conn.execute(
            _item_select().where(
                t.roadmap_items.c.id == item_id,
                t.roadmap_items.c.community_id == community_id,
                items_visible_to(viewer),
            )
        )
    ).first()
    if row is None:
        raise NotFound("no such roadmap item")
    return _item(row)


async def item_id_by_uri(conn: AsyncConnection, uri: str | None) -> int | None:
    """The id of the roadmap item (ours or a remote copy) whose ActivityPub id is ``uri``."""
    if not uri:
        return None
    found = (
        await conn.execute(sa.select(t.roadmap_items.c.id).where(t.roadmap_items.c.uri == uri))
    ).scalar()
    return None if found is None else int(found)


async def may_change(conn: AsyncConnection, item: Item, actor_id: int | None) -> bool:
    """Whether the status form should be offered to this actor."""
    if actor_id is None:
        return False
    row = (
        await conn.execute(sa.select(t.roadmap_items).where(t.roadmap_items.c.id == item.id))
    ).first()
    return row is not None and await _may_edit(conn, row, actor_id)


def _changes_select() -> sa.Select:
    sc = t.roadmap_status_changes
    return (
        sa.select(
            sc,
            t.roadmap_items.c.title.label("item_title"),
            t.actors.c.username.label("author_username"),
        )
        .join(t.roadmap_items, t.roadmap_items.c.id == sc.c.item_id)
        .outerjoin(t.actors, t.actors.c.id == sc.c.actor_id)
    )


def _change(r: sa.Row) -> StatusChange:
    return StatusChange(
        id=r.id,
        item_id=r.item_id,
        item_title=r.item_title,
        from_status=r.from_status,
        to_status=r.to_status,
        author_username=r.author_username,
        note=r.note or "",
        created_at=clock.aware(r.created_at),
    )


async def history(conn: AsyncConnection, item_id: int) -> list[StatusChange]:
    """Every status change of an item, oldest first (callers checked the item is visible)."""
    rows = await conn.execute(
        _changes_select()
        .where(t.roadmap_status_changes.c.item_id == item_id)
        .order_by(t.roadmap_status_changes.c.id)
    )
    return [_change(r) for r in rows]


async def recent_changes(
    conn: AsyncConnection, viewer: Viewer, community_id: int, *, limit: int = 10
) -> list[StatusChange]:
    """The latest status changes of the items the viewer may see (the community page's activity)."""
    rows = await conn.execute(
        _changes_select()
        .where(t.roadmap_items.c.community_id == community_id, items_visible_to(viewer))
        .order_by(t.roadmap_status_changes.c.id.desc())
        .limit(limit)
    )
    return [_change(r) for r in rows]


def item_from_row(r: sa.Row) -> Item:
    """An ``Item`` from a row of ``roadmap_items`` with ``owner_role_name`` (for other services' queries)."""
    return _item(r)
