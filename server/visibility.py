"""The one visibility policy of Koers.

Every read path (pages, feeds, ActivityPub GET, the Mastodon API, search, notifications, streaming,
media) asks this module who may see an object; nothing filters on its own. Side by side:

- ``Audience``: the seven audiences of DESIGN.md;
- ``visible_clause``: the SQL form (a WHERE clause) — the single source of truth;
- ``can_see_post`` / ``can_see_item`` / ``can_see_event``: the same rule for one object, evaluated through the clause;
- ``addressing`` / ``audience_from_addressing``: the ActivityPub to/cc mapping, both ways;
- ``reply_audience`` / ``can_boost``: replies and boosts never widen an audience;
- ``member_list_visible`` / ``can_see_members`` / ``memberships_shown_to``: who may learn who is in a
  community (its member list, and the follows of its Group on members' following lists).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from server.storage import schema as t

PUBLIC_COLLECTION = "https://www.w3.org/ns/activitystreams#Public"
_PUBLIC_ALIASES = {PUBLIC_COLLECTION, "as:Public", "Public"}


class Audience(enum.StrEnum):
    """Who can see one object. Exactly one per object."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"
    COMMUNITY = "community"
    MEMBERS = "members"
    PARTNERS = "partners"
    DIRECT = "direct"

    @property
    def listed(self) -> bool:
        """Shown on public timelines, feeds and profile listings for anyone."""
        return self is Audience.PUBLIC

    @property
    def open_to_all(self) -> bool:
        """Readable by anyone holding the link."""
        return self in (Audience.PUBLIC, Audience.UNLISTED)

    @property
    def federates(self) -> bool:
        """``members`` is local-only and never leaves the instance."""
        return self is not Audience.MEMBERS

    @classmethod
    def parse(cls, value: str) -> Audience:
        try:
            return cls(value)
        except ValueError:
            allowed = ", ".join(a.value for a in cls)
            raise ValueError(f"unknown audience {value!r}; use one of {allowed}") from None


# Audiences a roadmap item (or another non-post object) may take.
ITEM_AUDIENCES = (
    Audience.PUBLIC,
    Audience.UNLISTED,
    Audience.COMMUNITY,
    Audience.MEMBERS,
    Audience.PARTNERS,
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whoever is looking: anonymous, a local member, or a remote actor (signed fetch)."""

    actor_id: int | None = None
    local: bool = False
    domain: str | None = None
    is_admin: bool = False

    @property
    def anonymous(self) -> bool:
        return self.actor_id is None


ANONYMOUS = Viewer()


def anonymous_audiences() -> list[str]:
    """Everything an anonymous viewer may see is in these audiences, whoever wrote it: a count
    kept per audience (``post_reply_counts``) answers for it without a per-row check."""
    return [a.value for a in Audience if a.open_to_all]


def _member_of(community_col: sa.ColumnElement, actor_id: int) -> sa.ColumnElement[bool]:
    """The viewer is an accepted member (follower of the Group actor) of the community."""
    return sa.exists(
        sa.select(1)
        .select_from(
            t.follows.join(t.communities, t.communities.c.actor_id == t.follows.c.target_id)
        )
        .where(
            t.communities.c.id == community_col,
            t.follows.c.follower_id == actor_id,
            t.follows.c.state == "accepted",
        )
    )


def _follower_of(author_col: sa.ColumnElement, actor_id: int) -> sa.ColumnElement[bool]:
    return sa.exists(
        sa.select(1).where(
            t.follows.c.target_id == author_col,
            t.follows.c.follower_id == actor_id,
            t.follows.c.state == "accepted",
        )
    )


def _partner_domain(domain: str) -> sa.ColumnElement[bool]:
    return sa.exists(
        sa.select(1).where(t.partners.c.domain == domain, t.partners.c.state == "active")
    )


def visible_clause(
    viewer: Viewer,
    *,
    audience: sa.ColumnElement,
    author_id: sa.ColumnElement,
    community_id: sa.ColumnElement,
    post_id: sa.ColumnElement | None = None,
) -> sa.ColumnElement[bool]:
    """SQL condition: may ``viewer`` see a row with these audience/author/community columns?

    ``post_id`` enables "mentioned actors may see it" (posts only).
    """
    open_to_all = audience.in_(anonymous_audiences())
    if viewer.anonymous:
        return open_to_all
    me = viewer.actor_id
    assert me is not None
    mentioned = (
        sa.exists(
            sa.select(1).where(
                t.post_mentions.c.post_id == post_id, t.post_mentions.c.actor_id == me
            )
        )
        if post_id is not None
        else sa.false()
    )
    parts: list[sa.ColumnElement[bool]] = [
        open_to_all,
        author_id == me,
        mentioned,
        sa.and_(audience == Audience.FOLLOWERS.value, _follower_of(author_id, me)),
        sa.and_(audience == Audience.COMMUNITY.value, _member_of(community_id, me)),
    ]
    if viewer.local:
        parts.append(audience.in_([Audience.MEMBERS.value, Audience.PARTNERS.value]))
    elif viewer.domain:
        parts.append(sa.and_(audience == Audience.PARTNERS.value, _partner_domain(viewer.domain)))
    allowed = sa.or_(*parts)
    if not viewer.local:
        # ``members`` never leaves the instance: a remote actor does not get it even when mentioned.
        allowed = sa.and_(allowed, audience != Audience.MEMBERS.value)
    # An author who blocked the viewer hides everything from them, public posts included.
    blocked = sa.exists(
        sa.select(1).where(t.blocks.c.actor_id == author_id, t.blocks.c.target_id == me)
    )
    return sa.and_(allowed, sa.not_(blocked))


def posts_visible_to(viewer: Viewer, posts: sa.FromClause = t.posts) -> sa.ColumnElement[bool]:
    """The clause for the posts table (or an alias of it), excluding deleted posts."""
    return sa.and_(
        posts.c.deleted_at.is_(None),
        visible_clause(
            viewer,
            audience=posts.c.audience,
            author_id=posts.c.author_id,
            community_id=posts.c.community_id,
            post_id=posts.c.id,
        ),
    )


def items_visible_to(viewer: Viewer) -> sa.ColumnElement[bool]:
    """The clause for roadmap items."""
    ri = t.roadmap_items
    return visible_clause(
        viewer, audience=ri.c.audience, author_id=ri.c.author_id, community_id=ri.c.community_id
    )


def items_listed_for(viewer: Viewer) -> sa.ColumnElement[bool]:
    """Roadmap items visible *and* meant for listings (unlisted items are left out)."""
    return sa.and_(items_visible_to(viewer), t.roadmap_items.c.audience != Audience.UNLISTED.value)


def events_visible_to(viewer: Viewer) -> sa.ColumnElement[bool]:
    """The clause for community events (same audiences as roadmap items; the organiser is the author)."""
    ev = t.events
    return visible_clause(
        viewer, audience=ev.c.audience, author_id=ev.c.organiser_id, community_id=ev.c.community_id
    )


def ideas_visible_to(viewer: Viewer) -> sa.ColumnElement[bool]:
    """The clause for ideas in a community's idea box (audience ``public`` or ``community``)."""
    ideas = t.ideas
    return visible_clause(
        viewer,
        audience=ideas.c.audience,
        author_id=ideas.c.author_id,
        community_id=ideas.c.community_id,
    )


async def can_see_idea(conn: AsyncConnection, viewer: Viewer, idea_id: int) -> bool:
    """May ``viewer`` see this idea?"""
    row = await conn.execute(sa.select(1).where(t.ideas.c.id == idea_id, ideas_visible_to(viewer)))
    return row.first() is not None


def listed_for(viewer: Viewer, posts: sa.FromClause = t.posts) -> sa.ColumnElement[bool]:
    """Visible *and* meant for listings: unlisted posts are left out of timelines and feeds."""
    return sa.and_(posts_visible_to(viewer, posts), posts.c.audience != Audience.UNLISTED.value)


async def can_see_post(conn: AsyncConnection, viewer: Viewer, post_id: int) -> bool:
    """May ``viewer`` see this post? Evaluated through the same SQL clause as every listing."""
    row = await conn.execute(sa.select(1).where(t.posts.c.id == post_id, posts_visible_to(viewer)))
    return row.first() is not None


async def can_see_item(conn: AsyncConnection, viewer: Viewer, item_id: int) -> bool:
    """May ``viewer`` see this roadmap item?"""
    row = await conn.execute(
        sa.select(1).where(t.roadmap_items.c.id == item_id, items_visible_to(viewer))
    )
    return row.first() is not None


async def can_see_event(conn: AsyncConnection, viewer: Viewer, event_id: int) -> bool:
    """May ``viewer`` see this community event?"""
    row = await conn.execute(
        sa.select(1).where(t.events.c.id == event_id, events_visible_to(viewer))
    )
    return row.first() is not None


def member_list_visible(
    viewer: Viewer, communities: sa.FromClause = t.communities
) -> sa.ColumnElement[bool]:
    """SQL form of ``can_see_members`` for a row of ``communities`` (its ``member_list_visibility``)."""
    mode = communities.c.member_list_visibility
    parts: list[sa.ColumnElement[bool]] = [mode == "public"]
    if not viewer.anonymous:
        assert viewer.actor_id is not None
        if viewer.local:
            parts.append(mode == "instance")
        follow = t.follows.alias(
            "member_follow"
        )  # its own alias: callers may list follows themselves
        member = sa.exists(
            sa.select(1).where(
                follow.c.target_id == communities.c.actor_id,
                follow.c.follower_id == viewer.actor_id,
                follow.c.state == "accepted",
            )
        )
        parts.append(sa.and_(mode == "members", member))
    return sa.or_(*parts)


def memberships_shown_to(viewer: Viewer, target_id: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """For a listing of whom someone follows: a follow of a community's Group (a membership) is shown
    only to those who may see that community's member list; follows of anyone else always are."""
    community = t.communities.alias("followed_community")
    hidden = sa.select(1).where(
        community.c.actor_id == target_id, sa.not_(member_list_visible(viewer, community))
    )
    return sa.not_(sa.exists(hidden))


async def can_see_members(conn: AsyncConnection, viewer: Viewer, community_id: int) -> bool:
    """May ``viewer`` see the member list of a community (its ``member_list_visibility``)?"""
    row = await conn.execute(
        sa.select(1).where(t.communities.c.id == community_id, member_list_visible(viewer))
    )
    return row.first() is not None


def reply_audience(parent: Audience, requested: Audience) -> Audience:
    """A reply never reaches further than its parent: outside public/unlisted it keeps the parent's."""
    if parent.open_to_all:
        if parent is Audience.UNLISTED and requested is Audience.PUBLIC:
            return Audience.UNLISTED
        return requested
    if requested is Audience.DIRECT:
        return Audience.DIRECT
    return parent


def can_boost(audience: Audience) -> bool:
    """Only posts anyone may read can be boosted (as Mastodon); a boost keeps the original's audience."""
    return audience.open_to_all


# --- ActivityPub addressing ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Addressing:
    to: list[str]
    cc: list[str]
    audience: str | None = None


def addressing(
    audience: Audience,
    *,
    followers_url: str,
    mentioned: Iterable[str] = (),
    community_uri: str | None = None,
    partners_url: str | None = None,
) -> Addressing | None:
    """The to/cc of an object with this audience, or ``None`` for ``members`` (never federated)."""
    mentions = [m for m in dict.fromkeys(mentioned)]
    if audience is Audience.PUBLIC:
        return Addressing([PUBLIC_COLLECTION], [followers_url, *mentions], community_uri)
    if audience is Audience.UNLISTED:
        return Addressing([followers_url], [PUBLIC_COLLECTION, *mentions], community_uri)
    if audience is Audience.FOLLOWERS:
        return Addressing([followers_url], mentions, community_uri)
    if audience is Audience.COMMUNITY:
        if not community_uri:
            raise ValueError("a community post needs its community")
        return Addressing([community_uri], mentions, community_uri)
    if audience is Audience.PARTNERS:
        if not partners_url:
            raise ValueError("a partners post needs the partners collection")
        return Addressing([partners_url], mentions, community_uri)
    if audience is Audience.DIRECT:
        return Addressing(mentions, [], None)
    return None


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        out = []
        for v in value:
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, dict) and isinstance(v.get("id"), str):
                out.append(v["id"])
        return out
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return [value["id"]]
    return []


def audience_from_addressing(
    document: dict,
    *,
    followers_url: str | None,
    community_uris: Iterable[str] = (),
    partner_collections: Iterable[str] = (),
) -> tuple[Audience, str | None]:
    """The audience of a remote object from its addressing, and the community it names if any.

    Anything not understood is treated as the narrowest audience that fits (``direct``).
    """
    to = _as_list(document.get("to"))
    cc = _as_list(document.get("cc"))
    extra = _as_list(document.get("audience"))
    everyone = set(to) | set(cc)
    communities = set(community_uris)
    named_community = next((u for u in [*to, *cc, *extra] if u in communities), None)
    if everyone & _PUBLIC_ALIASES:
        return (
            Audience.PUBLIC if set(to) & _PUBLIC_ALIASES else Audience.UNLISTED
        ), named_community
    if named_community is not None and named_community in everyone:
        return Audience.COMMUNITY, named_community
    # A community named only in ``audience`` (FEP-1b12) tags a followers or partners post of it.
    if followers_url and followers_url in everyone:
        return Audience.FOLLOWERS, named_community
    if everyone & set(partner_collections):
        return Audience.PARTNERS, named_community
    if named_community is not None:
        return Audience.COMMUNITY, named_community
    return Audience.DIRECT, None
