"""The administrators' dashboard of the whole organisation (``/admin/insights``): communities,
active members, results, purposes in force and decisions open, this period against the last."""

from __future__ import annotations

from aiohttp import web

from server.http.language import request_language
from server.http.pages import current_user, render, require_admin
from server.i18n import gettext, use
from server.keys import CTX
from server.services import org_insights
from server.services.org_insights import OrgInsights
from server.web.insight_charts import bar_chart
from server.web.insights import Change, weeks_param

routes = web.RouteTableDef()


def comparison(data: OrgInsights) -> list[Change]:
    """This period against the one before, organisation-wide."""
    now, before = data.current, data.previous
    return [
        Change(gettext("Active members"), now.active_members, before.active_members),
        Change(gettext("Posts"), now.posts, before.posts),
        Change(gettext("Results"), now.results, before.results),
    ]


@routes.get("/admin/insights")
async def organisation_page(request: web.Request) -> web.Response:
    """Administrators only: the organisation at a glance, in counts (never content or names)."""
    await require_admin(request)
    weeks = weeks_param(request)
    async with request.app[CTX].db.read() as conn:
        data = await org_insights.organisation_insights(conn, weeks=weeks)
    ranked = sorted(data.communities, key=lambda c: (-c.active, c.name.lower()))[:12]
    with use(request_language(request, await current_user(request))):  # the chart's words
        chart = bar_chart(
            "chart-org-active",
            gettext("Active members by community"),
            gettext("Members who took part in this period, per community: ")
            + ", ".join(f"{c.name} {c.active}" for c in ranked)
            + ".",
            [(c.name, c.active) for c in ranked],
        )
        compared = comparison(data)
    return await render(
        request,
        "admin_insights.html",
        data=data,
        weeks=weeks,
        comparison=compared,
        active_chart=chart,
    )
