"""``/api/v1/notifications``: list (``types[]``, ``exclude_types[]``), get, clear, dismiss.

Koers' own types (``koers.role_assigned``, ``koers.result`` …) come as themselves only to clients
that name them in ``types[]``: Mastodon apps stumble over types they do not know. To the others they
degrade to what Mastodon has (``koers.type`` keeps the real kind):

- about a post (a purpose proposal, a decision opened with its poll, a result, an idea and its
  outcome): ``status``, with that post, as when someone one follows with the bell on posts;
- a purpose decision closed: ``poll``, with the decision's poll, as when a poll one took part in ends;
- the rest (a role given, a join approved, an event RSVP answered, a roadmap status, a role's term
  ended …) have no Mastodon entity and are left out, as Mastodon leaves out what it has no type for.
"""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from server import clock
from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json, link_header, page, path_id
from server.api.present import accounts_by_id, statuses_json
from server.errors import NotFound, ValidationError
from server.services import inbox_notifications as inbox
from server.visibility import Viewer

routes = web.RouteTableDef()
ID = r"{id:\d+}"
# Koers kinds and the Mastodon type they degrade to for apps that did not ask for them by name.
DEGRADED = {
    "koers.proposal": "status",
    "koers.decision_opened": "status",
    "koers.result": "status",
    "koers.idea": "status",
    "koers.idea_update": "status",
    "koers.decision_closed": "poll",
}


def with_degraded(types: Iterable[str]) -> list[str]:
    """``types`` (Mastodon's own) plus the Koers kinds shown to Mastodon apps as one of them."""
    named = list(types)
    return named + [
        kind for kind, shown_as in DEGRADED.items() if shown_as in named and kind not in named
    ]


async def render_notifications(
    conn, c, viewer: Viewer, rows, *, named: Iterable[str] = ()
) -> list[dict]:
    """Mastodon Notification entities for notification rows (also used by the streaming API).

    Koers kinds not in ``named`` degrade to their Mastodon type (``DEGRADED``) with their status, or
    are left out when they have none.
    """
    named = set(named)
    polls = await inbox.decision_polls(conn, rows)
    post_of = {r.id: r.post_id or polls.get(r.id) for r in rows}
    senders = ((r.from_actor_id or viewer.actor_id) for r in rows)
    actor_ids = list(dict.fromkeys(a for a in senders if a is not None))
    accounts = {int(a["id"]): a for a in await accounts_by_id(conn, c, actor_ids)}
    post_ids = list(dict.fromkeys(p for p in post_of.values() if p))
    # A notification whose status a "hide" filter matches is left out, as Mastodon does.
    statuses = {
        int(s["id"]): s
        for s in await statuses_json(conn, c, viewer, post_ids, context="notifications")
    }
    out = []
    for r in rows:
        sender = r.from_actor_id or viewer.actor_id
        account = accounts.get(sender) if sender is not None else None
        koers = r.type.startswith("koers.")
        shown_as = r.type if not koers or r.type in named else DEGRADED.get(r.type)
        post_id = post_of[r.id] if shown_as != r.type else r.post_id
        status = statuses.get(post_id) if post_id else None
        if (
            account is None
            or shown_as is None
            or (post_id and status is None)
            or (shown_as != r.type and status is None)
        ):
            continue
        item = {
            "id": str(r.id),
            "type": shown_as,
            "created_at": clock.iso(r.created_at),
            "account": account,
            "status": status,
            "group_key": f"ungrouped-{r.id}",
        }
        if koers:
            item["koers"] = {
                "type": r.type,
                "community_id": str(r.community_id) if r.community_id else None,
                **(r.extra or {}),
            }
        out.append(item)
    return out


async def _listed(conn, c, request: web.Request, viewer: Viewer) -> tuple[list[int], list[dict]]:
    """The page of notifications asked for, Koers kinds degraded for Mastodon apps (see the module)."""
    p = await params.read(request)
    types, exclude = p.list("types"), p.list("exclude_types")
    ids = await inbox.list_ids(
        conn,
        viewer,
        page(p, default=40, maximum=80),
        types=with_degraded(types or inbox.MASTODON_TYPES),
        exclude=with_degraded(exclude),
        from_account=p.id("account_id"),
    )
    return ids, await render_notifications(
        conn, c, viewer, await inbox.rows(conn, ids), named=types
    )


@routes.get("/api/v1/notifications")
async def list_notifications(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:notifications")
    c = ctx(request)
    async with c.db.read() as conn:
        ids, body = await _listed(conn, c, request, auth.viewer)
    return json(body, headers=link_header(request, ids, c.base))


@routes.get("/api/v1/notifications/unread_count")
async def unread(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:notifications")
    async with ctx(request).db.read() as conn:
        return json({"count": await inbox.unread_count(conn, auth.viewer, also=DEGRADED)})


@routes.get(f"/api/v1/notifications/{ID}")
async def get_notification(request: web.Request) -> web.Response:
    auth = await user_auth(request, "read:notifications")
    c = ctx(request)
    async with c.db.read() as conn:
        row = await inbox.get(conn, auth.viewer, path_id(request))
        # A Mastodon app fetching one it was shown gets the same; a Koers kind without a Mastodon form, itself.
        body = await render_notifications(
            conn, c, auth.viewer, [row], named=() if row.type in DEGRADED else (row.type,)
        )
    if not body:
        raise NotFound("Record not found")
    return json(body[0])


@routes.post("/api/v1/notifications/clear")
async def clear(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:notifications")
    await inbox.dismiss(ctx(request), auth.actor_id)
    return json({})


@routes.post(f"/api/v1/notifications/{ID}/dismiss")
async def dismiss(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:notifications")
    await inbox.dismiss(ctx(request), auth.actor_id, path_id(request))
    return json({})


@routes.post("/api/v1/notifications/dismiss")
async def dismiss_v0(request: web.Request) -> web.Response:
    auth = await user_auth(request, "write:notifications")
    p = await params.read(request)
    notification_id = p.id("id")
    if notification_id is None:
        raise ValidationError("id: required", field="id")
    await inbox.dismiss(ctx(request), auth.actor_id, notification_id)
    return json({})


@routes.get("/api/v2/notifications")
async def grouped_notifications(request: web.Request) -> web.Response:
    """Mastodon 4.3's grouped notifications; Koers does not group, so each group holds one."""
    auth = await user_auth(request, "read:notifications")
    c = ctx(request)
    async with c.db.read() as conn:
        ids, items = await _listed(conn, c, request, auth.viewer)
    accounts = {i["account"]["id"]: i["account"] for i in items}
    statuses = {i["status"]["id"]: i["status"] for i in items if i["status"]}
    groups = [
        {
            "group_key": i["group_key"],
            "notifications_count": 1,
            "type": i["type"],
            "most_recent_notification_id": i["id"],
            "page_min_id": i["id"],
            "page_max_id": i["id"],
            "latest_page_notification_at": i["created_at"],
            "sample_account_ids": [i["account"]["id"]],
            "status_id": i["status"]["id"] if i["status"] else None,
        }
        for i in items
    ]
    return json(
        {
            "accounts": list(accounts.values()),
            "statuses": list(statuses.values()),
            "notification_groups": groups,
        },
        headers=link_header(request, ids, c.base),
    )
