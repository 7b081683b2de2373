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

import sqlalchemy as sa
from aiohttp import web

from federation.actors import resolve_actor
from federation.errors import FederationError, Ignore
from server import clock
from server.activitypub.incoming_common import (
    OUTBOX,
    actor_by_uri,
    actor_row,
    ctx_of,
    ensure_remote_community,
    fetch_object,
    local_members_of_group,
    named_actor,
    refresh_remote_community,
    resolve,
    the_actor,
)
from server.activitypub.ingest import (
    known_communities,
    post_from_activity,
    update_from_activity,
    wipe_post,
)
from server.activitypub.purpose_sync import group_updated
from server.activitypub.vocab import POST_TYPES, first_id, koers, same_origin, type_of
from server.services import ideas, notifications
from server.services.follows import community_managers
from server.services.posts import is_member
from server.storage import schema as t
from server.storage.rows import inserted_id

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
        post = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == post_id))).one()
        community = None
        if post.community_id is not None:
            community = (
                await conn.execute(
                    sa.select(t.communities).where(t.communities.c.id == post.community_id)
                )
            ).one()
        ours = community is not None and community.local
        outsider = (
            community is not None and ours and not await is_member(conn, community.id, author_id)
        )
        if (
            outsider
            and community is not None
            and (community.openness != "open" or not community.accept_outside_ideas)
        ):
            if post.audience == "community":
                raise Ignore("not_member", "post to a community from a non-member")
            # A public post that merely mentions the community stays, without joining it.
            await conn.execute(
                t.posts.update().where(t.posts.c.id == post_id).values(community_id=None)
            )
            ours = outsider = False
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
        event = await ctx.events.emit(conn, "post.received", post_id=post_id, author_id=author_id)
    await ctx.events.committed(event)
    return post_id


async def _poll_vote(conn: Any, obj: dict[str, Any], voter_id: int, poll_uri: str) -> bool:
    """A Mastodon-style vote (a Note with only a name, replying to a local Question)."""
    row = (
        await conn.execute(
            sa.select(t.polls)
            .join(t.posts, t.posts.c.id == t.polls.c.post_id)
            .where(t.posts.c.uri == poll_uri, t.posts.c.local.is_(True))
        )
    ).first()
    if row is None:
        return False
    name = obj.get("name")
    if name not in row.options:
        raise Ignore("bad_vote", "no such poll option")
    choice = row.options.index(name)
    if row.expires_at is not None and clock.aware(row.expires_at) <= clock.now():
        raise Ignore("poll_closed", "the poll has ended")
    voted = await conn.execute(
        sa.select(t.poll_votes.c.choice).where(
            t.poll_votes.c.poll_id == row.id, t.poll_votes.c.actor_id == voter_id
        )
    )
    previous = [r[0] for r in voted]
    if choice in previous or (previous and not row.multiple):
        raise Ignore("already_voted", "one vote per person")
    await conn.execute(
        t.poll_votes.insert().values(
            poll_id=row.id,
            actor_id=voter_id,
            choice=choice,
            uri=obj.get("id"),
            created_at=clock.now(),
        )
    )
    return True


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


async def on_update(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Update of a post (edit with history) or of an actor (profile refresh)."""
    actor_id = await the_actor(app, activity, signer_id)
    actor_uri = named_actor(activity)
    inner = activity.get("object")
    if type_of(inner) in ACTOR_TYPES or first_id(inner) == actor_uri:
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
        if (
            refreshed.kind == "group"
        ):  # its purpose process may have moved (phase, decisions): catch up
            await group_updated(app, actor_id, inner)
        return
    obj = await fetch_object(app, inner, trusted_actor=actor_uri)
    if type_of(obj) not in POST_TYPES:
        raise Ignore("unsupported_object", f"Update of {type_of(obj) or 'unknown'}")
    async with ctx_of(app).db.write() as conn:
        post = (
            await conn.execute(sa.select(t.posts).where(t.posts.c.uri == obj.get("id")))
        ).first()
        if post is not None and post.author_id != actor_id:
            raise Ignore("not_author", "only the author may edit")
        if post is not None and post.deleted_at is None:
            await update_from_activity(conn, obj, post)
            await notifications.for_edit(conn, post.id)
            return
    if post is None:  # an edit of something we never saw: store it as new
        await _create_object(app, activity, obj, actor_id, actor_uri)


async def on_delete(app: web.Application, activity: dict[str, Any], signer_id: int) -> None:
    """Delete of a post (content wiped) or of the actor itself (its posts and follows go)."""
    actor_uri = first_id(activity.get("actor"))
    target = first_id(activity.get("object"))
    ctx = ctx_of(app)
    async with ctx.db.write() as conn:
        actor = await actor_by_uri(conn, actor_uri)
        if actor is None or actor.id != signer_id:
            raise Ignore("unknown_actor", "Delete from an actor we do not know")
        if target == actor_uri:
            for own in await conn.execute(
                sa.select(t.posts).where(
                    t.posts.c.author_id == actor.id, t.posts.c.deleted_at.is_(None)
                )
            ):
                await wipe_post(conn, own)
            await conn.execute(
                t.follows.delete().where(
                    sa.or_(t.follows.c.follower_id == actor.id, t.follows.c.target_id == actor.id)
                )
            )
            await conn.execute(
                t.actors.update().where(t.actors.c.id == actor.id).values(suspended=True)
            )
            return
        post = (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == target))).first()
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
        known = (
            await conn.execute(sa.select(t.posts.c.id).where(t.posts.c.uri == first_id(inner)))
        ).scalar()
    if (
        known is not None and announcer.kind != "group"
    ):  # a boost of a post we hold: no fetch needed
        await _store_boost(app, activity, int(known), actor_id)
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
            await on_update(app, {**inner, "object": obj}, author_id)
        else:
            await _create_object(app, inner, obj, author_id, inner_actor)
        return
    if kind == "Delete":
        target = first_id(inner.get("object"))
        async with ctx_of(app).db.read() as conn:
            post = (await conn.execute(sa.select(t.posts).where(t.posts.c.uri == target))).first()
            group_community = (
                await conn.execute(
                    sa.select(t.communities.c.id)
                    .join(t.actors, t.actors.c.id == t.communities.c.actor_id)
                    .where(t.actors.c.uri == group_uri)
                )
            ).scalar()
        if post is None or post.community_id is None or post.community_id != group_community:
            raise Ignore("not_in_community", "relayed Delete of something outside the Group")
        try:
            await fetch_object(app, target, as_actors=signers)
        except Ignore:  # gone (or hidden) at its origin: the delete stands
            await on_delete(app, inner, author_id)
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
        if (
            await conn.execute(sa.select(t.posts.c.id).where(t.posts.c.uri == activity.get("id")))
        ).first():
            return
        original = (await conn.execute(sa.select(t.posts).where(t.posts.c.id == original_id))).one()
        if original.deleted_at is not None:
            raise Ignore("gone", "boost of a deleted post")
        if original.audience not in ("public", "unlisted"):
            raise Ignore("not_boostable", "only public and unlisted posts can be boosted")
        await conn.execute(
            t.posts.insert().values(
                uri=activity["id"],
                url=activity["id"],
                author_id=booster_id,
                local=False,
                kind="note",
                audience=original.audience,
                reblog_of_id=original_id,
                extra={},
                created_at=clock.now(),
            )
        )
        await conn.execute(
            t.posts.update()
            .where(t.posts.c.id == original_id)
            .values(reblogs_count=t.posts.c.reblogs_count + 1)
        )
        await notifications.notify(
            conn, original.author_id, "reblog", from_actor_id=booster_id, post_id=original_id
        )


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
    ctx = ctx_of(app)
    async with ctx.db.write() as conn:
        actor = await actor_row(conn, actor_id)
        role = (await conn.execute(sa.select(t.roles).where(t.roles.c.uri == role_uri))).first()
        if role is None and actor.kind == "group" and same_origin(role_uri, actor.uri):
            community_id = await ensure_remote_community(conn, actor)
            name = (
                n
                if isinstance(target, dict) and isinstance(n := target.get("name"), str)
                else role_uri
            )
            res = await conn.execute(
                t.roles.insert().values(
                    community_id=community_id,
                    name=name[:120],
                    uri=role_uri,
                    fill_mode="assigned",
                    created_at=clock.now(),
                )
            )
            role = (
                await conn.execute(sa.select(t.roles).where(t.roles.c.id == inserted_id(res)))
            ).one()
        if role is None:
            raise Ignore("unknown_role", "no such role")
        group = (
            await conn.execute(
                sa.select(t.actors)
                .join(t.communities, t.communities.c.actor_id == t.actors.c.id)
                .where(t.communities.c.id == role.community_id)
            )
        ).one()
        allowed = actor.id == group.id or actor.id in await community_managers(
            conn, role.community_id
        )
        if not allowed:
            raise Ignore("not_manager", "only the community or its managers change role holders")
        cond = sa.and_(t.role_holders.c.role_id == role.id, t.role_holders.c.actor_id == holder_id)
        await conn.execute(t.role_holders.delete().where(cond))
        if type_of(activity) == "Add":
            await conn.execute(
                t.role_holders.insert().values(
                    role_id=role.id, actor_id=holder_id, state="held", created_at=clock.now()
                )
            )
            await notifications.notify(
                conn,
                holder_id,
                "koers.role_assigned",
                from_actor_id=actor_id,
                community_id=role.community_id,
                extra={"role_id": role.id, "role": role.name},
            )


async def _moderators(
    app: web.Application, activity: dict[str, Any], actor_id: int, target_uri: str
) -> None:
    """A remote Group's moderators (Lemmy style), kept as the managers of its community row.

    Believed from the Group itself or from one of its known moderators, on the Group's host.
    """
    moderator_id = await resolve(app, first_id(activity.get("object")))
    async with ctx_of(app).db.write() as conn:
        group = await actor_by_uri(conn, target_uri.removesuffix("/moderators"))
        if group is None or group.kind != "group" or group.domain is None:
            raise Ignore("unknown_group", "moderators of a Group we do not know")
        community_id = await ensure_remote_community(conn, group)
        actor = await actor_row(conn, actor_id)
        on_group_host = actor.domain == group.domain
        if actor_id != group.id and (
            not on_group_host or actor_id not in await community_managers(conn, community_id)
        ):
            raise Ignore(
                "not_manager", "only the Group or its moderators on its host change its moderators"
            )
        pair = sa.and_(
            t.community_managers.c.community_id == community_id,
            t.community_managers.c.actor_id == moderator_id,
        )
        await conn.execute(t.community_managers.delete().where(pair))
        if type_of(activity) == "Add":
            await conn.execute(
                t.community_managers.insert().values(
                    community_id=community_id, actor_id=moderator_id, created_at=clock.now()
                )
            )
