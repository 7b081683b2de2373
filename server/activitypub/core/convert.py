"""Koers posts as ActivityStreams objects, and the activities that carry them (pure functions).

Gathering the rows is ``objects.load_post``; this module only shapes JSON. Named by direction as
STYLE.md asks: ``to_object`` here, ``post_from_activity`` in ``ingest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.activitypub.core.vocab import context
from server.clock import iso
from server.visibility import Addressing

_AUDIENCE_NAME = "koers:audience"


@dataclass(frozen=True, slots=True)
class MediaPart:
    url: str
    media_type: str
    description: str = ""
    blurhash: str | None = None
    focus: tuple[float, float] = (0.0, 0.0)
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True, slots=True)
class PollPart:
    options: tuple[str, ...]
    counts: tuple[int, ...]
    multiple: bool
    end_time: Any = None
    voters: int = 0


@dataclass(frozen=True, slots=True)
class PostParts:
    """Everything ``to_object`` needs about one post, already resolved to URIs."""

    uri: str
    url: str | None
    kind: str
    author_uri: str
    audience: str
    addressing: Addressing
    content_html: str
    published: Any
    title: str | None = None
    summary: str = ""
    sensitive: bool = False
    language: str | None = None
    updated: Any = None
    in_reply_to: str | None = None
    mentions: tuple[tuple[str, str], ...] = ()  # (actor uri, @handle)
    hashtags: tuple[tuple[str, str], ...] = ()  # (tag, tag page url)
    media: tuple[MediaPart, ...] = ()
    poll: PollPart | None = None
    community_uri: str | None = None
    roadmap_item_uri: str | None = None
    role_uris: tuple[str, ...] = ()
    contributor_uris: tuple[str, ...] = ()
    replies_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def object_type(parts: PostParts) -> str:
    """Note for posts; Article for titled results and articles; Question for polls."""
    if parts.poll is not None:
        return "Question"
    if parts.kind == "article" or (parts.kind == "result" and parts.title):
        return "Article"
    return "Note"


def to_object(parts: PostParts, base: str, *, with_context: bool = True) -> dict[str, Any]:
    """The ActivityStreams form of a post (Note / Article / Question with Koers terms)."""
    doc: dict[str, Any] = {"@context": context(base)} if with_context else {}
    doc.update(
        {
            "id": parts.uri,
            "type": object_type(parts),
            "attributedTo": parts.author_uri,
            "to": list(parts.addressing.to),
            "cc": list(parts.addressing.cc),
            "published": iso(parts.published),
            "url": parts.url or parts.uri,
            "content": parts.content_html,
            "sensitive": parts.sensitive,
            "summary": parts.summary or None,
            "inReplyTo": parts.in_reply_to,
            _AUDIENCE_NAME: parts.audience,
        }
    )
    if parts.addressing.audience:
        doc["audience"] = parts.addressing.audience
    if parts.language:
        doc["contentMap"] = {parts.language: parts.content_html}
    if parts.title:
        doc["name"] = parts.title
    if parts.updated is not None:
        doc["updated"] = iso(parts.updated)
    tags: list[dict[str, Any]] = [
        {"type": "Mention", "href": uri, "name": handle} for uri, handle in parts.mentions
    ]
    tags += [{"type": "Hashtag", "href": href, "name": f"#{tag}"} for tag, href in parts.hashtags]
    doc["tag"] = tags
    doc["attachment"] = [_attachment(m) for m in parts.media]
    doc["replies"] = {"type": "Collection", "totalItems": parts.replies_count}
    if parts.poll is not None:
        key = "anyOf" if parts.poll.multiple else "oneOf"
        doc[key] = [
            {"type": "Note", "name": name, "replies": {"type": "Collection", "totalItems": count}}
            for name, count in zip(parts.poll.options, parts.poll.counts, strict=True)
        ]
        doc["endTime"] = iso(parts.poll.end_time)
        doc["votersCount"] = parts.poll.voters
    if parts.community_uri:
        doc["koers:community"] = parts.community_uri
    if parts.kind == "result":
        doc["koers:result"] = True
        doc["koers:roles"] = list(parts.role_uris)
        doc["koers:contributors"] = list(parts.contributor_uris)
        if parts.roadmap_item_uri:
            doc["koers:roadmapItem"] = parts.roadmap_item_uri
    if parts.extra.get("idea"):
        doc["koers:idea"] = True
    for term in ("proposal", "consent"):  # the purpose process (server.services.purpose_proposals)
        if parts.extra.get(term):
            doc[f"koers:{term}"] = parts.extra[term]
    return doc


def _attachment(m: MediaPart) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "Document",
        "mediaType": m.media_type,
        "url": m.url,
        "name": m.description or None,
    }
    if m.blurhash:
        doc["blurhash"] = m.blurhash
    doc["focalPoint"] = [m.focus[0], m.focus[1]]
    if m.width and m.height:
        doc["width"], doc["height"] = m.width, m.height
    return doc


# --- activities -----------------------------------------------------------------------------------


def activity(
    base: str,
    kind: str,
    *,
    id: str,
    actor: str,
    object: Any,
    to: list[str] | None = None,
    cc: list[str] | None = None,
    **more: Any,
) -> dict[str, Any]:
    """One activity document; ``to``/``cc`` are left out when not given (Follow, Accept …)."""
    doc: dict[str, Any] = {
        "@context": context(base),
        "id": id,
        "type": kind,
        "actor": actor,
        "object": object,
    }
    if to is not None:
        doc["to"] = to
    if cc is not None:
        doc["cc"] = cc
    doc.update({k: v for k, v in more.items() if v is not None})
    return doc


def wrap_post(
    base: str, kind: str, obj: dict[str, Any], *, activity_id: str, published: Any = None
) -> dict[str, Any]:
    """Create or Update of a post object, addressed like the object."""
    inner = {k: v for k, v in obj.items() if k != "@context"}
    return activity(
        base,
        kind,
        id=activity_id,
        actor=inner["attributedTo"],
        object=inner,
        to=inner.get("to", []),
        cc=inner.get("cc", []),
        published=iso(published) if published else inner.get("published"),
        audience=inner.get("audience"),
    )


def tombstone(uri: str, *, deleted: Any = None) -> dict[str, Any]:
    """What a deleted object becomes."""
    return {"id": uri, "type": "Tombstone", "deleted": iso(deleted) if deleted else None}


def delete_post(
    base: str, *, activity_id: str, actor: str, uri: str, addressing: Addressing
) -> dict[str, Any]:
    """Delete with a Tombstone, to the same recipients as the post."""
    return activity(
        base,
        "Delete",
        id=activity_id,
        actor=actor,
        object=tombstone(uri),
        to=list(addressing.to),
        cc=list(addressing.cc),
    )


def undo(base: str, *, activity_id: str, actor: str, inner: dict[str, Any]) -> dict[str, Any]:
    """Undo of an earlier activity (embedded without its context), to the same recipients."""
    body = {k: v for k, v in inner.items() if k != "@context"}
    return activity(
        base, "Undo", id=activity_id, actor=actor, object=body, to=body.get("to"), cc=body.get("cc")
    )
