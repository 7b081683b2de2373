"""Local accounts: sign-up by registration mode, login with a throttle, profiles and competencies."""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.ext.asyncio import AsyncConnection

from server import clock, urls
from server import event_kinds as kinds
from server.config import Settings
from server.errors import Conflict, FieldErrors, Forbidden, NotFound, ValidationError
from server.i18n.messages import Message
from server.services import hot_rows, login_throttle, mail_members, text
from server.services.keys import generate_key_pair
from server.storage import schema as t
from server.storage.db import Database
from server.storage.rows import inserted_id
from server.visibility import Audience

if TYPE_CHECKING:
    from server.events import EventHub

log = logging.getLogger(__name__)

USERNAME_RE = re.compile(r"^[a-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
RESERVED = {
    "admin",
    "actor",
    "api",
    "oauth",
    "users",
    "communities",
    "c",
    "tags",
    "media",
    "static",
    "login",
    "logout",
    "signup",
    "settings",
    "inbox",
    "outbox",
    "well-known",
    "nodeinfo",
    "instance",
    "koers",
    "root",
    "support",
    "about",
    "explore",
    "people",
    "feeds",
}
COMPETENCY_LEVELS = ("learning", "practised", "expert")
MAX_FIELDS = 4
MAX_COMPETENCIES = 30
MAX_BIO = 5000
LOGIN_MAX_FAILURES = login_throttle.PAIR_FREE  # failures of one (login, address) before a wait

_hasher = PasswordHasher()


@dataclass(frozen=True, slots=True)
class Account:
    user_id: int
    actor_id: int
    username: str


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Does ``password`` match the stored hash (False for a malformed hash too)?"""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationError("username: 1–30 letters a–z, digits or _", field="username")
    if name in RESERVED:
        raise ValidationError(
            Message("username: %(name)s is kept for the site itself; choose another", name=name),
            field="username",
        )
    return name


def check_password(password: str) -> str:
    if len(password) < 8:
        raise ValidationError("password: at least 8 characters", field="password")
    if len(password) > 1024:
        raise ValidationError("password: at most 1024 characters", field="password")
    return password


def check_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > 320 or not EMAIL_RE.match(value):
        raise ValidationError(
            "email: not a valid address; write it as name@example.org", field="email"
        )
    return value


def check_new_account(
    username: str, email: str, password: str, found: FieldErrors | None = None
) -> tuple[str, str]:
    """The username and address of a new account as stored, after checking all three fields at
    once: every error is raised together (or noted in ``found``, raised by the caller)."""
    errors = found if found is not None else FieldErrors()
    with errors.check("username"):
        username = check_username(username)
    with errors.check("email"):
        email = check_email(email)
    with errors.check("password"):
        check_password(password)
    if found is None:
        errors.raise_any()
    return username, email


async def handle_taken(conn: AsyncConnection, name: str) -> bool:
    row = await conn.execute(
        sa.select(t.actors.c.id).where(t.actors.c.username == name, t.actors.c.domain.is_(None))
    )
    return row.first() is not None


async def insert_local_actor(
    conn: AsyncConnection,
    settings: Settings,
    *,
    kind: str,
    username: str,
    uri: str,
    page_url: str,
    display_name: str = "",
    summary_html: str = "",
    manually_approves: bool = False,
) -> int:
    """Insert a local actor with a fresh key pair; returns its id."""
    private_pem, public_pem = generate_key_pair()
    now = clock.now()
    base = settings.url
    result = await conn.execute(
        t.actors.insert().values(
            uri=uri,
            kind=kind,
            username=username,
            domain=None,
            display_name=display_name,
            summary_html=summary_html,
            url=page_url,
            inbox=f"{uri}/inbox",
            shared_inbox=f"{base}/inbox",
            outbox=f"{uri}/outbox",
            followers_url=f"{uri}/followers",
            following_url=f"{uri}/following",
            featured_url=f"{uri}/featured",
            key_id=f"{uri}#main-key",
            public_key_pem=public_pem,
            private_key_pem=private_pem,
            fields=[],
            extra={},
            manually_approves_followers=manually_approves,
            created_at=now,
            updated_at=now,
        )
    )
    return inserted_id(result)


async def create_account(
    db: Database,
    settings: Settings,
    *,
    username: str,
    email: str,
    password: str,
    display_name: str = "",
    is_admin: bool = False,
    state: str = "active",
    reason: str = "",
    invite_code: str | None = None,
    confirm_email: bool = False,
) -> Account:
    """Create a member: a ``Person`` actor with its key pair and a login. All or nothing.

    ``confirm_email`` (a sign-up on the web): the address is unconfirmed and a link is mailed to it.
    """
    username, email = check_new_account(username, email, password)
    display_name = display_name.strip()[:100]
    password_hash = hash_password(password)
    try:
        user_id, actor_id = await _insert_account(
            db,
            settings,
            username,
            email,
            password_hash,
            display_name,
            is_admin,
            state,
            reason,
            invite_code,
            confirm_email,
        )
    except sa.exc.IntegrityError:
        # Two sign-ups raced past the checks below (PostgreSQL writes concurrently): one wins.
        raise Conflict(
            "this username or email was taken a moment ago; choose another", field="username"
        ) from None
    log.info("account %s created (state %s%s)", username, state, ", admin" if is_admin else "")
    return Account(user_id, actor_id, username)


async def _insert_account(
    db: Database,
    settings: Settings,
    username: str,
    email: str,
    password_hash: str,
    display_name: str,
    is_admin: bool,
    state: str,
    reason: str,
    invite_code: str | None,
    confirm_email: bool = False,
) -> tuple[int, int]:
    async with db.write() as conn:
        taken = FieldErrors()
        if await handle_taken(conn, username):
            taken.add(
                "username",
                Message("username: %(name)s is already taken; choose another", name=username),
            )
        if (await conn.execute(sa.select(t.users.c.id).where(t.users.c.email == email))).first():
            taken.add("email", "email: an account with this address exists already")
        if taken:
            field, message = next(iter(taken.errors.items()))
            raise Conflict(message, field=field, errors=taken.errors)
        if invite_code is not None:
            await use_invite(conn, invite_code)
        actor_id = await insert_local_actor(
            conn,
            settings,
            kind="person",
            username=username,
            uri=urls.person(settings.url, username),
            page_url=urls.person_page(settings.url, username),
            display_name=display_name,
        )
        res = await conn.execute(
            t.users.insert().values(
                actor_id=actor_id,
                email=email,
                password_hash=password_hash,
                is_admin=is_admin,
                state=state,
                signup_reason=reason[:1000],
                default_audience=Audience.PUBLIC.value,
                created_at=clock.now(),
            )
        )
        user_id = inserted_id(res)
        if confirm_email:
            await mail_members.queue_confirmation(conn, settings.url, user_id, email)
        return user_id, actor_id


async def ensure_organization(db: Database, settings: Settings) -> int:
    """The instance's ``Organization`` actor (``@org``): created once, returns its id."""
    uri = urls.organization(settings.url)
    async with db.read() as conn:
        # by its URI first (one index lookup): looking for the kind walks every local actor's
        # row, keys and all, into the connection's page cache at each start
        row = (
            await conn.execute(
                sa.select(t.actors.c.id).where(
                    t.actors.c.uri == uri,
                    t.actors.c.kind == "organization",
                    t.actors.c.domain.is_(None),
                )
            )
        ).first()
        if row is None:  # made under another public URL
            row = (
                await conn.execute(
                    sa.select(t.actors.c.id).where(
                        t.actors.c.kind == "organization", t.actors.c.domain.is_(None)
                    )
                )
            ).first()
    if row:
        return int(row[0])
    async with db.write() as conn:
        row = (
            await conn.execute(
                sa.select(t.actors.c.id).where(
                    t.actors.c.kind == "organization", t.actors.c.domain.is_(None)
                )
            )
        ).first()
        if row:
            return int(row[0])
        return await insert_local_actor(
            conn,
            settings,
            kind="organization",
            username="org",
            uri=uri,
            page_url=settings.url + "/",
            display_name=settings.instance_name,
        )


async def use_invite(conn: AsyncConnection, code: str) -> None:
    row = (await conn.execute(sa.select(t.invites).where(t.invites.c.code == code))).first()
    now = clock.now()
    if row is None:
        raise ValidationError("this invite link is not valid", field="invite")
    if row.expires_at is not None and clock.aware(row.expires_at) < now:
        raise ValidationError("this invite link has expired", field="invite")
    if row.max_uses is not None and row.uses >= row.max_uses:
        raise ValidationError("this invite link has been used up", field="invite")
    await conn.execute(
        t.invites.update().where(t.invites.c.id == row.id).values(uses=t.invites.c.uses + 1)
    )


async def create_invite(
    db: Database, user_id: int, *, max_uses: int | None = 1, days: int | None = 7
) -> str:
    code = secrets.token_urlsafe(12)
    async with db.write() as conn:
        await conn.execute(
            t.invites.insert().values(
                code=code,
                created_by=user_id,
                max_uses=max_uses,
                expires_at=clock.now() + timedelta(days=days) if days else None,
                created_at=clock.now(),
            )
        )
    return code


async def authenticate(db: Database, login: str, password: str, address: str) -> Account:
    """Check a login (email or username) and password, throttled by ``login_throttle``.

    A (login, address) pair with too many recent failures is refused (``RateLimited``) before the
    password is checked; other addresses are never affected, so the owner cannot be locked out.
    """
    name = login.strip().lower()
    await login_throttle.before_attempt(db, name, address)
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.users, t.actors.c.username, t.actors.c.suspended)
                .join(t.actors, t.actors.c.id == t.users.c.actor_id)
                .where(
                    sa.or_(
                        t.users.c.email == name,
                        sa.and_(t.actors.c.username == name, t.actors.c.domain.is_(None)),
                    )
                )
            )
        ).first()
    ok = row is not None and password_matches(row.password_hash, password)
    if not ok:
        await login_throttle.failed(db, name, address)
        raise Forbidden("wrong login or password")
    assert row is not None
    if row.state == "pending":
        raise Forbidden("your account is waiting for approval by an administrator")
    if row.state != "active":
        raise Forbidden("this account is disabled")
    if row.suspended:
        raise Forbidden("this account is suspended; contact the administrators of this server")
    async with db.write() as conn:
        await conn.execute(
            t.users.update().where(t.users.c.id == row.id).values(last_login_at=clock.now())
        )
    await login_throttle.succeeded(db, name, address)
    return Account(row.id, row.actor_id, row.username)


# Built once: every signed-in request of the client API asks it (``verify_credentials``, …).
_USER = (
    sa.select(
        t.actors,
        t.users.c.id.label("user_id"),
        t.users.c.email,
        t.users.c.is_admin,
        t.users.c.is_moderator,
        t.users.c.state.label("user_state"),
        t.users.c.default_audience,
        t.users.c.bio_source,
        t.users.c.bio_format,
        t.users.c.language,
        t.users.c.created_at.label("user_created_at"),
        sa.func.coalesce(t.mail_members.c.unconfirmed, False).label("unconfirmed"),
        t.mail_members.c.sessions_after,
    )
    .join(t.users, t.users.c.actor_id == t.actors.c.id)
    .outerjoin(t.mail_members, t.mail_members.c.user_id == t.users.c.id)
    .where(t.users.c.id == sa.bindparam("user_id", type_=t.Id))
)


async def get_user(conn: AsyncConnection, user_id: int) -> sa.Row | None:
    """A user joined with its actor (all actor columns plus user columns prefixed ``user_``)."""
    return (await conn.execute(_USER, {"user_id": user_id})).first()


async def cached_user(db: Database, user_id: int) -> sa.Row | None:
    """``get_user`` through the members' cache (``hot_rows.users``): pages ask it on every request."""
    cache = hot_rows.users(db.engine.sync_engine)
    return await hot_rows.through(cache, user_id, lambda: db.read(get_user, user_id))


_LOCAL_ACTOR = sa.select(t.actors).where(
    t.actors.c.username == sa.bindparam("username"), t.actors.c.domain.is_(None)
)


async def get_local_actor(conn: AsyncConnection, username: str) -> sa.Row:
    """The local actor (person or community) called ``username``, through ``hot_rows.local_actors``;
    NotFound when there is none or it is suspended."""
    name = username.lower()

    async def load() -> sa.Row | None:
        return (await conn.execute(_LOCAL_ACTOR, {"username": name})).first()

    row = await hot_rows.through(hot_rows.local_actors(hot_rows.engine_of(conn)), name, load)
    if row is None or row.suspended:
        raise NotFound(
            Message("no account or community called %(username)s here", username=repr(username))
        )
    return row


def check_profile(
    *,
    display_name: str | None = None,
    bio: str | None = None,
    bio_format: str | None = None,
    fields: list[tuple[str, str]] | None = None,
    default_audience: str | None = None,
    tag_url=None,
) -> tuple[dict[str, object], dict[str, object]]:
    """The actor and user columns a profile change writes, after checking every field at once
    (all errors raised together); None leaves a setting as it is."""
    found = FieldErrors()
    actor_values: dict[str, object] = {}
    user_values: dict[str, object] = {}
    if display_name is not None:
        if len(display_name) > 100:
            found.add("display_name", "display name: at most 100 characters")
        actor_values["display_name"] = display_name.strip()
    if bio is not None:
        if len(bio) > MAX_BIO:
            found.add("bio", Message("bio: at most %(num)s characters", num=MAX_BIO))
        fmt = bio_format or "markdown"
        if fmt not in ("markdown", "plain"):
            found.add("bio_format", "bio format: markdown or plain")
        elif not found:
            actor_values["summary_html"] = (
                text.render(bio, fmt=fmt, tag_url=tag_url).html if bio.strip() else ""
            )
        user_values["bio_source"] = bio
        user_values["bio_format"] = fmt
    if fields is not None:
        cleaned = [(n.strip(), v.strip()) for n, v in fields if n.strip() or v.strip()]
        if len(cleaned) > MAX_FIELDS:
            found.add("fields", Message("at most %(num)s profile fields", num=MAX_FIELDS))
        if any(not n or len(n) > 255 or len(v) > 255 for n, v in cleaned):
            found.add("fields", "profile fields need a name; names and values up to 255 characters")
        actor_values["fields"] = [
            {"name": n, "value": text.render_plain_field(v), "source": v} for n, v in cleaned
        ]
    if default_audience is not None:
        try:
            Audience.parse(default_audience)
            if default_audience in (Audience.COMMUNITY.value,):
                found.add("default_audience", "the default audience cannot be a single community")
        except ValueError as exc:
            found.add("default_audience", str(exc))
        user_values["default_audience"] = default_audience
    found.raise_any()
    return actor_values, user_values


async def update_profile(
    db: Database,
    user_id: int,
    *,
    display_name: str | None = None,
    bio: str | None = None,
    bio_format: str | None = None,
    fields: list[tuple[str, str]] | None = None,
    default_audience: str | None = None,
    locked: bool | None = None,
    discoverable: bool | None = None,
    bot: bool | None = None,
    avatar_path: str | None = None,
    header_path: str | None = None,
    tag_url=None,
    events: EventHub | None = None,
) -> None:
    """Change profile settings; everything is validated before anything is written.

    With ``events`` (the context's hub) an ``actor.updated`` event is emitted, so federation
    sends an ``Update`` of the Person to remote followers.
    """
    actor_values, user_values = check_profile(
        display_name=display_name,
        bio=bio,
        bio_format=bio_format,
        fields=fields,
        default_audience=default_audience,
        tag_url=tag_url,
    )
    if locked is not None:
        actor_values["manually_approves_followers"] = locked
    if discoverable is not None:
        actor_values["discoverable"] = discoverable
    if bot is not None:
        actor_values["bot"] = bot
    if avatar_path is not None:
        actor_values["avatar_path"] = avatar_path
    if header_path is not None:
        actor_values["header_path"] = header_path
    async with db.write() as conn:
        user = (
            await conn.execute(sa.select(t.users.c.actor_id).where(t.users.c.id == user_id))
        ).first()
        if user is None:
            raise NotFound("no such account")
        if actor_values:
            actor_values["updated_at"] = clock.now()
            await conn.execute(
                t.actors.update().where(t.actors.c.id == user.actor_id).values(**actor_values)
            )
        if user_values:
            await conn.execute(
                t.users.update().where(t.users.c.id == user_id).values(**user_values)
            )
        event = (
            await events.emit(conn, kinds.ACTOR_UPDATED, actor_id=user.actor_id)
            if events and actor_values
            else None
        )
    if events is not None and event is not None:
        await events.committed(event)


def parse_competencies(entries: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Normalise (name, level) pairs: names trimmed and lower-cased, levels checked."""
    out: dict[str, str | None] = {}
    for name, level in entries:
        name = re.sub(r"\s+", " ", name.strip().lower())
        if not name:
            continue
        if len(name) > 100:
            raise ValidationError("competency names: at most 100 characters", field="competencies")
        level = (level or "").strip().lower() or None
        if level is not None and level not in COMPETENCY_LEVELS:
            raise ValidationError(
                Message(
                    "competency level: one of %(choices)s (got %(level)s)",
                    choices=", ".join(COMPETENCY_LEVELS),
                    level=repr(level),
                ),
                field="competencies",
            )
        out[name] = level
    if len(out) > MAX_COMPETENCIES:
        raise ValidationError(
            Message("at most %(num)s competencies", num=MAX_COMPETENCIES), field="competencies"
        )
    return list(out.items())


async def set_competencies(
    db: Database, actor_id: int, entries: list[tuple[str, str | None]]
) -> None:
    """Replace an actor's competencies."""
    cleaned = parse_competencies(entries)
    async with db.write() as conn:
        await conn.execute(t.competencies.delete().where(t.competencies.c.actor_id == actor_id))
        if cleaned:
            await conn.execute(
                t.competencies.insert(),
                [{"actor_id": actor_id, "name": n, "level": lv} for n, lv in cleaned],
            )


async def competencies_of(conn: AsyncConnection, actor_id: int) -> list[sa.Row]:
    return list(
        await conn.execute(
            sa.select(t.competencies.c.name, t.competencies.c.level)
            .where(t.competencies.c.actor_id == actor_id)
            .order_by(t.competencies.c.name)
        )
    )


async def people_with_competency(
    conn: AsyncConnection, name: str, *, limit: int = 50
) -> list[sa.Row]:
    """Discoverable, active actors with a competency (prefix match), experts first."""
    q = name.strip().lower()
    if not q:
        return []
    level_rank = sa.case(
        {"expert": 0, "practised": 1, "learning": 2}, value=t.competencies.c.level, else_=3
    )
    return list(
        await conn.execute(
            sa.select(t.actors, t.competencies.c.name.label("competency"), t.competencies.c.level)
            .join(t.competencies, t.competencies.c.actor_id == t.actors.c.id)
            .where(
                t.competencies.c.name.like(
                    q.replace("%", "").replace("_", r"\_") + "%", escape="\\"
                ),
                t.actors.c.discoverable.is_(True),
                t.actors.c.suspended.is_(False),
                t.actors.c.kind == "person",
            )
            .order_by(level_rank, t.actors.c.username)
            .limit(limit)
        )
    )


async def people_sharing_competencies(
    conn: AsyncConnection, actor_id: int, *, limit: int = 10
) -> list[sa.Row]:
    """People who share the most competencies with this actor (suggestions)."""
    mine = sa.select(t.competencies.c.name).where(t.competencies.c.actor_id == actor_id)
    shared = sa.func.count(t.competencies.c.id).label("shared")
    return list(
        await conn.execute(
            sa.select(t.actors, shared)
            .join(t.competencies, t.competencies.c.actor_id == t.actors.c.id)
            .where(
                t.competencies.c.name.in_(mine),
                t.actors.c.id != actor_id,
                t.actors.c.discoverable.is_(True),
                t.actors.c.suspended.is_(False),
                t.actors.c.kind == "person",
            )
            .group_by(t.actors.c.id)
            .order_by(shared.desc(), t.actors.c.username)
            .limit(limit)
        )
    )


async def approve_user(db: Database, user_id: int) -> None:
    async with db.write() as conn:
        res = await conn.execute(
            t.users.update()
            .where(t.users.c.id == user_id, t.users.c.state == "pending")
            .values(state="active")
        )
        if res.rowcount == 0:
            raise NotFound("no pending account with that id")


async def reject_user(db: Database, user_id: int) -> None:
    async with db.write() as conn:
        row = (
            await conn.execute(
                sa.select(t.users).where(t.users.c.id == user_id, t.users.c.state == "pending")
            )
        ).first()
        if row is None:
            raise NotFound("no pending account with that id")
        await conn.execute(t.users.delete().where(t.users.c.id == user_id))
        await conn.execute(t.actors.delete().where(t.actors.c.id == row.actor_id))


async def list_accounts(db: Database) -> list[sa.Row]:
    async with db.read() as conn:
        return list(
            await conn.execute(
                sa.select(
                    t.actors.c.username,
                    t.users.c.email,
                    t.users.c.is_admin,
                    t.users.c.state,
                    t.users.c.created_at,
                )
                .join(t.actors, t.actors.c.id == t.users.c.actor_id)
                .order_by(t.actors.c.username)
            )
        )


async def pending_signups(db: Database) -> list[sa.Row]:
    """The sign-ups waiting for an administrator, oldest first (with the username asked for)."""
    async with db.read() as conn:
        return list(
            await conn.execute(
                sa.select(
                    t.users.c.id,
                    t.users.c.email,
                    t.users.c.signup_reason,
                    t.users.c.created_at,
                    t.actors.c.username,
                )
                .join(t.actors, t.actors.c.id == t.users.c.actor_id)
                .where(t.users.c.state == "pending")
                .order_by(t.users.c.id)
            )
        )


async def invites_created_by(db: Database, user_id: int, limit: int = 50) -> list[sa.Row]:
    """The newest invite links a member created."""
    async with db.read() as conn:
        return list(
            await conn.execute(
                sa.select(t.invites)
                .where(t.invites.c.created_by == user_id)
                .order_by(t.invites.c.id.desc())
                .limit(limit)
            )
        )
