"""Remote objects into Koers posts: ``post_from_activity`` and its edit/delete counterparts.

Everything remote is distrusted: HTML is sanitised, the audience comes from the addressing through
the visibility module (anything not understood is ``direct``), unknown references are dropped.
Runs inside a write transaction; the actors it needs must be resolved before (no fetching here).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import limits
from server import clock
from server.activitypub.core.vocab import as_list, first_id, ids, koers, same_origin, type_of
from server.services import remote_posts, text
from server.services.remote_posts import RemoteContent, RemotePost

# A remote delete, as the inbox handlers call it.
from server.services.remote_posts import wipe_post as wipe_post
from server.visibility import Audience, audience_from_addressing

log = logging.getLogger(__name__)

_KINDS = {
    "Article": "article",
    "Page": "page",
    "Event": "event",
    "Question": "note",
    "Note": "note",
}


def parse_time(value: object) -> datetime | None:
    """An xsd:dateTime as an aware datetime; None when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return clock.aware(parsed)


def partners_collection_of(actor_uri: str) -> str:
    """Where a Koers peer's ``partners`` collection lives (same scheme as ``server.urls``)."""
    parts = urlsplit(actor_uri)
    return f"{parts.scheme}://{parts.netloc}/partners"


def _plain(value: object, limit: int) -> str:
    return text.html_to_text(value)[:limit] if isinstance(value, str) else ""


async def known_communities(conn: AsyncConnection, doc: dict[str, Any]) -> dict[str, int]:
    """Communities (local or remote, known to us) named in to/cc/audience: uri → community id."""
    return await remote_posts.communities_named(conn, named_communities(doc))


async def audience_of(
    conn: AsyncConnection, doc: dict[str, Any], author: Row
) -> tuple[Audience, int | None]:
    """The audience of a remote object and the community it belongs to (if we know it)."""
    return audience_among(doc, author, await known_communities(conn, doc))


def named_communities(doc: dict[str, Any]) -> set[str]:
    """The ids in to/cc/audience/koers:community, where a remote object names its community."""
    named = set(ids(doc.get("to"))) | set(ids(doc.get("cc"))) | set(ids(doc.get("audience")))
    named.update(ids(koers(doc, "community")))
    return named


def audience_among(
    doc: dict[str, Any], author: Any, communities: dict[str, int]
) -> tuple[Audience, int | None]:
    """``audience_of`` with the communities it names already looked up (uri → community id)."""
    audience, community_uri = audience_from_addressing(
        doc,
        followers_url=author.followers_url,
        community_uris=communities,
        partner_collections=[partners_collection_of(author.uri)],
    )
    if audience is Audience.MEMBERS:  # never true for remote objects; keep the rule explicit
        audience = Audience.DIRECT
    community_id = communities.get(community_uri) if community_uri else None
    if community_id is None and audience is not Audience.DIRECT:
        linked = first_id(koers(doc, "community"))
        community_id = communities.get(linked) if linked else None
    return audience, community_id


def _content(doc: dict[str, Any]) -> str:
    content = doc.get("content")
    if not isinstance(content, str):
        content_map = doc.get("contentMap")
        if isinstance(content_map, dict):
            content = next((v for v in content_map.values() if isinstance(v, str)), "")
    html = text.sanitise_html(content if isinstance(content, str) else "")
    if type_of(doc) in ("Page", "Event") and not html.strip() and isinstance(doc.get("url"), str):
        html = text.sanitise_html(f'<p><a href="{doc["url"]}">{doc["url"]}</a></p>')
    return html


def _language(doc: dict[str, Any]) -> str | None:
    content_map = doc.get("contentMap")
    if isinstance(content_map, dict):
        return next((k[: limits.LANGUAGE_CHARS] for k in content_map if isinstance(k, str)), None)
    return None


def _common_values(doc: dict[str, Any]) -> dict[str, Any]:
    kind = _KINDS.get(type_of(doc), "note")
    if koers(doc, "result") is True:
        kind = "result"
    summary = _plain(doc.get("summary"), limits.SUMMARY_CHARS)
    title = _plain(doc.get("name"), limits.NAME_CHARS) or None
    return {
        "kind": kind,
        "title": title if kind != "note" else None,
        "content_html": _content(doc),
        "spoiler_text": summary,
        "sensitive": bool(doc.get("sensitive")) or bool(summary),
        "language": _language(doc),
    }


def purpose_terms(doc: dict[str, Any]) -> dict[str, Any]:
    """The purpose-process terms of a remote object, bounded: a proposal, a consent, a purpose version."""
    out: dict[str, Any] = {}
    proposal = koers(doc, "proposal")
    if isinstance(proposal, dict) and isinstance(proposal.get("text"), str):
        reason = proposal.get("reason")
        out["proposal"] = {
            "text": proposal["text"][: limits.PROPOSAL_CHARS],
            "reason": reason[: limits.PROPOSAL_REASON_CHARS] if isinstance(reason, str) else "",
        }
    consent = koers(doc, "consent")
    if isinstance(consent, str) and consent in ("agree", "abstain", "disagree", "block"):
        out["consent"] = consent
    version = koers(doc, "version")
    if (
        koers(doc, "purpose") is True
        and isinstance(version, int)
        and not isinstance(version, bool)
        and 0 < version < 2**31
    ):
        out["purpose_version"] = version
    return out


def _tags(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The actors a remote post names (mentions and addressed actors) and its hashtags, bounded."""
    hrefs: list[str] = []
    tags: list[str] = []
    for tag in as_list(doc.get("tag")):
        if not isinstance(tag, dict):
            continue
        if tag.get("type") == "Mention" and isinstance(tag.get("href"), str):
            if len(hrefs) < limits.MENTIONS:
                hrefs.append(tag["href"])
        elif tag.get("type") == "Hashtag" and isinstance(tag.get("name"), str):
            name = tag["name"].lstrip("#").strip().lower()[: limits.HASHTAG_CHARS]
            if name and name not in tags and len(tags) < limits.HASHTAGS:
                tags.append(name)
    # Addressed actors we know may see the post too (direct messages address without a tag).
    hrefs += ids(doc.get("to")) + ids(doc.get("cc"))
    return hrefs, tags


def _dimension(value: object) -> int | None:
    """A width or height in pixels as the column holds it; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
        return value
    return None


def _media(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The attachments of a remote post as ``media`` columns (links only; nothing fetched)."""
    rows = []
    for position, att in enumerate(as_list(doc.get("attachment"))[: limits.ATTACHMENTS]):
        if not isinstance(att, dict) or att.get("type") not in (
            "Document",
            "Image",
            "Video",
            "Audio",
        ):
            continue
        url = att.get("url")
        if isinstance(url, list | dict):
            url = first_id(url) or next(
                (u.get("href") for u in as_list(url) if isinstance(u, dict)), None
            )
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            continue
        mime = m if isinstance(m := att.get("mediaType"), str) else "application/octet-stream"
        focus = f if isinstance(f := att.get("focalPoint"), list) else [0, 0]
        try:
            fx, fy = (max(-1.0, min(1.0, float(v))) for v in focus[:2])
        except (TypeError, ValueError):
            fx, fy = 0.0, 0.0
        kind = (
            mime.split("/", 1)[0]
            if mime.split("/", 1)[0] in ("image", "video", "audio")
            else "unknown"
        )
        rows.append(
            {
                "kind": kind,
                "remote_url": url[: limits.URL_CHARS],
                "mime_type": mime[:100],
                "description": _plain(att.get("name"), limits.ATTACHMENT_DESCRIPTION_CHARS),
                "blurhash": att.get("blurhash") if isinstance(att.get("blurhash"), str) else None,
                "focus_x": fx,
                "focus_y": fy,
                "position": position,
                "width": _dimension(att.get("width")),
                "height": _dimension(att.get("height")),
            }
        )
    return rows


def _poll_values(doc: dict[str, Any]) -> dict[str, Any] | None:
    multiple = "anyOf" in doc
    choices = [c for c in as_list(doc.get("anyOf" if multiple else "oneOf")) if isinstance(c, dict)]
    names = [_plain(c.get("name"), limits.POLL_OPTION_CHARS) for c in choices]
    if type_of(doc) != "Question" or len(names) < 2:
        return None
    counts = []
    for c in choices:
        total = (
            c.get("replies", {}).get("totalItems", 0) if isinstance(c.get("replies"), dict) else 0
        )
        counts.append(total if isinstance(total, int) and 0 <= total < 2**31 else 0)
    voters = doc.get("votersCount")
    return {
        "options": names,
        "multiple": multiple,
        "remote_counts": counts,
        "expires_at": parse_time(doc.get("endTime") or doc.get("closed")),
        "voters_count": voters
        if isinstance(voters, int) and 0 <= voters < 2**31
        else min(sum(counts), 2**31 - 1),
    }


def content_of(doc: dict[str, Any]) -> RemoteContent:
    """What the remote object ``doc`` says, distrusted and bounded, as the service keeps it."""
    hrefs, tags = _tags(doc)
    return RemoteContent(
        values=_common_values(doc),
        mention_uris=tuple(hrefs),
        tags=tuple(tags),
        media=tuple(_media(doc)),
        poll=_poll_values(doc),
    )


def _result_links(doc: dict[str, Any]) -> tuple[tuple[str, ...], tuple[str, ...], str | None]:
    """A result's contributors, and its roles and roadmap item at its own origin, bounded."""
    contributors = tuple(dict.fromkeys(ids(koers(doc, "contributors"))[: limits.CONTRIBUTORS]))
    roles = tuple(
        dict.fromkeys(
            u
            for u in ids(koers(doc, "roles"))[: limits.RESULT_ROLES]
            if same_origin(u, doc.get("id"))
        )
    )
    item_uri = first_id(koers(doc, "roadmapItem"))
    return (
        contributors,
        roles,
        item_uri if item_uri and same_origin(item_uri, doc.get("id")) else None,
    )


async def post_from_activity(
    conn: AsyncConnection,
    doc: dict[str, Any],
    author: Row,
    *,
    extra: dict[str, Any] | None = None,
) -> tuple[int, bool]:
    """Store (or find) the remote post ``doc`` by ``author``; returns (post id, created).

    A post over a limit no cut can honour raises ``limits.OverLimit`` before anything is stored.
    """
    uri = doc.get("id")
    if not isinstance(uri, str) or not uri:
        raise ValueError("object without an id")
    limits.check_post(doc)
    existing = await remote_posts.post_by_uri(conn, uri)
    if existing is not None:
        return existing.id, False
    audience, community_id = await audience_of(conn, doc, author)
    post = remote_post_of(doc, audience, community_id, extra=extra)
    return await remote_posts.store_post(conn, author.id, post), True


def remote_post_of(
    doc: dict[str, Any],
    audience: Audience,
    community_id: int | None,
    *,
    extra: dict[str, Any] | None = None,
    content: RemoteContent | None = None,
) -> RemotePost:
    """The remote post ``doc`` (with an id) as the service keeps it, its audience decided
    (``content``: ``content_of(doc)`` when it was read already)."""
    uri = doc["id"]
    extra = {**purpose_terms(doc), **(extra or {})}
    if koers(doc, "idea") is True:
        extra["idea"] = (
            True  # shown as an idea; only the community's home instance keeps the idea box
        )
    url = first_id(doc.get("url")) if not isinstance(doc.get("url"), str) else doc["url"]
    contributors, roles, item_uri = _result_links(doc)
    return RemotePost(
        uri=uri,
        url=url or uri,
        audience=audience.value,
        content=content if content is not None else content_of(doc),
        created_at=parse_time(doc.get("published")) or clock.now(),
        community_id=community_id,
        in_reply_to_uri=first_id(doc.get("inReplyTo")),
        edited_at=parse_time(doc.get("updated")),
        extra=extra or {},
        contributor_uris=contributors,
        role_uris=roles,
        roadmap_item_uri=item_uri,
    )


async def update_from_activity(conn: AsyncConnection, doc: dict[str, Any], post: Row) -> None:
    """Apply a remote edit, keeping the previous version in ``post_edits``.

    An edit over a limit no cut can honour raises ``limits.OverLimit``; the post stays as it was.
    """
    limits.check_post(doc)
    content = content_of(doc)
    await remote_posts.apply_edit(
        conn, post, content, parse_time(doc.get("updated")) or clock.now()
    )
