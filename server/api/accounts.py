"""``/api/v1/accounts``: the caller's own account, profiles, their statuses, followers and following."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.api import params
from server.api.auth import authenticate, user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.entities import MASTODON_VISIBILITY, PRIVACY_TO_AUDIENCE
from server.api.present import account_json, accounts_by_id, statuses_json
from server.errors import NotFound, ValidationError
from server.services import account_lists, accounts, media, search, timelines
from server.visibility import Audience

routes = web.RouteTableDef()
ID = r"{id:\d+}"


async def _credential_account(request: web.Request, user_id: int) -> dict:
    c = ctx(request)

    async def unit(conn: AsyncConnection) -> tuple[Any, dict, int]:
        user = await accounts.get_user(conn, user_id)
        if user is None:
            raise NotFound("Record not found")
        body = await account_json(conn, c, user.id)
        return user, body, await account_lists.count_follow_requests(conn, user.id)

    user, body, pending = await c.db.read(unit)  # one unit: a thread hop, not one per statement
    body["source"] = {
        "privacy": MASTODON_VISIBILITY[Audience(user.default_audience)],
        "sensitive": False,
        "language": None,
        "note": user.bio_source,
        "fields": [
            {
                "name": f.get("name", ""),
                "value": f.get("source", f.get("value", "")),
                "verified_at": None,
            }
            for f in (user.fields or [])
        ],
        "follow_requests_count": pending,
        "koers": {"default_audience": user.default_audience},
    }
    return body


@routes.get("/api/v1/accounts/verify_credentials")
async def verify_credentials(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:accounts", "profile")
    return json(await _credential_account(request, auth.user_id))


async def _image(p: params.Params, name: str) -> bytes | None:
    f = p.files.get(name)
    if f is None:
        return None
    return f.file.read(media.MAX_IMAGE_BYTES + 1)


@routes.patch("/api/v1/accounts/update_credentials")
async def update_credentials(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:accounts")
    p = await params.read(request, files=True)
    c = ctx(request)
    fields = None
    if any(k.startswith("fields_attributes[") for k in p.values):
        fields = [(g.get("name", ""), g.get("value", "")) for g in p.indexed("fields_attributes")]
    privacy = p.str("source[privacy]")
    audience = None
    if privacy is not None:
        audience = PRIVACY_TO_AUDIENCE.get(privacy)
        if audience is None:
            raise ValidationError(
                "source[privacy]: public, unlisted, private, direct, local or partners",
                field="source[privacy]",
            )
    avatar_data, header_data = await _image(p, "avatar"), await _image(p, "header")
    # Validate the text fields first (update_profile writes nothing when one is wrong), then the images.
    avatar = (
        await media.save_profile_image(c, avatar_data, "avatar")
        if avatar_data is not None
        else None
    )
    try:
        header = (
            await media.save_profile_image(c, header_data, "header")
            if header_data is not None
            else None
        )
    except BaseException:  # e.g. a full disk: the avatar just written goes too
        media.delete_files(c.settings, avatar)
        raise
    async with c.db.read() as conn:
        old = await accounts.get_user(conn, auth.user_id)
    try:
        await accounts.update_profile(
            c.db,
            auth.user_id,
            display_name=p.str("display_name"),
            bio=p.str("note"),
            fields=fields,
            default_audience=audience,
            locked=p.bool("locked"),
            bot=p.bool("bot"),
            discoverable=p.bool("discoverable"),
            avatar_path=avatar,
            header_path=header,
            events=c.events,
        )
    except BaseException:
        media.delete_files(c.settings, avatar, header)
        raise
    if old is not None:
        media.delete_files(
            c.settings, old.avatar_path if avatar else None, old.header_path if header else None
        )
    return json(await _credential_account(request, auth.user_id))


@routes.get("/api/v1/accounts/lookup")
async def lookup(request: web.Request) -> web.Response:
    await authenticate(request, "read:accounts", required=False)
    acct = (request.query.get("acct") or "").strip().lstrip("@")
    if not acct:
        raise ValidationError("acct: required", field="acct")
    username, _, domain = acct.partition("@")
    c = ctx(request)
    local = domain.lower() in ("", c.settings.domain.lower(), c.settings.hostname.lower())

    async def unit(conn: AsyncConnection) -> dict:
        actor_id = await account_lists.actor_by_acct(
            conn, username, None if local else domain.lower()
        )
        if actor_id is None:
            raise NotFound("Record not found")
        return await account_json(conn, c, actor_id)

    return json(await c.db.read(unit))


@routes.get(f"/api/v1/accounts/{ID}")
async def get_account(request: web.Request) -> web.Response:
    await authenticate(request, "read:accounts", required=False)
    c = ctx(request)
    actor_id = path_id(request)

    async def unit(conn: AsyncConnection) -> dict:
        await account_lists.visible_actor(conn, actor_id)
        return await account_json(conn, c, actor_id)

    return json(await c.db.read(unit))


@routes.get(f"/api/v1/accounts/{ID}/statuses")
async def account_statuses(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:statuses", required=False)
    p = await params.read(request)
    c = ctx(request)
    actor_id = path_id(request)

    async def unit(conn: AsyncConnection) -> tuple[list[int], list[dict]]:
        await account_lists.visible_actor(conn, actor_id)
        ids = await timelines.profile(
            conn,
            auth.viewer,
            actor_id,
            page(p),
            exclude_replies=bool(p.bool("exclude_replies")),
            exclude_reblogs=bool(p.bool("exclude_reblogs")),
            only_media=bool(p.bool("only_media")),
            tagged=p.str("tagged"),
            pinned=bool(p.bool("pinned")),
        )
        return ids, await statuses_json(conn, c, auth.viewer, ids, context="account")

    ids, body = await c.db.read(unit)
    return json(body, headers=link_header(request, ids, c.base))


async def _follow_list(request: web.Request, *, followers: bool) -> web.Response:
    auth = await authenticate(request, "read:accounts", required=False)
    p = await params.read(request)
    c = ctx(request)
    actor_id = path_id(request)

    async def unit(conn: AsyncConnection) -> tuple[list[int], list[dict]] | None:
        actor = await account_lists.visible_actor(conn, actor_id)
        found = await account_lists.follows_of(
            conn, auth.viewer, actor, page(p), followers=followers
        )
        if found is None:
            return None
        follow_ids, actor_ids = found
        return follow_ids, await accounts_by_id(conn, c, actor_ids)

    answer = await c.db.read(unit)
    if answer is None:
        return json([])
    follow_ids, body = answer
    return json(body, headers=link_header(request, follow_ids, c.base))


@routes.get(f"/api/v1/accounts/{ID}/followers")
async def followers(request: web.Request) -> web.Response:
    return await _follow_list(request, followers=True)


@routes.get(f"/api/v1/accounts/{ID}/following")
async def following(request: web.Request) -> web.Response:
    return await _follow_list(request, followers=False)


@routes.get("/api/v1/accounts/search")
async def search_accounts(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:accounts", required=False)
    p = await params.read(request)
    c = ctx(request)
    async with c.db.read() as conn:
        ids = await search.find_accounts(
            conn,
            c,
            p.str("q") or "",
            limit=max(1, min(p.int("limit", 40) or 40, 80)),
            following_of=auth.actor_id if p.bool("following") else None,
        )
        return json(await accounts_by_id(conn, c, ids))


@routes.get(f"/api/v1/accounts/{ID}/featured_tags")
@routes.get(f"/api/v1/accounts/{ID}/identity_proofs")
@routes.get(f"/api/v1/accounts/{ID}/lists")
async def account_empty(request: web.Request) -> web.Response:
    await authenticate(request, "read", required=False)
    return json([])
