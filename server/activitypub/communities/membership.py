"""Membership of a REMOTE community, checked with its Group: for community posts written here.

A member on this instance may post to a community whose Group lives elsewhere. The Group relays the
post to its other members, whose instances fetch it from here signed as one of their members. We
only know our own members of that community, so for other signers we ask the Group: its members
(followers) collection, fetched signed as the post's author (a member, who may see it).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any

from aiohttp import web
from sqlalchemy import Row

from federation.actors import fetch_signed
from federation.errors import FederationError
from server.keys import CTX
from server.services import community_documents as reads
from server.services import post_rows
from server.visibility import Viewer

log = logging.getLogger(__name__)
MAX_PAGES = 50  # members collections are paged by 20 at most on Koers; 1000 members is plenty here
ANSWER_TTL = (
    60.0  # seconds a "yes, a member" of the Group is reused (a relay makes several fetches at once)
)
MAX_ANSWERS = 1000
_answers: OrderedDict[tuple[str, str], tuple[float, bool]] = OrderedDict()


def _remembered(key: tuple[str, str]) -> bool | None:
    hit = _answers.get(key)
    if hit is None or time.monotonic() - hit[0] > ANSWER_TTL:
        return None
    return hit[1]


def _remember(key: tuple[str, str], answer: bool) -> bool:
    if not answer:  # a "no" is asked again: the person may join any moment
        return answer
    _answers[key] = (time.monotonic(), answer)
    _answers.move_to_end(key)
    while len(_answers) > MAX_ANSWERS:
        _answers.popitem(last=False)
    return answer


def _items(page: dict[str, Any]) -> list[str]:
    raw = page.get("orderedItems") or page.get("items") or []
    return [i if isinstance(i, str) else str(i.get("id")) for i in raw if isinstance(i, str | dict)]


def _next(page: dict[str, Any]) -> str | None:
    value = page.get("next")
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


async def _in_collection(app: web.Application, url: str, member_uri: str, as_actor: int) -> bool:
    """Whether ``member_uri`` is listed in the (paged) collection at ``url``."""
    doc = await fetch_signed(app, url, as_actor=as_actor)
    first = doc.get("first")
    if member_uri in _items(doc):
        return True
    page: dict[str, Any] | None = None
    if isinstance(first, dict):
        page = first
    elif isinstance(first, str):
        page = await fetch_signed(app, first, as_actor=as_actor)
    for _ in range(MAX_PAGES):
        if page is None:
            return False
        if member_uri in _items(page):
            return True
        following = _next(page)
        page = await fetch_signed(app, following, as_actor=as_actor) if following else None
    return False


async def member_of_remote_community(app: web.Application, post: Row, viewer: Viewer) -> bool:
    """May a remote signed ``viewer`` see this LOCAL community post as a member of its remote Group?

    True only when the post's community is remote, the author has not blocked the viewer, and the
    Group lists the viewer among its members. Network I/O: call it outside any transaction.
    """
    if (
        post.audience != "community"
        or post.community_id is None
        or viewer.anonymous
        or viewer.local
    ):
        return False
    async with app[CTX].db.read() as conn:
        group = await post_rows.community_actor(conn, post.community_id)
        viewer_uri = await reads.actor_uri(conn, viewer.actor_id)
        blocked = await reads.has_blocked(conn, post.author_id, viewer.actor_id)
    if (
        group is None
        or group.domain is None
        or not group.followers_url
        or viewer_uri is None
        or blocked
    ):
        return False
    key = (group.followers_url, viewer_uri)
    if (known := _remembered(key)) is not None:
        return known
    try:
        return _remember(
            key, await _in_collection(app, group.followers_url, viewer_uri, post.author_id)
        )
    except FederationError as exc:
        log.info("members of %s could not be checked: %s", group.followers_url, exc)
        return False
