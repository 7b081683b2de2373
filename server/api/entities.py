"""Converters to Mastodon's JSON entities, named by direction: ``to_mastodon_status(post, viewer)``.

They take read models (``PostView``, ``ActorView``) and never touch the database; every field
Mastodon documents is present with its type (lists are ``[]``, ids are strings, times ISO 8601).
Koers' exact audience and concepts ride along in an extra ``koers`` object clients may ignore.
"""

from __future__ import annotations

from typing import Any

from server import clock, urls
from server.services.account_counts import AccountExtras
from server.services.views import ActorView, MediaView, PollView, PostView
from server.visibility import Audience, Viewer

# Audience -> the Mastodon visibility a client understands.
MASTODON_VISIBILITY = {
    Audience.PUBLIC: "public",
    Audience.UNLISTED: "unlisted",
    Audience.FOLLOWERS: "private",
    Audience.COMMUNITY: "private",
    Audience.MEMBERS: "private",
    Audience.PARTNERS: "private",
    Audience.DIRECT: "direct",
}
# Mastodon's account privacy preference <-> the default audience.
PRIVACY_TO_AUDIENCE = {
    "public": "public",
    "unlisted": "unlisted",
    "private": "followers",
    "direct": "direct",
    "local": "members",
    "members": "members",
    "partners": "partners",
    "followers": "followers",
}


def _competency_field(competencies: list[tuple[str, str | None]]) -> dict | None:
    if not competencies:
        return None
    value = ", ".join(f"{n} ({lv})" if lv else n for n, lv in competencies)
    return {"name": "Competencies", "value": value, "verified_at": None}


def to_mastodon_account(
    actor: ActorView, extras: AccountExtras | None = None, *, base: str
) -> dict:
    """Mastodon's Account for an actor (a community's Group actor shows with ``group: true``)."""
    extras = extras or AccountExtras()
    fields = [
        {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
        for f in actor.fields
    ]
    comp = _competency_field(extras.competencies)
    if comp:
        fields.append(comp)
    avatar = actor.avatar_url or f"{base}/static/avatar-missing.png"
    header = actor.header_url or f"{base}/static/header-missing.png"
    return {
        "id": str(actor.id),
        "username": actor.username,
        "acct": actor.acct,
        "display_name": actor.display_name,
        "locked": actor.locked,
        "bot": actor.bot or actor.kind in ("service", "application"),
        "discoverable": actor.discoverable,
        "indexable": actor.discoverable,
        "group": actor.kind == "group",
        "noindex": not actor.discoverable,
        "created_at": clock.iso(actor.created_at),
        "note": actor.summary_html,
        "url": actor.url or actor.uri,
        "uri": actor.uri,
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        **_counts(extras),
        "hide_collections": False,
        "emojis": [],
        "fields": fields,
        "roles": [],
        "koers": {
            "kind": actor.kind,
            "competencies": [{"name": n, "level": lv} for n, lv in extras.competencies],
        },
    }


def with_counts(account: dict, extras: AccountExtras) -> dict:
    """An Account rendered without counts (``to_mastodon_account(actor, competencies only)``),
    with ``extras``' counts and last post: the same as rendering it with them."""
    return {**account, **_counts(extras)}


def _counts(extras: AccountExtras) -> dict:
    return {
        "followers_count": extras.followers_count,
        "following_count": extras.following_count,
        "statuses_count": extras.statuses_count,
        "last_status_at": extras.last_status_at.date().isoformat()
        if extras.last_status_at
        else None,
    }


def to_mastodon_media(m: MediaView) -> dict:
    meta: dict = {"focus": {"x": m.focus_x, "y": m.focus_y}}
    if m.width and m.height:
        meta["original"] = {
            "width": m.width,
            "height": m.height,
            "size": f"{m.width}x{m.height}",
            "aspect": round(m.width / m.height, 6),
        }
        scale = min(1.0, 400 / max(m.width, m.height))
        w, h = max(1, round(m.width * scale)), max(1, round(m.height * scale))
        meta["small"] = {"width": w, "height": h, "size": f"{w}x{h}", "aspect": round(w / h, 6)}
    return {
        "id": str(m.id),
        "type": m.kind if m.kind in ("image", "gifv", "video", "audio") else "unknown",
        "url": m.url,
        "preview_url": m.preview_url,
        "remote_url": m.remote_url,
        "preview_remote_url": None,
        "text_url": None,
        "meta": meta,
        "description": m.description or None,
        "blurhash": m.blurhash,
    }


def to_mastodon_poll(poll: PollView, viewer: Viewer, *, hide_totals: bool = False) -> dict:
    voted = bool(poll.own_votes) if viewer.actor_id is not None else None
    show = not hide_totals or poll.expired
    return {
        "id": str(poll.id),
        "expires_at": clock.iso(poll.expires_at),
        "expired": poll.expired,
        "multiple": poll.multiple,
        "votes_count": sum(poll.counts),
        "voters_count": poll.voters_count if poll.multiple else sum(poll.counts),
        "options": [
            {"title": o, "votes_count": c if show else None}
            for o, c in zip(poll.options, poll.counts, strict=False)
        ],
        "emojis": [],
        "voted": voted,
        "own_votes": poll.own_votes if viewer.actor_id is not None else [],
    }


def _koers(post: PostView) -> dict:
    community = None
    if post.community_id is not None:
        community = {
            "id": str(post.community_id),
            "handle": post.community_handle,
            "name": post.community_name,
        }
    return {
        "audience": post.audience.value,
        "community": community,
        "kind": post.kind,
        "title": post.title,
        "roles": [{"id": str(rid), "name": name} for rid, name in post.roles],
        "roadmap_item_id": str(post.roadmap_item_id) if post.roadmap_item_id else None,
        "contributors": [str(a.id) for a in post.contributors],
    }


def status_fields(post: PostView, *, base: str) -> dict:
    """The fields of Mastodon's Status that are the same for every viewer and change only when
    the post, its author, media, mentions, tags or community do (what the status cache keeps):
    everything but ``account``, ``reblog``, ``poll``, the counts and the viewer's flags. A boost's
    ``content`` is empty (its original carries it)."""
    content = post.content_html
    if post.title and post.kind in ("result", "article"):
        content = f"<p><strong>{_escape(post.title)}</strong></p>{content}"
    return {
        "id": str(post.id),
        "uri": post.uri,
        "url": post.url,
        "created_at": clock.iso(post.created_at),
        "edited_at": clock.iso(post.edited_at),
        "content": content,
        "text": None,
        "visibility": MASTODON_VISIBILITY[post.audience],
        "sensitive": post.sensitive,
        "spoiler_text": post.spoiler_text,
        "media_attachments": [to_mastodon_media(m) for m in post.media],
        "application": None,
        "mentions": [
            {"id": str(m.id), "username": m.username, "acct": m.acct, "url": m.url or m.uri}
            for m in post.mentions
        ],
        "tags": [{"name": tag, "url": urls.tag(base, tag)} for tag in post.tags],
        "emojis": [],
        "in_reply_to_id": str(post.in_reply_to_id) if post.in_reply_to_id else None,
        "in_reply_to_account_id": str(post.in_reply_to_author_id)
        if post.in_reply_to_author_id
        else None,
        "card": None,
        "language": post.language,
        "koers": _koers(post),
    }


def viewer_flags(
    viewer: Viewer,
    author_id: int,
    *,
    favourited: bool,
    reblogged: bool,
    muted: bool,
    bookmarked: bool,
    pinned: bool,
) -> dict:
    """The Status fields that are the viewer's (``null`` for an anonymous one; ``pinned`` only on
    the viewer's own posts)."""
    if viewer.actor_id is None:
        return {**_ANONYMOUS_FLAGS, "filtered": []}
    return {
        "favourited": favourited,
        "reblogged": reblogged,
        "muted": muted,
        "bookmarked": bookmarked,
        "pinned": pinned if author_id == viewer.actor_id else None,
        "filtered": [],
    }


_ANONYMOUS_FLAGS: dict[str, Any] = {
    "favourited": None,
    "reblogged": None,
    "muted": None,
    "bookmarked": None,
    "pinned": None,
    "filtered": [],
}


def assemble_status(
    fields: dict,
    *,
    account: dict,
    counts: tuple[int, int, int],
    reblog: dict | None,
    poll: dict | None,
    flags: dict,
) -> dict:
    """A Status from ``status_fields`` (not changed), the Account, the (reblogs, favourites,
    replies) counts, the boosted Status, the Poll and ``viewer_flags``, in Mastodon's order."""
    return {
        "id": fields["id"],
        "uri": fields["uri"],
        "url": fields["url"],
        "created_at": fields["created_at"],
        "edited_at": fields["edited_at"],
        "account": account,
        "content": fields["content"],
        "text": None,
        "visibility": fields["visibility"],
        "sensitive": fields["sensitive"],
        "spoiler_text": fields["spoiler_text"],
        "media_attachments": fields["media_attachments"],
        "application": None,
        "mentions": fields["mentions"],
        "tags": fields["tags"],
        "emojis": [],
        "reblogs_count": counts[0],
        "favourites_count": counts[1],
        "replies_count": counts[2],
        "in_reply_to_id": fields["in_reply_to_id"],
        "in_reply_to_account_id": fields["in_reply_to_account_id"],
        "reblog": reblog,
        "poll": poll,
        "card": None,
        "language": fields["language"],
        **flags,
        "koers": fields["koers"],
    }


def to_mastodon_status(
    post: PostView,
    viewer: Viewer,
    *,
    base: str,
    accounts: dict[int, dict] | None = None,
    hidden_totals: frozenset[int] | set[int] = frozenset(),
) -> dict:
    """Mastodon's Status; ``accounts`` maps actor ids to ready Account dicts (with counts);
    ``hidden_totals`` holds ids of posts whose poll hides its counts until it ends."""
    accounts = accounts or {}
    fields = status_fields(post, base=base)
    if post.reblog is not None:
        fields["content"] = ""
    return assemble_status(
        fields,
        account=accounts.get(post.author.id) or to_mastodon_account(post.author, base=base),
        counts=(post.reblogs_count, post.favourites_count, post.replies_count),
        reblog=to_mastodon_status(
            post.reblog, viewer, base=base, accounts=accounts, hidden_totals=hidden_totals
        )
        if post.reblog
        else None,
        poll=to_mastodon_poll(post.poll, viewer, hide_totals=post.id in hidden_totals)
        if post.poll
        else None,
        flags=viewer_flags(
            viewer,
            post.author.id,
            favourited=post.favourited,
            reblogged=post.reblogged,
            muted=post.muted,
            bookmarked=post.bookmarked,
            pinned=post.pinned,
        ),
    )


def to_mastodon_relationship(
    actor_id: int, rel: dict[str, bool], *, domain_blocking: bool = False
) -> dict:
    return {
        "id": str(actor_id),
        **rel,
        "domain_blocking": domain_blocking,
        "endorsed": False,
        "note": "",
        "languages": None,
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
