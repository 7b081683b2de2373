"""Insights pages: the managers' view of a community's interaction graph, a member's own profile,
and the opt-out toggle. Charts are inline SVG rendered here (``insight_charts``), with data tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from server.errors import ValidationError
from server.http.language import request_language
from server.http.pages import current_user, flash, form, redirect, render, require_user
from server.i18n import N_, formatting, gettext, use
from server.i18n.current import Labels
from server.i18n.messages import Message
from server.keys import CTX
from server.services import insights
from server.services.insights import ACTIVITY_KINDS, Insights
from server.services.insights_graph import PROFILE_DESCRIPTIONS, PROFILES
from server.web.community_scope import scope
from server.web.insight_charts import bar_chart, line_chart

routes = web.RouteTableDef()

KIND_LABELS = Labels(
    {
        "posts": N_("Posts"),
        "reply": N_("Replies"),
        "mention": N_("Mentions"),
        "boost": N_("Boosts"),
        "like": N_("Likes"),
        "credit": N_("Results credited"),
        "role": N_("Role claims"),
        "roadmap": N_("Roadmap changes"),
    }
)
PROFILE_LABELS = Labels(
    {
        "catalyst": N_("Catalyst"),
        "engager": N_("Engager"),
        "responder": N_("Responder"),
        "broadcaster": N_("Broadcaster"),
        "observer": N_("Observer"),
    }
)
RANKED = 10


def weeks_param(request: web.Request) -> int:
    """``?weeks=`` (1..52, default 12); anything else is a 422."""
    raw = request.query.get("weeks", "")
    if not raw:
        return insights.DEFAULT_WEEKS
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= insights.MAX_WEEKS:
        raise ValidationError(
            Message("weeks: a whole number from 1 to %(num)s", num=insights.MAX_WEEKS),
            field="weeks",
        )
    return int(raw)


def week_labels(data: Insights | insights.MyInsights) -> list[str]:
    return [formatting.date(w, "dd MMM") for w in data.weeks]


@dataclass(frozen=True, slots=True)
class Change:
    """One line of a period comparison: a number now, before, and the change in words."""

    label: str
    now: int
    before: int

    @property
    def delta(self) -> int:
        return self.now - self.before

    @property
    def direction(self) -> str:
        """up | down | same (a class for colour; the words are in ``change_text``)."""
        return "up" if self.delta > 0 else "down" if self.delta < 0 else "same"


def compare_totals(
    active: int, totals: dict[str, int], prev_active: int, prev_totals: dict[str, int]
) -> list[Change]:
    """The rows of a period comparison: active members, then every kind of action (also for a
    partner's community, from the numbers its instance sent)."""
    rows = [Change(gettext("Active members"), active, prev_active)]
    rows += [
        Change(KIND_LABELS[k], totals.get(k, 0), prev_totals.get(k, 0)) for k in ACTIVITY_KINDS
    ]
    return rows


def comparison(data: Insights) -> list[Change]:
    """This period against the one just before: active members, then every kind of action."""
    if data.previous is None:
        return []
    return compare_totals(data.active, data.totals, data.previous.active, data.previous.totals)


def charts(data: Insights) -> dict[str, Any]:
    """The three charts of the managers' page."""
    labels = week_labels(data)
    ranked = data.people[:RANKED]
    return {
        "profiles_chart": bar_chart(
            "chart-profiles",
            gettext("Members by profile"),
            gettext("How many named members have each profile: %(counts)s.")
            % {
                "counts": ", ".join(
                    f"{PROFILE_LABELS[p]} {data.profile_counts[p]}" for p in PROFILES
                )
            },
            [(PROFILE_LABELS[p], data.profile_counts[p]) for p in PROFILES],
        ),
        "weekly_chart": line_chart(
            "chart-weekly",
            gettext("Activity per week"),
            gettext(
                "Posts and interactions per week over %(weeks)s weeks from %(first)s; "
                "the table below has the numbers."
            )
            % {"weeks": len(labels), "first": labels[0]},
            labels,
            {KIND_LABELS[k]: data.weekly_activity[k] for k in ACTIVITY_KINDS if data.totals[k]},
        ),
        "profile_trend_chart": line_chart(
            "chart-profile-trend",
            gettext("Activity per week by profile"),
            gettext("Posts and interactions per week made by the members of each profile."),
            labels,
            {PROFILE_LABELS[p]: data.weekly_profiles[p] for p in PROFILES},
        ),
        "ranking_chart": bar_chart(
            "chart-ranking",
            gettext("Most central members"),
            gettext(
                "Relative PageRank centrality (1 = average) of the most central named members: "
                "%(ranking)s."
            )
            % {
                "ranking": ", ".join(f"{p.actor.username} {p.stats.centrality:.1f}" for p in ranked)
            },
            [(p.actor.username, round(p.stats.centrality, 1)) for p in ranked],
            value_format="{:.1f}",
        ),
    }


@routes.get("/c/{handle}/insights")
async def insights_page(request: web.Request) -> web.Response:
    """Managers only: informal leaders, quiet members, every member's profile and the trends."""
    await require_user(request)
    weeks = weeks_param(request)
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
        data = await insights.community_insights(s.ctx, conn, s.viewer, s.community.id, weeks=weeks)
    with use(request_language(request, await current_user(request))):  # the charts' words
        drawn = charts(data)
        labels = week_labels(data)
        compared = comparison(data)
    return await render(
        request,
        "insights.html",
        data=data,
        weeks=weeks,
        week_labels=labels,
        kinds=ACTIVITY_KINDS,
        kind_labels=KIND_LABELS,
        profiles=PROFILES,
        profile_labels=PROFILE_LABELS,
        profile_descriptions=PROFILE_DESCRIPTIONS,
        comparison=compared,
        **drawn,
        **s.template_vars(),
    )


async def _me_page(request: web.Request) -> web.Response:
    weeks = weeks_param(request)
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
        data = await insights.my_insights(s.ctx, conn, s.viewer, s.community.id, weeks=weeks)
    with use(request_language(request, await current_user(request))):  # the chart's words
        labels = week_labels(data)
        chart = line_chart(
            "chart-me",
            gettext("My activity per week"),
            gettext("Your posts and interactions per week over %(weeks)s weeks.")
            % {"weeks": len(labels)},
            labels,
            {gettext("My activity"): data.weekly},
        )
    return await render(
        request,
        "insights_me.html",
        data=data,
        p=data.person,
        weeks=weeks,
        week_labels=labels,
        me_chart=chart,
        profile_labels=PROFILE_LABELS,
        profile_descriptions=PROFILE_DESCRIPTIONS,
        **s.template_vars(),
    )


@routes.get("/c/{handle}/insights/me")
async def my_insights_page(request: web.Request) -> web.Response:
    """A member's own profile in the community, and the opt-out toggle."""
    await require_user(request)
    return await _me_page(request)


@routes.post("/c/{handle}/insights/me")
async def opt_out_submit(request: web.Request) -> web.Response:
    """Leave insights (``opt_out=1``) or take part again (``opt_out=0``)."""
    user = await require_user(request)
    data = await form(request)
    choice = str(data.get("opt_out", ""))
    if choice not in ("0", "1"):
        raise ValidationError("opt_out: 1 to leave insights, 0 to take part", field="opt_out")
    async with request.app[CTX].db.read() as conn:
        s = await scope(request, conn)
    await insights.set_opt_out(request.app[CTX], user.id, choice == "1")
    flash(
        request,
        "You are left out of community insights: managers see you only in totals."
        if choice == "1"
        else "You take part in community insights again.",
    )
    raise redirect(f"/c/{s.community.handle}/insights/me")
