"""Inbox handlers for content: Create/Update/Delete of posts, Announce, actor Update/Delete.

A post addressed to a LOCAL community by one of its members is kept with audience ``community``
and the Group Announces it to its remote members (FEP-1b12). From a non-member of an open community
that accepts outside ideas, a post addressing the community or replying to its call for ideas becomes
an idea in its idea box (``server.services.ideas``; the post stays as the idea's thread), and so does
a member's post marked ``koers:idea``.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from sqlalchemy import Row

from federation.actors import resolve_actor
from federation.errors import FederationError, Ignore
from server import event_kinds as kinds
from server.activitypub.core.common import (
    OUTBOX,
    actor_by_uri,
    actor_row,
    ctx_of,
    fetch_object,
    local_members_of_group,
    named_actor,
    resolve,
    the_actor,
)
from server.activitypub.core.ingest import (
    known_communities,
    post_from_activity,
    update_from_activity,
    wipe_post,
)
from server.activitypub.core.vocab import POST_TYPES, first_id, koers, same_origin, type_of
from server.activitypub.purpose.sync import group_updated
from server.errors import Conflict, Forbidden, Gone, NotFound, ValidationError
from server.services import ideas, notifications, posts, remote_groups, remote_posts, roles
from server.services.remote_groups import ensure_remote_community, refresh_remote_community

log = logging.getLogger(__name__)
ACTOR_TYPES = ("Person", "Group", "Organization", "Service", "Application")


async def _store(
    app: web.Application, activity: dict[str, Any], obj: dict[str, Any], author_id: int
) -> int:
    """Store one remote post (with idea / community handling), notify, and re-announce if ours."""
    ctx = ctx_of(app)
    async with ctx.db.write() as conn:
        author = await actor_row(conn, author_id)
        parent_uri = first_id(obj.get("inReplyTo"))
        if parent_uri and obj.get("name") and not obj.get("content"):
            if await _poll_vote(conn, obj, author_id, parent_uri):
                return 0
        post_id, created = await post_from_activity(conn, obj, author)
        if not created:
            return post_id
        try:
            placed = await remote_posts.place_in_community(conn, post_id, author_id)
        except Forbidden as exc:
            raise Ignore("not_member", exc.message) from None
        post, community = placed.post, placed.community
        ours, outsider = placed.ours, placed.outsider
        if outsider and community is not None:
            # An outsider's idea: a post addressing the community, or a reply to its call for ideas.
            # Other replies in a community thread stay plain replies.
            addressed = community.id in (await known_communities(conn, obj)).values()
            if addressed or await ideas.is_call_for_ideas(conn, post.in_reply_to_id):
                await ideas.record_remote_idea(conn, post)
        elif ours and koers(obj, "idea") is True:
            await ideas.record_remote_idea(conn, post)  # a partner member's idea
        await notifications.for_new_post(conn, post_id)
        if ours and not outsider:
            await app[OUTBOX].announce_by_group(conn, post, activity)
        event = await ctx.events.emit(
            conn, kinds.POST_RECEIVED, post_id=post_id, author_id=author_id
        )
    await ctx.events.committed(event)
    return post_id


async def _poll_vote(conn: Any, obj: dict[str, Any], voter_id: int, poll_uri: str) -> bool:
    """A Mastodon-style vote (a Note with only a name, replying to a local Question):
    ``posts.receive_vote``; False when the reply is not to one of our polls."""
    try:
        return await posts.receive_vote(conn, voter_id, poll_uri, obj.get("name"), obj.get("id"))
    except ValidationError as exc:
        raise Ignore("bad_vote", exc.message) from None
    except Gone as exc:
        raise Ignore("poll_closed", exc.message) from None
    except Conflict as exc:
        raise Ignore("already_voted", exc.message) from None


async def on_create(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Create of a Note/Article/Page/Question/Event by the signer."""
    actor_id = await the_actor(app, activity, signer_id)
    actor_uri = first_id(activity.get("actor"))
    obj = await fetch_object(app, activity.get("object"), trusted_actor=actor_uri)
    await _create_object(app, activity, obj, actor_id, actor_uri)


async def _create_object(
    app: web.Application,
    activity: dict[str, Any],
    obj: dict[str, Any],
    actor_id: int,
    actor_uri: str | None,
) -> None:
    if type_of(obj) not in POST_TYPES:
        raise Ignore("unsupported_object", f"Create of {type_of(obj) or 'unknown'}")
    author_uri = first_id(obj.get("attributedTo")) or actor_uri
    if author_uri != actor_uri or not same_origin(obj.get("id"), author_uri):
        raise Ignore("origin_mismatch", "the object is not the actor's")
    await _resolve_mentions(app, obj)
    await _store(app, activity, obj, actor_id)


async def _resolve_mentions(app: web.Application, obj: dict[str, Any]) -> None:
    """Make sure a community named in the addressing is known (its Group may be remote)."""
    audience = first_id(obj.get("audience"))
    for uri in [audience] if audience is not None else []:
        try:
            group_id = await resolve_actor(app, uri)
        except FederationError:
            continue
        async with ctx_of(app).db.write() as conn:
            group = await actor_row(conn, group_id)
            if group.kind == "group" and group.domain is not None:
                await ensure_remote_community(conn, group)


def is_actor_update(activity: dict[str, Any]) -> bool:
    """Is this ``Update`` about an actor (a profile refresh) rather than a post?"""
    inner = activity.get("object")
    return type_of(inner) in ACTOR_TYPES or first_id(inner) == first_id(activity.get("actor"))


async def on_update_actor(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Update of an actor: its profile (and a Group's community row) is refreshed."""
    actor_id = await the_actor(app, activity, signer_id)
    actor_uri = named_actor(activity)
    inner = activity.get("object")
    if first_id(inner) != actor_uri:
        raise Ignore("origin_mismatch", "an actor may only update itself")
    try:
        await resolve_actor(app, actor_uri, refresh=True)
    except FederationError as exc:
        raise Ignore("refresh_failed", f"{actor_uri}: {exc}") from None
    async with ctx_of(app).db.write() as conn:
        refreshed = await actor_row(conn, actor_id)
        if refreshed.kind == "group":
            await refresh_remote_community(conn, refreshed)
    if refreshed.kind == "group":  # its purpose process may have moved (phase, decisions): catch up
        await group_updated(app, actor_id, inner)


async def on_update_post(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Update of a post: an edit with history (stored as new when we never saw it)."""
    actor_id = await the_actor(app, activity, signer_id)
    actor_uri = first_id(activity.get("actor"))
    obj = await fetch_object(app, activity.get("object"), trusted_actor=actor_uri)
    if type_of(obj) not in POST_TYPES:
        raise Ignore("unsupported_object", f"Update of {type_of(obj) or 'unknown'}")
    async with ctx_of(app).db.write() as conn:
        post = await remote_posts.post_by_uri(conn, obj.get("id"))
        if post is not None and post.author_id != actor_id:
            raise Ignore("not_author", "only the author may edit")
        if post is not None and post.deleted_at is None:
            await update_from_activity(conn, obj, post)
            await notifications.for_edit(conn, post.id)
            return
    if post is None:  # an edit of something we never saw: store it as new
        await _create_object(app, activity, obj, actor_id, actor_uri)


def is_actor_delete(activity: dict[str, Any]) -> bool:
    """Is this ``Delete`` the actor deleting itself?"""
    return first_id(activity.get("object")) == first_id(activity.get("actor"))


async def on_delete_actor(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Delete of the actor itself: its posts are wiped, its follows go, it is suspended."""
    async with ctx_of(app).db.write() as conn:
        actor = await _deleting_actor(conn, activity, signer_id)
        await remote_posts.receive_actor_delete(conn, actor.id)


async def _deleting_actor(conn: Any, activity: dict[str, Any], signer_id: int) -> Row:
    actor = await actor_by_uri(conn, first_id(activity.get("actor")))
    if actor is None or actor.id != signer_id:
        raise Ignore("unknown_actor", "Delete from an actor we do not know")
    return actor


async def on_delete_post(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Delete of a post: its content is wiped (and a community's Group relays the Delete)."""
    target = first_id(activity.get("object"))
    async with ctx_of(app).db.write() as conn:
        actor = await _deleting_actor(conn, activity, signer_id)
        post = await remote_posts.post_by_uri(conn, target)
        if post is None or post.deleted_at is not None:
            raise Ignore("unknown_object", "Delete of something we do not have")
        if post.author_id != actor.id:
            raise Ignore("not_author", "only the author may delete")
        community_post = post
        await wipe_post(conn, post)
        if community_post.community_id is not None:
            await app[OUTBOX].announce_by_group(conn, community_post, activity)


async def on_announce(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """A boost, or a Group relaying a member's activity (FEP-1b12)."""
    actor_id = await the_actor(app, activity, signer_id)
    announcer_uri = named_actor(activity)
    inner = activity.get("object")
    async with ctx_of(app).db.write() as conn:
        announcer = await actor_row(conn, actor_id)
        if announcer.kind == "group":
            await ensure_remote_community(conn, announcer)
    signers = await local_members_of_group(app, announcer_uri) if announcer.kind == "group" else []
    if isinstance(inner, str):
        inner = await fetch_object(app, inner, as_actors=signers)
    if type_of(inner) in RELAYED and isinstance(inner, dict):
        await _relayed(app, inner, announcer_uri, signers)
        return
    async with ctx_of(app).db.read() as conn:
        known = await remote_posts.post_by_uri(conn, first_id(inner))
    if (
        known is not None and announcer.kind != "group"
    ):  # a boost of a post we hold: no fetch needed
        await _store_boost(app, activity, int(known.id), actor_id)
        return
    obj = await fetch_object(app, inner, trusted_actor=announcer_uri)
    if type_of(obj) not in POST_TYPES:
        raise Ignore("unsupported_object", f"Announce of {type_of(obj) or 'unknown'}")
    author_id = await resolve(app, first_id(obj.get("attributedTo")))
    if not same_origin(obj.get("id"), first_id(obj.get("attributedTo"))):
        raise Ignore("origin_mismatch", "announced object not from its author's host")
    original_id = await _store(
        app, {"type": "Create", "id": f"{obj['id']}#relayed", "object": obj}, obj, author_id
    )
    if announcer.kind == "group":
        return  # a Group relaying a post: the post itself is what matters
    await _store_boost(app, activity, original_id, actor_id)


RELAYED = ("Create", "Update", "Delete", "Like", "Undo", "Add", "Remove")


async def _relayed_object(
    app: web.Application, value: Any, group_uri: str, signers: list[int]
) -> dict[str, Any]:
    """The object of a relayed activity: embedded when it comes from the Group's host, else fetched
    from its origin (the transport already replaced embedded copies from other hosts by their ids).

    The fetch is signed as a local member of the community (``signers``): a community-only post
    written on a third instance is shown by its origin to members only, not to our instance actor.
    """
    if isinstance(value, dict) and same_origin(value.get("id"), group_uri):
        return value
    return await fetch_object(app, first_id(value), as_actors=signers)


async def _relayed(
    app: web.Application, inner: dict[str, Any], group_uri: str, signers: list[int]
) -> None:
    """An activity a Group relays: believed only as far as it can be checked."""
    kind = type_of(inner)
    inner_actor = first_id(inner.get("actor"))
    author_id = await resolve(app, inner_actor)
    if kind in ("Create", "Update"):
        obj = await _relayed_object(app, inner.get("object"), group_uri, signers)
        if first_id(obj.get("attributedTo")) != inner_actor:
            raise Ignore("origin_mismatch", "relayed object not by the relayed actor")
        if kind == "Update":
            relayed = {**inner, "object": obj}
            update = on_update_actor if is_actor_update(relayed) else on_update_post
            await update(app, relayed, author_id)
        else:
            await _create_object(app, inner, obj, author_id, inner_actor)
        return
    if kind == "Delete":
        target = first_id(inner.get("object"))
        async with ctx_of(app).db.read() as conn:
            post = await remote_posts.post_by_uri(conn, target)
            group_community = (await remote_posts.communities_named(conn, [group_uri])).get(
                group_uri
            )
        if post is None or post.community_id is None or post.community_id != group_community:
            raise Ignore("not_in_community", "relayed Delete of something outside the Group")
        try:
            await fetch_object(app, target, as_actors=signers)
        except Ignore:  # gone (or hidden) at its origin: the delete stands
            delete = on_delete_actor if is_actor_delete(inner) else on_delete_post
            await delete(app, inner, author_id)
            return
        raise Ignore("still_exists", "relayed Delete of an object that still exists at its origin")
    if kind in ("Add", "Remove"):
        await on_add_remove(app, inner, author_id)
        return
    raise Ignore("unsupported_relay", f"relayed {kind} is not handled")


async def _store_boost(
    app: web.Application, activity: dict[str, Any], original_id: int, booster_id: int
) -> None:
    async with ctx_of(app).db.write() as conn:
        try:
            await posts.receive_boost(conn, booster_id, original_id, activity["id"])
        except NotFound as exc:
            raise Ignore("gone", exc.message) from None
        except Forbidden as exc:
            raise Ignore("not_boostable", exc.message) from None


async def on_add_remove(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Add/Remove of a role holder: local roles by a (remote) manager; a remote Group's own roles."""
    actor_id = await the_actor(app, activity, signer_id)
    target = activity.get("target")
    target_uri = first_id(target)
    if target_uri and target_uri.endswith("/moderators"):
        await _moderators(app, activity, actor_id, target_uri)
        return
    if not target_uri or not target_uri.endswith("/holders"):
        raise Ignore("unsupported_target", "Add/Remove outside a role's holders or moderators")
    role_uri = target_uri.removesuffix("/holders")
    holder_id = await resolve(app, first_id(activity.get("object")))
    name = target.get("name") if isinstance(target, dict) else None
    async with ctx_of(app).db.write() as conn:
        try:
            await roles.receive_holder_change(
                conn,
                actor_id,
                role_uri,
                holder_id,
                add=type_of(activity) == "Add",
                name=name if isinstance(name, str) else None,
                from_role_host=same_origin(role_uri, first_id(activity.get("actor"))),
            )
        except NotFound as exc:
            raise Ignore("unknown_role", exc.message) from None
        except Forbidden as exc:
            raise Ignore("not_manager", exc.message) from None


async def _moderators(
    app: web.Application, activity: dict[str, Any], actor_id: int, target_uri: str
) -> None:
    """A remote Group's moderators (Lemmy style), kept as the managers of its community row
    (``remote_groups.receive_moderator_change``)."""
    moderator_id = await resolve(app, first_id(activity.get("object")))
    async with ctx_of(app).db.write() as conn:
        try:
            await remote_groups.receive_moderator_change(
                conn,
                actor_id,
                target_uri.removesuffix("/moderators"),
                moderator_id,
                add=type_of(activity) == "Add",
            )
        except NotFound as exc:
            raise Ignore("unknown_group", exc.message) from None
        except Forbidden as exc:
            raise Ignore("not_manager", exc.message) from None
