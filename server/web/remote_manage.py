"""``/c/{handle}@{host}/manage``: a manager who lives here manages a community hosted elsewhere.

Join requests are read live from the community's home (its requests collection, fetched signed as
the manager, who alone may read it); approving or declining one, and moving a roadmap item to
another status, is sent to the Group signed by the manager (``activitypub/remote_management.py``).
The home applies it when the activity arrives, so the page says "sent", not "done".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from federation.actors import fetch_signed
from federation.errors import FederationError
from server.activitypub.communities import management as remote_management
from server.activitypub.core.remote_sync import collection_items
from server.activitypub.roadmap import management as roadmap_management
from server.errors import Forbidden, KoersError, NotFound, ValidationError
from server.http.language import request_language
from server.http.pages import flash, form, redirect, render, require_user, viewer
from server.i18n import gettext, use
from server.i18n.messages import Message
from server.keys import CTX
from server.services import communities, remote_communities, roadmap
from server.services.insights import ACTIVITY_KINDS
from server.services.remote_communities import RemoteCommunity
from server.web.insight_charts import bar_chart, line_chart
from server.web.insights import KIND_LABELS, PROFILE_LABELS, compare_totals

routes = web.RouteTableDef()

COMMUNITY = r"/c/{handle:[A-Za-z0-9_]+}@{host:[A-Za-z0-9.\-]+(?::\d+)?}"
BASE = COMMUNITY + "/manage"
WEEKS = (4, 8, 12, 26, 52)
PROFILES = ("catalyst", "engager", "responder", "broadcaster", "observer")


async def _managed(request: web.Request) -> tuple[Any, RemoteCommunity]:
    """The logged-in manager and the remote community; Forbidden for anyone else."""
    user = await require_user(request)
    async with request.app[CTX].db.read() as conn:
        rc = await remote_communities.find(
            conn, request.match_info["handle"], request.match_info["host"]
        )
        if rc.community is None or not await communities.is_manager(conn, rc.community.id, user.id):
            raise Forbidden("only this community's managers can manage it")
    return user, rc


async def _requests(
    request: web.Request, rc: RemoteCommunity, manager_id: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The pending join requests as the home reports them, or an explanation why they are unknown."""
    try:
        doc = await fetch_signed(
            request.app, f"{rc.uri}/requests", as_actor=manager_id, refresh=True
        )
    except FederationError as exc:
        return [], f"The join requests could not be read from {rc.domain}: {exc}"
    items = [
        i for i in collection_items(doc) if isinstance(i, dict) and isinstance(i.get("actor"), str)
    ]
    return items, None


async def _page(
    request: web.Request, *, status: int = 200, error: str | None = None
) -> web.Response:
    user, rc = await _managed(request)
    assert rc.community is not None
    pending, unreadable = await _requests(request, rc, user.id)
    async with request.app[CTX].db.read() as conn:
        items = await roadmap.items(conn, await viewer(request), rc.community.id)
    return await render(
        request,
        "community_remote_manage.html",
        status=status,
        rc=rc,
        requests=pending,
        requests_error=unreadable,
        items=[i for i in items if i.uri],
        statuses=roadmap.STATUSES,
        labels=roadmap.STATUS_LABELS,
        error=error,
        remote_manager=True,
    )


@routes.get(BASE)
async def manage_page(request: web.Request) -> web.Response:
    """Join requests and roadmap statuses of a remote community, for its managers here."""
    return await _page(request)


@routes.post(BASE + "/requests")
async def decide_request(request: web.Request) -> web.Response:
    """Approve or decline one join request; the decision goes to the community's home."""
    await require_user(request)
    data = await form(request)  # the CSRF token is checked before anything is looked up
    user, rc = await _managed(request)
    assert rc.community is not None
    decision = data.get("decision")
    if decision not in ("accept", "reject"):
        return await _page(request, status=400, error="Choose to approve or decline the request.")
    follow = {"id": data.get("follow_id"), "actor": data.get("actor")}
    try:
        await remote_management.send_join_decision(
            request.app[CTX], user.id, rc.community.id, follow, accept=decision == "accept"
        )
    except KoersError as exc:
        return await _page(request, status=exc.status, error=exc.message)
    flash(request, Message("Your decision was sent to %(domain)s.", domain=rc.domain))
    raise redirect(f"{rc.path}/manage")


@routes.post(BASE + r"/roadmap/{item_id:\d+}")
async def item_status(request: web.Request) -> web.Response:
    """Move one roadmap item to another status at the community's home."""
    await require_user(request)
    data = await form(request)
    user, rc = await _managed(request)
    assert rc.community is not None
    try:
        item_id = int(request.match_info["item_id"])
        if item_id > 2**31 - 1:
            raise NotFound("no such roadmap item")
        await roadmap_management.send_item_status(
            request.app[CTX],
            user.id,
            rc.community.id,
            item_id,
            str(data.get("status", "")),
            str(data.get("note", "")),
        )
    except KoersError as exc:
        return await _page(request, status=exc.status, error=exc.message)
    flash(request, Message("The new status was sent to %(domain)s.", domain=rc.domain))
    raise redirect(f"{rc.path}/manage")


@routes.get(COMMUNITY + "/insights")
async def insights_page(request: web.Request) -> web.Response:
    """The community's insights for its managers here, read from its home (signed as the manager)."""
    user, rc = await _managed(request)
    raw = request.query.get("weeks", "12")
    if raw not in {str(w) for w in WEEKS}:
        raise ValidationError("weeks: one of " + ", ".join(str(w) for w in WEEKS), field="weeks")
    data: dict[str, Any] | None = None
    problem = None
    try:
        data = await fetch_signed(
            request.app, f"{rc.uri}/insights?weeks={raw}", as_actor=user.id, refresh=True
        )
    except FederationError as exc:
        problem = f"The insights could not be read from {rc.domain}: {exc}"
    charts: dict[str, Any] = {}
    if data is not None:
        try:  # another server's answer: keep only what is understood, with the types expected
            with use(request_language(request, user)):  # the charts' and comparison's words
                data, charts = _readable_insights(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            problem, data = f"{rc.domain} did not answer insights this instance can read.", None
    return await render(
        request,
        "community_remote_insights.html",
        rc=rc,
        data=data,
        problem=problem,
        weeks=int(raw),
        week_choices=WEEKS,
        remote_manager=True,
        **charts,
    )


def _person(raw: dict[str, Any]) -> dict[str, Any]:
    account = raw["account"]
    url = str(
        account.get("url") or ""
    )  # linked on our page: a web address, never a javascript:/data: one
    return {
        "account": {
            "id": str(account["id"]),
            "acct": str(account["acct"]),
            "url": url if url.startswith(("https://", "http://")) else "",
            "display_name": str(account.get("display_name") or ""),
            "username": str(account.get("username") or ""),
        },
        "profile": str(raw.get("profile") or "observer"),
        "leader": bool(raw.get("leader")),
        "informal": bool(raw.get("informal")),
        "posts": int(raw.get("posts") or 0),
        "responders": int(raw.get("responders") or 0),
        "centrality": float(raw.get("centrality") or 0.0),
    }


def _readable_insights(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parts of a remote insights document the page shows, and its charts; errors on anything odd."""
    if not isinstance(raw["weeks"], list) or not isinstance(raw["people"], list):
        raise TypeError("weeks and people: lists expected")
    labels = [str(w)[5:10] for w in raw["weeks"]]
    if not labels or len(labels) > 60:
        raise ValueError("weeks: 1 to 60 expected")
    counts = {p: int((raw.get("profile_counts") or {}).get(p, 0)) for p in PROFILES}
    weekly = {
        str(k): [int(v) for v in vals] for k, vals in (raw.get("weekly_activity") or {}).items()
    }
    data = {
        "people": [_person(p) for p in raw["people"]],
        "quiet": [str(i) for i in raw.get("quiet") or []],
        "opted_out": int(raw.get("opted_out") or 0),
        "outsiders": int(raw.get("outsiders") or 0),
        **_previous_period(raw),
    }
    charts = {
        "profiles_chart": bar_chart(
            "chart-profiles",
            gettext("Members by profile"),
            gettext("How many named members have each profile: %(counts)s.")
            % {"counts": ", ".join(f"{PROFILE_LABELS[p]} {counts[p]}" for p in PROFILES)},
            [(PROFILE_LABELS[p], counts[p]) for p in PROFILES],
        ),
        "weekly_chart": line_chart(
            "chart-weekly",
            gettext("Activity per week"),
            gettext("Posts and interactions per week over %(weeks)s weeks.")
            % {"weeks": len(labels)},
            labels,
            {
                KIND_LABELS[k] if k in ACTIVITY_KINDS else k: v
                for k, v in weekly.items()
                if len(v) == len(labels) and any(v)
            },
        ),
    }
    return data, charts


def _previous_period(raw: dict[str, Any]) -> dict[str, Any]:
    """The period comparison from a partner's totals (``comparison``, ``previous_since``,
    ``previous_until``); nothing when its instance sends no previous period."""
    prev = raw.get("previous")
    if prev is None or "active" not in raw:
        return {"comparison": []}
    if not isinstance(prev, dict):
        raise TypeError("previous: an object expected")

    def totals(found: object) -> dict[str, int]:
        if not isinstance(found, dict):
            raise TypeError("totals: an object expected")
        return {k: int(found.get(k) or 0) for k in ACTIVITY_KINDS}

    return {
        "comparison": compare_totals(
            int(raw["active"]),
            totals(raw.get("totals")),
            int(prev["active"]),
            totals(prev["totals"]),
        ),
        "previous_since": datetime.fromisoformat(str(prev["since"])),
        "previous_until": datetime.fromisoformat(str(prev["until"])),
    }
