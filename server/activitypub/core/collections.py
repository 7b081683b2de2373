"""The ActivityStreams collections Koers serves, built one way for every concept.

Two shapes: a whole ``OrderedCollection`` with its items (roles, roadmap, purpose versions,
moderators, join requests, pinned posts), and a paged one (followers, following, outboxes): the
collection names its first page, each ``OrderedCollectionPage`` its neighbours.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.activitypub.core.vocab import context
from server.http.params import as_id

PAGE_SIZE = 20
# The highest page number a request may name (a larger one is read as this one).
LAST_PAGE = 1_000_000


def page_number(request: web.Request) -> int | None:
    """The ``?page=`` asked for (1 when it is not a number), or ``None`` for the collection."""
    raw = request.query.get("page")
    if raw is None:
        return None
    return min(max(1, as_id(raw) or 1), LAST_PAGE)


def page_offset(page: int) -> int:
    """How many items come before page ``page`` (counted from 1)."""
    return (page - 1) * PAGE_SIZE


def without_context(doc: dict[str, Any] | None) -> dict[str, Any]:
    """An object document as an item of a collection: its ``@context`` is the collection's."""
    return {k: v for k, v in (doc or {}).items() if k != "@context"}


def ordered_collection(base: str, collection_id: str, items: list[Any]) -> dict[str, Any]:
    """A whole ``OrderedCollection`` holding ``items``."""
    return {
        "@context": context(base),
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": len(items),
        "orderedItems": items,
    }


def paged_collection(
    base: str, collection_id: str, total: int, page: int | None, items: list[Any]
) -> dict[str, Any]:
    """An ``OrderedCollection`` (a link to its first page), or its ``OrderedCollectionPage``
    ``page`` holding ``items`` (of ``total``), with its ``next`` and ``prev``."""
    if page is None:
        return {
            "@context": context(base),
            "id": collection_id,
            "type": "OrderedCollection",
            "totalItems": total,
            "first": f"{collection_id}?page=1",
        }
    doc: dict[str, Any] = {
        "@context": context(base),
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": items,
    }
    if page * PAGE_SIZE < total:
        doc["next"] = f"{collection_id}?page={page + 1}"
    if page > 1:
        doc["prev"] = f"{collection_id}?page={page - 1}"
    return doc
