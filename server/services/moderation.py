"""What administrators and moderators do to accounts and reports, each written to the audit log.

- **suspend**: the member can no longer log in (``pages.current_user`` and the token lookup refuse a
  suspended actor), every token is revoked, the actor document answers 410 Gone and a ``Delete`` of
  the actor federates (``kinds.ACTOR_SUSPENDED``); **unsuspend** reverses it and federates an
  ``Update`` of the actor so other servers fetch it again, as Mastodon does.
- **silence**: the member's posts stay visible to whom they were addressed but leave the public and
  organisation feeds and the directory.
- **promote / demote**: member → moderator → administrator and back.
- **reports**: resolved with an action (none, silence, suspend) and a note, or dismissed.

Moderators may suspend, silence and handle reports; only administrators change roles. The last
administrator cannot be demoted or suspended. The command line acts as the instance itself
(``by=None`` in the log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock
from server import event_kinds as kinds
from server.context import Context
from server.errors import Forbidden, NotFound, ValidationError
from server.i18n import N_
from server.i18n.messages import Message
from server.services import mail_accounts
from server.storage import schema as t

ROLES = ("member", "moderator", "admin")
ACCOUNT_STATES = ("active", "pending", "suspended", "silenced", "staff")
RESOLUTIONS = ("none", "silence", "suspend")
MAX_NOTE = 2000
PAGE = 50


@dataclass(frozen=True)
class Staff:
    """Who acts: an administrator or moderator (``actor_id``), or the command line (None)."""

    actor_id: int | None
    is_admin: bool
    is_moderator: bool = False

    @property
    def can_moderate(self) -> bool:
        return self.is_admin or self.is_moderator


CLI = Staff(actor_id=None, is_admin=True)


@dataclass(frozen=True)
class AccountRow:
    """One local account as the administration pages list it."""

    actor_id: int
    user_id: int
    username: str
    display_name: str
    email: str
    role: str
    state: str
    suspended: bool
    silenced: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    by: str | None
    action: str
    summary: str
    note: str
    created_at: datetime


def role_of(is_admin: bool, is_moderator: bool) -> str:
    return "admin" if is_admin else "moderator" if is_moderator else "member"


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(
            Message("note: at most %(num)s characters", num=MAX_NOTE), field="note"
        )
    return note


def _require_moderator(by: Staff) -> None:
    if not by.can_moderate:
        raise Forbidden("only moderators and administrators can do this")


def _require_admin(by: Staff) -> None:
    if not by.is_admin:
        raise Forbidden("only administrators can do this")


async def audit(
    conn: AsyncConnection,
    by: Staff,
    action: str,
    *,
    summary: str,
    note: str = "",
    target_actor_id: int | None = None,
    target_report_id: int | None = None,
) -> None:
    """Write one line of the audit log (in the transaction of the action it records)."""
    await conn.execute(
        t.admin_actions.insert().values(
            actor_id=by.actor_id,
            action=action,
            target_actor_id=target_actor_id,
            target_report_id=target_report_id,
            summary=summary[:500],
            note=note,
            created_at=clock.now(),
        )
    )


_ACCOUNT_COLUMNS = (
    t.actors.c.id.label("actor_id"),
    t.users.c.id.label("user_id"),
    t.actors.c.username,
    t.actors.c.display_name,
    t.users.c.email,
    t.users.c.is_admin,
    t.users.c.is_moderator,
    t.users.c.state,
    t.actors.c.suspended,
    t.actors.c.silenced,
    t.users.c.created_at,
    t.users.c.last_login_at,
)


def _account(row: sa.Row) -> AccountRow:
    return AccountRow(
        actor_id=row.actor_id,
        user_id=row.user_id,
        username=row.username,
        display_name=row.display_name or "",
        email=row.email,
        role=role_of(row.is_admin, row.is_moderator),
        state=row.state,
        suspended=row.suspended,
        silenced=row.silenced,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


async def find_accounts(
    ctx: Context, *, query: str = "", state: str = "", page: int = 1
) -> tuple[list[AccountRow], bool]:
    """Local accounts matching ``query`` (username, display name or e-mail) in ``state``, by
    username; a page of ``PAGE`` and whether there is another."""
    if state and state not in ACCOUNT_STATES:
        raise ValidationError(
            Message("state: one of %(choices)s", choices=", ".join(ACCOUNT_STATES)), field="state"
        )
    stmt = sa.select(*_ACCOUNT_COLUMNS).join(t.actors, t.actors.c.id == t.users.c.actor_id)
    query = query.strip().lower()[:100]
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(
                t.actors.c.username.like(like, escape="\\"),
                sa.func.lower(t.actors.c.display_name).like(like, escape="\\"),
                t.users.c.email.like(like, escape="\\"),
            )
        )
    if state == "active":
        stmt = stmt.where(t.users.c.state == "active", t.actors.c.suspended.is_(False))
    elif state == "pending":
        stmt = stmt.where(t.users.c.state == "pending")
    elif state == "suspended":
        stmt = stmt.where(t.actors.c.suspended.is_(True))
    elif state == "silenced":
        stmt = stmt.where(t.actors.c.silenced.is_(True))
    elif state == "staff":
        stmt = stmt.where(sa.or_(t.users.c.is_admin.is_(True), t.users.c.is_moderator.is_(True)))
    page = max(1, min(page, 10_000))
    stmt = stmt.order_by(t.actors.c.username).limit(PAGE + 1).offset((page - 1) * PAGE)
    async with ctx.db.read() as conn:
        rows = [_account(r) for r in await conn.execute(stmt)]
    return rows[:PAGE], len(rows) > PAGE


async def get_account(conn: AsyncConnection, username: str) -> AccountRow:
    """The local account called ``username``; NotFound otherwise."""
    row = (
        await conn.execute(
            sa.select(*_ACCOUNT_COLUMNS)
            .join(t.actors, t.actors.c.id == t.users.c.actor_id)
            .where(t.actors.c.username == username.strip().lower().lstrip("@"))
        )
    ).first()
    if row is None:
        raise NotFound(Message("no local account called %(username)s", username=repr(username)))
    return _account(row)


async def account(ctx: Context, username: str) -> AccountRow:
    async with ctx.db.read() as conn:
        return await get_account(conn, username)


async def _admins_left(conn: AsyncConnection, without: int) -> int:
    return (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(t.users.join(t.actors, t.actors.c.id == t.users.c.actor_id))
            .where(
                t.users.c.is_admin.is_(True),
                t.users.c.state == "active",
                t.actors.c.suspended.is_(False),
                t.actors.c.id != without,
            )
        )
    ).scalar_one()


async def suspend(ctx: Context, by: Staff, username: str, note: str = "") -> AccountRow:
    """Suspend a local member: no login, every token revoked, the actor gone for other servers."""
    return await _set_suspended(ctx, by, username, True, note)


async def unsuspend(ctx: Context, by: Staff, username: str, note: str = "") -> AccountRow:
    """Lift a suspension: the member can log in again and other servers fetch the actor anew."""
    return await _set_suspended(ctx, by, username, False, note)


async def _may_suspend(conn: AsyncConnection, by: Staff, found: AccountRow) -> None:
    """Nobody suspends themselves, only an administrator an administrator, and never the last."""
    if found.actor_id == by.actor_id:
        raise ValidationError("you cannot suspend yourself", field="username")
    if found.role == "admin" and not by.is_admin:
        raise Forbidden("only administrators can suspend an administrator")
    if found.role == "admin" and await _admins_left(conn, found.actor_id) == 0:
        raise ValidationError("the last administrator cannot be suspended", field="username")


async def _set_suspended(
    ctx: Context, by: Staff, username: str, suspended: bool, note: str
) -> AccountRow:
    """Suspend (revoking every token) or lift it, audited, with its event for federation."""
    _require_moderator(by)
    note = _note(note)
    async with ctx.db.write() as conn:
        found = await get_account(conn, username)
        if found.suspended == suspended:
            word = N_("already suspended") if suspended else N_("not suspended")
            raise ValidationError(
                Message("@%(username)s is %(word)s", username=found.username, word=Message(word)),
                field="username",
            )
        if suspended:
            await _may_suspend(conn, by, found)
        await conn.execute(
            t.actors.update().where(t.actors.c.id == found.actor_id).values(suspended=suspended)
        )
        if suspended:
            await conn.execute(
                t.oauth_tokens.update()
                .where(
                    t.oauth_tokens.c.user_id == found.user_id, t.oauth_tokens.c.revoked_at.is_(None)
                )
                .values(revoked_at=clock.now())
            )
        await audit(
            conn,
            by,
            "suspend" if suspended else "unsuspend",
            summary=f"@{found.username}",
            note=note,
            target_actor_id=found.actor_id,
        )
        kind = kinds.ACTOR_SUSPENDED if suspended else kinds.ACTOR_UNSUSPENDED
        event = await ctx.events.emit(conn, kind, actor_id=found.actor_id)
    await ctx.events.committed(event)
    return await account(ctx, found.username)


async def set_silenced(
    ctx: Context, by: Staff, username: str, silenced: bool, note: str = ""
) -> AccountRow:
    """Silence (or unsilence) a member: off the public and organisation feeds and the directory."""
    _require_moderator(by)
    note = _note(note)
    async with ctx.db.write() as conn:
        found = await get_account(conn, username)
        if found.silenced == silenced:
            word = N_("already silenced") if silenced else N_("not silenced")
            raise ValidationError(
                Message("@%(username)s is %(word)s", username=found.username, word=Message(word)),
                field="username",
            )
        await conn.execute(
            t.actors.update().where(t.actors.c.id == found.actor_id).values(silenced=silenced)
        )
        await audit(
            conn,
            by,
            "silence" if silenced else "unsilence",
            summary=f"@{found.username}",
            note=note,
            target_actor_id=found.actor_id,
        )
    return await account(ctx, found.username)


async def set_role(ctx: Context, by: Staff, username: str, role: str, note: str = "") -> AccountRow:
    """Make a member a ``member``, ``moderator`` or ``admin`` (administrators only)."""
    _require_admin(by)
    if role not in ROLES:
        raise ValidationError(
            Message("role: one of %(choices)s", choices=", ".join(ROLES)), field="role"
        )
    note = _note(note)
    async with ctx.db.write() as conn:
        found = await get_account(conn, username)
        if found.role == role:
            raise ValidationError(
                Message("@%(username)s is already %(role)s", username=found.username, role=role),
                field="role",
            )
        if found.role == "admin" and await _admins_left(conn, found.actor_id) == 0:
            raise ValidationError("the last administrator cannot be demoted", field="role")
        await conn.execute(
            t.users.update()
            .where(t.users.c.id == found.user_id)
            .values(is_admin=role == "admin", is_moderator=role == "moderator")
        )
        action = "promote" if ROLES.index(role) > ROLES.index(found.role) else "demote"
        await audit(
            conn,
            by,
            action,
            summary=f"@{found.username}: {found.role} → {role}",
            note=note,
            target_actor_id=found.actor_id,
        )
    return await account(ctx, found.username)


async def send_password_reset(ctx: Context, by: Staff, username: str, note: str = "") -> str:
    """Mail a member a password-reset link (administrators only); the address it went to."""
    _require_admin(by)
    note = _note(note)
    found = await account(ctx, username)
    address = await mail_accounts.queue_reset(ctx, found.user_id)
    async with ctx.db.write() as conn:
        await audit(
            conn,
            by,
            "send_reset",
            summary=f"@{found.username}",
            note=note,
            target_actor_id=found.actor_id,
        )
    return address


@dataclass(frozen=True)
class ReportRow:
    id: int
    reporter: str | None
    target: str | None
    target_local: bool
    comment: str
    post_ids: list[int]
    resolved: bool
    resolution: str | None
    resolution_note: str
    created_at: datetime


_REPORTER = t.actors.alias("reporter")
_TARGET = t.actors.alias("target")


def _handle(username: str | None, domain: str | None) -> str | None:
    if username is None:
        return None
    return f"@{username}@{domain}" if domain else f"@{username}"


async def list_reports(ctx: Context, *, resolved: bool = False, page: int = 1) -> list[ReportRow]:
    """Reports, newest first: the open queue, or the resolved ones."""
    page = max(1, min(page, 10_000))
    stmt = (
        sa.select(
            t.reports,
            _REPORTER.c.username.label("reporter_username"),
            _REPORTER.c.domain.label("reporter_domain"),
            _TARGET.c.username.label("target_username"),
            _TARGET.c.domain.label("target_domain"),
        )
        .select_from(
            t.reports.outerjoin(_REPORTER, _REPORTER.c.id == t.reports.c.reporter_id).outerjoin(
                _TARGET, _TARGET.c.id == t.reports.c.target_id
            )
        )
        .where(t.reports.c.resolved.is_(resolved))
        .order_by(t.reports.c.id.desc())
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    )
    async with ctx.db.read() as conn:
        rows = list(await conn.execute(stmt))
    return [
        ReportRow(
            id=r.id,
            reporter=_handle(r.reporter_username, r.reporter_domain),
            target=_handle(r.target_username, r.target_domain),
            target_local=r.target_username is not None and r.target_domain is None,
            comment=r.comment,
            post_ids=list(r.post_ids or []),
            resolved=r.resolved,
            resolution=r.resolution,
            resolution_note=r.resolution_note,
            created_at=r.created_at,
        )
        for r in rows
    ]


async def resolve_report(
    ctx: Context, by: Staff, report_id: int, action: str, note: str = ""
) -> None:
    """Close a report with ``action`` (none = dismissed; silence or suspend its local target)."""
    _require_moderator(by)
    if action not in RESOLUTIONS:
        raise ValidationError(
            Message("action: one of %(choices)s", choices=", ".join(RESOLUTIONS)), field="action"
        )
    note = _note(note)
    async with ctx.db.read() as conn:
        report = (
            await conn.execute(
                sa.select(t.reports, _TARGET.c.username, _TARGET.c.domain)
                .select_from(t.reports.outerjoin(_TARGET, _TARGET.c.id == t.reports.c.target_id))
                .where(t.reports.c.id == report_id)
            )
        ).first()
    if report is None:
        raise NotFound("no such report")
    if report.resolved:
        raise ValidationError("this report is already resolved", field="action")
    if action != "none":
        if report.username is None or report.domain is not None:
            raise ValidationError(
                "only a local account can be silenced or suspended here; block its server "
                "under Federation for a remote one",
                field="action",
            )
        current = await account(ctx, report.username)
        if action == "suspend" and not current.suspended:
            await suspend(ctx, by, report.username, note)
        elif action == "silence" and not current.silenced:
            await set_silenced(ctx, by, report.username, True, note)
    async with ctx.db.write() as conn:
        done = await conn.execute(
            t.reports.update()
            .where(t.reports.c.id == report_id, t.reports.c.resolved.is_(False))
            .values(
                resolved=True,
                resolved_by=by.actor_id,
                resolved_at=clock.now(),
                resolution=action,
                resolution_note=note,
            )
        )
        if done.rowcount == 0:
            raise ValidationError("this report is already resolved", field="action")
        await audit(
            conn,
            by,
            "dismiss_report" if action == "none" else "resolve_report",
            summary=f"report #{report_id}" + (f": {action}" if action != "none" else ""),
            note=note,
            target_actor_id=report.target_id,
            target_report_id=report_id,
        )


async def audit_log(
    ctx: Context,
    *,
    limit: int = 100,
    before: int | None = None,
    target_actor_id: int | None = None,
) -> list[AuditEntry]:
    """The newest entries of the audit log (older than id ``before``, about one account, when
    given)."""
    stmt = (
        sa.select(t.admin_actions, t.actors.c.username)
        .select_from(
            t.admin_actions.outerjoin(t.actors, t.actors.c.id == t.admin_actions.c.actor_id)
        )
        .order_by(t.admin_actions.c.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    if before is not None:
        stmt = stmt.where(t.admin_actions.c.id < before)
    if target_actor_id is not None:
        stmt = stmt.where(t.admin_actions.c.target_actor_id == target_actor_id)
    async with ctx.db.read() as conn:
        rows = list(await conn.execute(stmt))
    return [
        AuditEntry(
            id=r.id,
            by=f"@{r.username}" if r.username else None,
            action=r.action,
            summary=r.summary,
            note=r.note,
            created_at=r.created_at,
        )
        for r in rows
    ]


async def record(ctx: Context, by: Staff, action: str, summary: str, note: str = "") -> None:
    """Log an administrative action done elsewhere (sign-up decisions, invitations …)."""
    async with ctx.db.write() as conn:
        await audit(conn, by, action, summary=summary, note=_note(note))
