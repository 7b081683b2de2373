"""What every community page needs: the community from the URL, who is looking, and their standing.

Shared by the community, role, roadmap and results pages (``server.web.communities`` and friends).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection

from server.context import Context
from server.errors import KoersError, ValidationError
from server.http.pages import render, viewer
from server.http.params import as_id
from server.i18n.messages import Message
from server.keys import CTX
from server.services import communities
from server.services.communities import Community
from server.visibility import Viewer
from server.web.forms import field_errors

ATOM = "application/atom+xml"


@dataclass(frozen=True, slots=True)
class Scope:
    """The community of a request and the viewer's relation to it."""

    ctx: Context
    viewer: Viewer
    community: Community
    membership: str | None
    is_manager: bool

    @property
    def me(self) -> int | None:
        return self.viewer.actor_id

    @property
    def is_member(self) -> bool:
        return self.membership == "accepted"

    def template_vars(self) -> dict[str, Any]:
        return {
            "c": self.community,
            "membership": self.membership,
            "is_manager": self.is_manager,
            "is_member": self.is_member,
        }


async def scope(request: web.Request, conn: AsyncConnection) -> Scope:
    """Resolve ``{handle}`` (NotFound renders the 404 page) and the viewer's standing."""
    who = await viewer(request)
    community = await communities.get_by_handle(conn, request.match_info["handle"])
    return Scope(
        ctx=request.app[CTX],
        viewer=who,
        community=community,
        membership=await communities.membership(conn, community, who.actor_id),
        is_manager=await communities.is_manager(conn, community.id, who.actor_id),
    )


def int_or_none(value: object, field: str) -> int | None:
    """A form's optional numeric id: blank means none, anything else must be a number."""
    raw = str(value or "").strip()
    if not raw:
        return None
    if as_id(raw) is None:
        raise ValidationError(
            Message("%(field)s: please choose one of the options", field=field), field=field
        )
    return as_id(raw)


async def form_error(
    request: web.Request, exc: KoersError, template: str, **context: Any
) -> web.Response:
    """Re-render a form with the errors of the fields they concern, as sentences (errors without
    a field propagate)."""
    errors = field_errors(exc)
    if errors is None:
        raise exc
    return await render(request, template, status=exc.status, errors=errors, **context)
