"""``/api/v1/instance``, ``/api/v2/instance``, peers, custom emojis and preferences."""

from __future__ import annotations

from aiohttp import web

import server
from server.api.auth import authenticate
from server.api.common import ctx, json
from server.api.entities import MASTODON_VISIBILITY
from server.api.present import account_json
from server.services import instance_facts, media, posts, push
from server.visibility import Audience

routes = web.RouteTableDef()

VERSION = f"4.3.0 (compatible; Koers {server.__version__})"


def _configuration(request: web.Request) -> dict:
    settings = ctx(request).settings
    ws = settings.url.replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    return {
        "urls": {"streaming": ws, "status": None},
        "vapid": {"public_key": push.vapid_public_key(settings)},
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 5},
        "statuses": {
            "max_characters": posts.MAX_CHARS,
            "max_media_attachments": posts.MAX_MEDIA,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": sorted(set(media.MIME_TYPES.values()) | {"image/gif"}),
            "image_size_limit": media.MAX_IMAGE_BYTES,
            "image_matrix_limit": media.MAX_PIXELS,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
            "description_limit": media.MAX_DESCRIPTION,
        },
        "polls": {
            "max_options": posts.MAX_POLL_OPTIONS,
            "max_characters_per_option": posts.MAX_POLL_OPTION_CHARS,
            "min_expiration": posts.POLL_MIN_SECONDS,
            "max_expiration": posts.POLL_MAX_SECONDS,
        },
        "translation": {"enabled": False},
    }


async def _facts(request: web.Request) -> dict:
    c = ctx(request)
    async with c.db.read() as conn:
        facts = await instance_facts.count_facts(conn)
        contact = (
            await account_json(conn, c, facts.admin_actor_id)
            if facts.admin_actor_id is not None
            else None
        )
    return {
        "users": facts.users,
        "statuses": facts.statuses,
        "domains": facts.domains,
        "contact": contact,
        "email": facts.admin_email,
    }


@routes.get("/api/v1/instance")
@routes.get("/api/v1/instance/")
async def instance_v1(request: web.Request) -> web.Response:
    s = ctx(request).settings
    f = await _facts(request)
    return json(
        {
            "uri": s.domain,
            "title": s.instance_name,
            "short_description": "A Koers community-of-purpose server",
            "description": f"{s.instance_name}: a Koers community-of-purpose server",
            "email": f["email"],
            "version": VERSION,
            "urls": {"streaming_api": _configuration(request)["urls"]["streaming"]},
            "stats": {
                "user_count": f["users"],
                "status_count": f["statuses"],
                "domain_count": f["domains"],
            },
            "thumbnail": None,
            "languages": ["en"],
            "registrations": s.registrations != "closed",
            "approval_required": s.registrations == "approval",
            "invites_enabled": s.registrations == "invite",
            "configuration": _configuration(request),
            "contact_account": f["contact"],
            "rules": [],
        }
    )


@routes.get("/api/v2/instance")
@routes.get("/api/v2/instance/")
async def instance_v2(request: web.Request) -> web.Response:
    s = ctx(request).settings
    f = await _facts(request)
    return json(
        {
            "domain": s.domain,
            "title": s.instance_name,
            "version": VERSION,
            "source_url": "https://example.org/koers",
            "description": f"{s.instance_name}: a Koers community-of-purpose server",
            "usage": {"users": {"active_month": f["users"]}},
            "thumbnail": {
                "url": f"{s.url}/static/header-missing.png",
                "blurhash": None,
                "versions": {},
            },
            "icon": [],
            "languages": ["en"],
            "configuration": _configuration(request),
            "registrations": {
                "enabled": s.registrations != "closed",
                "approval_required": s.registrations == "approval",
                "message": None,
                "url": None,
            },
            "api_versions": {"mastodon": 2},
            "contact": {"email": f["email"], "account": f["contact"]},
            "rules": [],
        }
    )


@routes.get("/api/v1/instance/peers")
async def peers(request: web.Request) -> web.Response:
    async with ctx(request).db.read() as conn:
        return json(await instance_facts.known_domains(conn))


@routes.get("/api/v1/instance/activity")
@routes.get("/api/v1/instance/rules")
@routes.get("/api/v1/instance/domain_blocks")
@routes.get("/api/v1/custom_emojis")
async def empty_list(request: web.Request) -> web.Response:
    return json([])


@routes.get("/api/v1/preferences")
async def preferences(request: web.Request) -> web.Response:
    auth = await authenticate(request, "read:accounts")
    async with ctx(request).db.read() as conn:
        row = await instance_facts.posting_preferences(conn, auth.user_id)
    audience = Audience(row.default_audience if row else "public")
    return json(
        {
            "posting:default:visibility": MASTODON_VISIBILITY[audience],
            "posting:default:sensitive": False,
            "posting:default:language": row.locale if row else None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
            "koers:default:audience": audience.value,
        }
    )


@routes.get("/api/v1/instance/extended_description")
async def extended_description(request: web.Request) -> web.Response:
    s = ctx(request).settings
    return json(
        {
            "updated_at": None,
            "content": f"<p>{s.instance_name}: a Koers community-of-purpose server.</p>",
        }
    )


@routes.get("/api/v1/instance/translation_languages")
async def translation_languages(request: web.Request) -> web.Response:
    return json({})
