"""``POST /api/v1/reports``: a member reports an account (and some of its posts) to the moderators."""

from __future__ import annotations

from aiohttp import web

from server.api import params
from server.api.auth import user_auth
from server.api.common import ctx, json
from server.api.koers.serialize import iso
from server.api.present import account_json
from server.errors import ValidationError
from server.services import reports

routes = web.RouteTableDef()
CATEGORIES = ("spam", "legal", "violation", "other")


@routes.post("/api/v1/reports")
async def file_report(request: web.Request) -> web.Response:
    """File a report (Mastodon's Report entity in return)."""
    auth = await user_auth(request, "write:reports")
    p = await params.read(request)
    target = p.id("account_id")
    if target is None:
        raise ValidationError("account_id: required", field="account_id")
    category = p.str("category", "other") or "other"
    if category not in CATEGORIES:
        raise ValidationError(f"category: one of {', '.join(CATEGORIES)}", field="category")
    req = reports.ReportRequest(
        target_id=target,
        post_ids=tuple(p.ids("status_ids")),
        comment=p.str("comment", "") or "",
        forward=bool(p.bool("forward", False)),
    )
    c = ctx(request)
    report_id = await reports.create_report(c, auth.actor_id, req)
    async with c.db.read() as conn:
        row = await reports.get_report(conn, report_id)
        account = await account_json(conn, c, target)
    return json(
        {
            "id": str(row.id),
            "action_taken": False,
            "action_taken_at": None,
            "category": category,
            "comment": row.comment,
            "forwarded": bool(row.uri),
            "created_at": iso(row.created_at),
            "status_ids": [str(i) for i in row.post_ids or []] or None,
            "rule_ids": None,
            "target_account": account,
        }
    )
