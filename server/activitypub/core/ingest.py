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

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from federation import limits
from server import clock
from server.activitypub.core.vocab import as_list, first_id, ids, koers, same_origin, type_of
from server.services import home_feed, text
from server.storage import schema as t
from server.storage.rows import inserted_id
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
    named = set(ids(doc.get("to"))) | set(ids(doc.get("cc"))) | set(ids(doc.get("audience")))
    named.update(ids(koers(doc, "community")))
    if not named:
        return {}
    rows = await conn.execute(
        sa.select(t.actors.c.uri, t.communities.c.id)
        .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
        .where(t.actors.c.uri.in_(named))
    )
    return {uri: cid for uri, cid in rows}


async def audience_of(
    conn: AsyncConnection, doc: dict[str, Any], author: sa.Row
) -> tuple[Audience, int | None]:
    """The audience of a remote object and the community it belongs to (if we know it)."""
    communities = await known_communities(conn, doc)
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


async def _post_by_uri(conn: AsyncConnection, uri: str | None) -> sa.Row | None:
    if not uri:
        return None
    return (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == uri))).first()


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


async def post_from_activity(
    conn: AsyncConnection,
    doc: dict[str, Any],
    author: sa.Row,
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
    existing = await _post_by_uri(conn, uri)
    if existing is not None:
        return existing.id, False
    audience, community_id = await audience_of(conn, doc, author)
    parent = await _post_by_uri(conn, first_id(doc.get("inReplyTo")))
    values = _common_values(doc)
    extra = {**purpose_terms(doc), **(extra or {})}
    if koers(doc, "idea") is True:
        extra["idea"] = (
            True  # shown as an idea; only the community's home instance keeps the idea box
        )
    url = first_id(doc.get("url")) if not isinstance(doc.get("url"), str) else doc["url"]
    res = await conn.execute(
        t.posts.insert().values(
            uri=uri,
            url=url or uri,
            author_id=author.id,
            local=False,
            audience=audience.value,
            community_id=community_id
            if community_id is not None
            else (parent.community_id if parent else None),
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_uri=first_id(doc.get("inReplyTo")),
            thread_root_id=(parent.thread_root_id or parent.id) if parent else None,
            extra=extra or {},
            created_at=parse_time(doc.get("published")) or clock.now(),
            edited_at=parse_time(doc.get("updated")),
            **values,
        )
    )
    post_id = inserted_id(res)
    if parent is not None:
        await conn.execute(
            t.posts.update()
            .where(t.posts.c.id == parent.id)
            .values(replies_count=t.posts.c.replies_count + 1)
        )
    await _write_tags(conn, post_id, doc)
    await _write_media(conn, post_id, author.id, doc)
    await _write_poll(conn, post_id, doc)
    if values["kind"] == "result":
        await _write_contributors(conn, post_id, doc)
        await _write_result_links(conn, post_id, doc)
    await conn.run_sync(home_feed.post_added, post_id)
    return post_id, True


async def _write_result_links(conn: AsyncConnection, post_id: int, doc: dict[str, Any]) -> None:
    """A remote result's ``koers:roles`` and ``koers:roadmapItem`` that we hold copies of (nothing fetched)."""
    uris = {
        u for u in ids(koers(doc, "roles"))[: limits.RESULT_ROLES] if same_origin(u, doc.get("id"))
    }
    if uris:
        known = [
            r[0] for r in await conn.execute(sa.select(t.roles.c.id).where(t.roles.c.uri.in_(uris)))
        ]
        if known:
            await conn.execute(
                t.result_roles.insert(), [{"post_id": post_id, "role_id": r} for r in known]
            )
    item_uri = first_id(koers(doc, "roadmapItem"))
    if item_uri and same_origin(item_uri, doc.get("id")):
        item = (
            await conn.execute(
                sa.select(t.roadmap_items.c.id).where(t.roadmap_items.c.uri == item_uri)
            )
        ).scalar()
        if item is not None:
            await conn.execute(
                t.posts.update().where(t.posts.c.id == post_id).values(roadmap_item_id=item)
            )


async def _write_contributors(conn: AsyncConnection, post_id: int, doc: dict[str, Any]) -> None:
    """A remote result's ``koers:contributors`` that we know as actors (nothing is fetched here)."""
    uris = {u for u in ids(koers(doc, "contributors"))[: limits.CONTRIBUTORS]}
    if not uris:
        return
    known = [
        r[0] for r in await conn.execute(sa.select(t.actors.c.id).where(t.actors.c.uri.in_(uris)))
    ]
    if known:
        await conn.execute(
            t.result_contributors.insert(), [{"post_id": post_id, "actor_id": a} for a in known]
        )


async def _write_tags(conn: AsyncConnection, post_id: int, doc: dict[str, Any]) -> None:
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
    if hrefs:
        known = [
            r[0]
            for r in await conn.execute(
                sa.select(t.actors.c.id).where(t.actors.c.uri.in_(set(hrefs)))
            )
        ]
        have = {
            r[0]
            for r in await conn.execute(
                sa.select(t.post_mentions.c.actor_id).where(t.post_mentions.c.post_id == post_id)
            )
        }
        new = [a for a in known if a not in have]
        if new:
            await conn.execute(
                t.post_mentions.insert(), [{"post_id": post_id, "actor_id": a} for a in new]
            )
    await conn.execute(t.post_tags.delete().where(t.post_tags.c.post_id == post_id))
    if tags:
        await conn.execute(t.post_tags.insert(), [{"post_id": post_id, "tag": tag} for tag in tags])


def _dimension(value: object) -> int | None:
    """A width or height in pixels as the column holds it; None for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31:
        return value
    return None


async def _write_media(
    conn: AsyncConnection, post_id: int, owner_id: int, doc: dict[str, Any]
) -> None:
    await conn.execute(t.media.delete().where(t.media.c.post_id == post_id))
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
                "owner_id": owner_id,
                "post_id": post_id,
                "kind": kind,
                "remote_url": url[: limits.URL_CHARS],
                "mime_type": mime[:100],
                "description": _plain(att.get("name"), limits.ATTACHMENT_DESCRIPTION_CHARS),
                "blurhash": att.get("blurhash") if isinstance(att.get("blurhash"), str) else None,
                "focus_x": fx,
                "focus_y": fy,
                "position": position,
                "created_at": clock.now(),
                "width": _dimension(att.get("width")),
                "height": _dimension(att.get("height")),
            }
        )
    if rows:
        await conn.execute(t.media.insert(), rows)


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


async def _write_poll(conn: AsyncConnection, post_id: int, doc: dict[str, Any]) -> None:
    values = _poll_values(doc)
    if values is None:
        return
    existing = (
        await conn.execute(sa.select(t.polls.c.id).where(t.polls.c.post_id == post_id))
    ).scalar()
    if existing is None:
        await conn.execute(t.polls.insert().values(post_id=post_id, **values))
    else:
        await conn.execute(t.polls.update().where(t.polls.c.id == existing).values(**values))


async def update_from_activity(conn: AsyncConnection, doc: dict[str, Any], post: sa.Row) -> None:
    """Apply a remote edit, keeping the previous version in ``post_edits``.

    An edit over a limit no cut can honour raises ``limits.OverLimit``; the post stays as it was.
    """
    limits.check_post(doc)
    values = _common_values(doc)
    has_history = (
        await conn.execute(
            sa.select(sa.func.count())
            .select_from(t.post_edits)
            .where(t.post_edits.c.post_id == post.id)
        )
    ).scalar_one()
    if not has_history:
        await conn.execute(
            t.post_edits.insert().values(
                post_id=post.id,
                content_html=post.content_html,
                spoiler_text=post.spoiler_text,
                sensitive=post.sensitive,
                created_at=post.created_at,
            )
        )
    now = parse_time(doc.get("updated")) or clock.now()
    values.pop("kind")
    await conn.execute(
        t.posts.update().where(t.posts.c.id == post.id).values(edited_at=now, **values)
    )
    await conn.execute(
        t.post_edits.insert().values(
            post_id=post.id,
            content_html=values["content_html"],
            spoiler_text=values["spoiler_text"],
            sensitive=values["sensitive"],
            created_at=now,
        )
    )
    await _write_tags(conn, post.id, doc)
    await _write_media(conn, post.id, post.author_id, doc)
    await _write_poll(conn, post.id, doc)


async def wipe_post(conn: AsyncConnection, post: sa.Row) -> None:
    """A remote delete: the content and everything hanging off it goes; a tombstone row stays."""
    for table in (
        t.post_mentions,
        t.post_tags,
        t.post_edits,
        t.favourites,
        t.bookmarks,
        t.pins,
        t.notifications,
        t.media,
    ):
        await conn.execute(table.delete().where(table.c.post_id == post.id))
    poll_ids = sa.select(t.polls.c.id).where(t.polls.c.post_id == post.id)
    await conn.execute(t.poll_votes.delete().where(t.poll_votes.c.poll_id.in_(poll_ids)))
    await conn.execute(t.polls.delete().where(t.polls.c.post_id == post.id))
    await conn.execute(
        t.posts.update()
        .where(t.posts.c.id == post.id)
        .values(
            content_html="",
            source="",
            spoiler_text="",
            title=None,
            extra={},
            deleted_at=clock.now(),
        )
    )
    for column, counter in (
        (post.in_reply_to_id, t.posts.c.replies_count),
        (post.reblog_of_id, t.posts.c.reblogs_count),
    ):
        if column:
            await conn.execute(
                t.posts.update()
                .where(t.posts.c.id == column, counter > 0)
                .values({counter.name: counter - 1})
            )
