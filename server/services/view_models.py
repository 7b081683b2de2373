"""Read models: posts and actors as the pages, feeds and APIs show them (``views`` loads them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from server import clock
from server.visibility import Audience


@dataclass(slots=True)
class ActorView:
    id: int
    uri: str
    kind: str
    username: str
    domain: str | None
    display_name: str
    summary_html: str
    url: str | None
    avatar_url: str | None
    header_url: str | None
    fields: list
    locked: bool
    bot: bool
    discoverable: bool
    created_at: datetime
    local_domain: str

    @property
    def local(self) -> bool:
        return self.domain is None

    @property
    def acct(self) -> str:
        """``user`` for local accounts, ``user@host`` for remote ones (as Mastodon)."""
        return self.username if self.domain is None else f"{self.username}@{self.domain}"

    @property
    def handle(self) -> str:
        return f"@{self.username}@{self.domain or self.local_domain}"

    @property
    def name(self) -> str:
        return self.display_name or self.username


@dataclass(slots=True)
class MediaView:
    id: int
    kind: str
    url: str
    preview_url: str
    mime_type: str
    description: str
    width: int | None
    height: int | None
    blurhash: str | None
    focus_x: float
    focus_y: float
    remote_url: str | None


@dataclass(slots=True)
class PollView:
    id: int
    options: list[str]
    counts: list[int]
    multiple: bool
    expires_at: datetime | None
    voters_count: int
    own_votes: list[int]
    # a community's purpose decision (``purpose_decisions``): its counts wait for the vote
    decision: bool = False

    @property
    def expired(self) -> bool:
        exp = clock.aware(self.expires_at)
        return exp is not None and exp <= clock.now()

    @property
    def counts_shown(self) -> bool:
        """A decision's counts show once the viewer has voted or it has ended (they would sway
        the vote, as on the purpose pages); any other poll's always show."""
        return not self.decision or bool(self.own_votes) or self.expired


@dataclass(slots=True)
class PostView:
    id: int
    uri: str
    url: str
    author: ActorView
    kind: str
    audience: Audience
    community_id: int | None
    community_handle: str | None
    community_name: str | None
    title: str | None
    content_html: str
    source: str
    spoiler_text: str
    sensitive: bool
    language: str | None
    in_reply_to_id: int | None
    in_reply_to_uri: str | None
    in_reply_to_author_id: int | None
    thread_root_id: int | None
    roadmap_item_id: int | None
    created_at: datetime
    edited_at: datetime | None
    local: bool
    replies_count: int
    reblogs_count: int
    favourites_count: int
    reblog: PostView | None = None
    media: list[MediaView] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    mentions: list[ActorView] = field(default_factory=list)
    poll: PollView | None = None
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool = False
    muted: bool = False
    roles: list[tuple[int, str]] = field(default_factory=list)
    contributors: list[ActorView] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    community_path: str | None = None  # its page here: /c/{handle} or /c/{handle}@{host}

    def _community_base(self) -> str:
        return self.community_path or f"/c/{self.community_handle}"

    def role_path(self, role_id: int) -> str:
        """A role the post names, here: its page, or its entry on a remote community's roles page."""
        base = self._community_base()
        return f"{base}/roles#role-{role_id}" if "@" in base else f"{base}/roles/{role_id}"

    def roadmap_item_path(self) -> str:
        """The roadmap item the post is about, here (a remote community's roadmap lists its items)."""
        base = self._community_base()
        return (
            f"{base}/roadmap#item-{self.roadmap_item_id}"
            if "@" in base
            else f"{base}/roadmap/{self.roadmap_item_id}"
        )


def media_url(base: str, path: str | None, remote: str | None) -> str:
    if path:
        return f"{base}/media/{path}"
    return remote or ""


def actor_view(row: sa.Row, base: str, local_domain: str) -> ActorView:
    m = row._mapping
    return ActorView(
        id=m["id"],
        uri=m["uri"],
        kind=m["kind"],
        username=m["username"],
        domain=m["domain"],
        display_name=m["display_name"] or "",
        summary_html=m["summary_html"] or "",
        url=m["url"],
        avatar_url=media_url(base, m["avatar_path"], m["avatar_url"]) or None,
        header_url=media_url(base, m["header_path"], m["header_url"]) or None,
        fields=list(m["fields"] or []),
        locked=bool(m["manually_approves_followers"]),
        bot=bool(m["bot"]),
        discoverable=bool(m["discoverable"]),
        created_at=clock.aware(m["created_at"]),
        local_domain=local_domain,
    )
