"""Table definitions (SQLAlchemy Core). The Alembic migrations are the history of this file.

Actors are one table for local and remote, people, communities and the organisation, so follows,
mentions and deliveries need no special cases. ``users`` holds what only local accounts have.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def _pk() -> sa.Column:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column:
    return sa.Column(
        name, Id, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True
    )


actors = sa.Table(
    "actors",
    metadata,
    _pk(),
    sa.Column("uri", sa.String(2048), nullable=False, unique=True),
    # person | group | organization | service | application
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("username", sa.String(255), nullable=False),
    # NULL for local actors
    sa.Column("domain", sa.String(255), nullable=True, index=True),
    sa.Column("display_name", sa.String(255), nullable=False, server_default=""),
    sa.Column("summary_html", sa.Text, nullable=False, server_default=""),
    sa.Column("url", sa.String(2048), nullable=True),
    sa.Column("inbox", sa.String(2048), nullable=True),
    sa.Column("shared_inbox", sa.String(2048), nullable=True),
    sa.Column("outbox", sa.String(2048), nullable=True),
    sa.Column("followers_url", sa.String(2048), nullable=True),
    sa.Column("following_url", sa.String(2048), nullable=True),
    sa.Column("featured_url", sa.String(2048), nullable=True),
    sa.Column("key_id", sa.String(2048), nullable=True),
    sa.Column("public_key_pem", sa.Text, nullable=True),
    sa.Column("private_key_pem", sa.Text, nullable=True),
    sa.Column("avatar_path", sa.String(512), nullable=True),
    sa.Column("header_path", sa.String(512), nullable=True),
    sa.Column("avatar_url", sa.String(2048), nullable=True),
    sa.Column("header_url", sa.String(2048), nullable=True),
    # [{"name": ..., "value": ...}] with values as sanitised HTML
    sa.Column("fields", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("manually_approves_followers", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("discoverable", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("bot", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("suspended", sa.Boolean, nullable=False, server_default=sa.false()),
    # limited by a moderator: hidden from the public and organisation feeds, the directory, explore
    sa.Column("silenced", sa.Boolean, nullable=False, server_default=sa.false()),
    # extra AP document bits (Koers terms of remote actors)
    sa.Column("extra", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Column("fetched_at", Stamp, nullable=True),
    sa.UniqueConstraint("username", "domain", name="uq_actors_username_domain"),
)
# NULLs are distinct in a unique constraint, so local handles need their own partial index.
sa.Index(
    "uq_actors_local_username",
    actors.c.username,
    unique=True,
    sqlite_where=actors.c.domain.is_(None),
)
# The PostgreSQL half of partial indexes (``postgresql_where``), given to an index when PostgreSQL
# compiles its CREATE INDEX: named in the ``sa.Index`` above, it would load the whole PostgreSQL
# dialect (2.4 MiB) into every SQLite process as this module is imported.
POSTGRESQL_WHERE = {"uq_actors_local_username": actors.c.domain.is_(None)}


@compiles(CreateIndex, "postgresql")
def _create_index_on_postgresql(create: CreateIndex, compiler: Any, **kw: Any) -> str:
    where = POSTGRESQL_WHERE.get(str(create.element.name))
    if where is not None:
        create.element.dialect_kwargs["postgresql_where"] = where
    return str(compiler.visit_create_index(create, **kw))


users = sa.Table(
    "users",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false()),
    # moderators handle reports, silence and suspend; administrators also run the instance
    sa.Column("is_moderator", sa.Boolean, nullable=False, server_default=sa.false()),
    # active | pending (approval queue) | disabled
    sa.Column("state", sa.String(20), nullable=False, server_default="active"),
    sa.Column("signup_reason", sa.Text, nullable=False, server_default=""),
    sa.Column("default_audience", sa.String(20), nullable=False, server_default="public"),
    sa.Column("bio_source", sa.Text, nullable=False, server_default=""),
    sa.Column("bio_format", sa.String(20), nullable=False, server_default="markdown"),
    sa.Column("locale", sa.String(16), nullable=False, server_default="en"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("last_login_at", Stamp, nullable=True),
)

invites = sa.Table(
    "invites",
    metadata,
    _pk(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    _fk("created_by", "users.id", nullable=True, ondelete="SET NULL"),
    sa.Column("max_uses", sa.Integer, nullable=True),
    sa.Column("uses", sa.Integer, nullable=False, server_default="0"),
    sa.Column("expires_at", Stamp, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)

login_failures = sa.Table(
    "login_failures",
    metadata,
    _pk(),
    # the login name tried (lower-cased) and the client address
    sa.Column("login", sa.String(320), nullable=False, index=True),
    sa.Column("address", sa.String(64), nullable=False, index=True),
    sa.Column("at", Stamp, nullable=False, index=True),
)

competencies = sa.Table(
    "competencies",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    sa.Column("name", sa.String(100), nullable=False, index=True),
    # learning | practised | expert | NULL
    sa.Column("level", sa.String(20), nullable=True),
    sa.UniqueConstraint("actor_id", "name", name="uq_competencies_actor_name"),
)

follows = sa.Table(
    "follows",
    metadata,
    _pk(),
    # indexed with state below (the follower and following counts read the index alone)
    sa.Column("follower_id", Id, sa.ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    # a person, or a community's Group actor (following a community = joining it)
    sa.Column("target_id", Id, sa.ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    # pending | accepted
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("show_reblogs", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("notify", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("follower_id", "target_id", name="uq_follows_pair"),
)
# follower and following counts from the index alone
sa.Index("ix_follows_target_state", follows.c.target_id, follows.c.state)
sa.Index("ix_follows_follower_state", follows.c.follower_id, follows.c.state)

blocks = sa.Table(
    "blocks",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    _fk("target_id", "actors.id"),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("actor_id", "target_id", name="uq_blocks_pair"),
)

mutes = sa.Table(
    "mutes",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    _fk("target_id", "actors.id"),
    sa.Column("notifications", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("actor_id", "target_id", name="uq_mutes_pair"),
)

communities = sa.Table(
    "communities",
    metadata,
    _pk(),
    # the community's Group actor (handle = actor username)
    _fk("actor_id", "actors.id"),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("description_html", sa.Text, nullable=False, server_default=""),
    sa.Column("description_source", sa.Text, nullable=False, server_default=""),
    # open | approval | invite
    sa.Column("openness", sa.String(20), nullable=False, server_default="open"),
    # public | members (of the community) | instance (local members)
    sa.Column("member_list_visibility", sa.String(20), nullable=False, server_default="public"),
    # whether non-members' posts to the community become ideas
    sa.Column("accept_outside_ideas", sa.Boolean, nullable=False, server_default=sa.true()),
    _fk("created_by", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("local", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Stamp, nullable=False),
)

community_managers = sa.Table(
    "community_managers",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("community_id", "actor_id", name="uq_community_managers_pair"),
)

purpose_versions = sa.Table(
    "purpose_versions",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("text_source", sa.Text, nullable=False),
    sa.Column("text_html", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    _fk("author_id", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("uri", sa.String(2048), nullable=True, unique=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("community_id", "version", name="uq_purpose_versions_version"),
)

# --- the purpose process: phases, proposals, decisions, consent, endorsements (issue 5) ---------

purpose_phases = sa.Table(
    "purpose_phases",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    sa.Column(
        "phase", sa.String(20), nullable=False
    ),  # inventory/discussion/drafting/decision/in_force/review
    sa.Column("started_at", Stamp, nullable=False),
    sa.Column("planned_end", Stamp, nullable=True),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    _fk("set_by", "actors.id", nullable=True, ondelete="SET NULL"),
)

purpose_decisions = sa.Table(
    "purpose_decisions",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    sa.Column("method", sa.String(20), nullable=False),  # poll | consent
    _fk("post_id", "posts.id", nullable=True, ondelete="SET NULL"),  # the poll (Question)
    _fk("opened_by", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("opened_at", Stamp, nullable=False),
    sa.Column("closed_at", Stamp, nullable=True),
    _fk("closed_by", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("counts", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("result", sa.String(20), nullable=True),  # adopted | kept | blocked
    sa.Column("adopted_proposal_id", Id, nullable=True),
    _fk("version_id", "purpose_versions.id", nullable=True, ondelete="SET NULL"),
)

purpose_proposals = sa.Table(
    "purpose_proposals",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    sa.Column(
        "post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False, unique=True
    ),
    _fk("author_id", "actors.id"),
    sa.Column("text_source", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("base_version", sa.Integer, nullable=False),
    sa.Column(
        "state", sa.String(20), nullable=False, server_default="open"
    ),  # open | in_decision | adopted | declined
    _fk("decision_id", "purpose_decisions.id", nullable=True, ondelete="SET NULL"),
    sa.Column("created_at", Stamp, nullable=False),
)

purpose_consents = sa.Table(
    "purpose_consents",
    metadata,
    _pk(),
    _fk("decision_id", "purpose_decisions.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("position", sa.String(20), nullable=False),  # agree | abstain | disagree | block
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("decision_id", "actor_id", name="uq_purpose_consents_pair"),
)

purpose_endorsements = sa.Table(
    "purpose_endorsements",
    metadata,
    _pk(),
    _fk("version_id", "purpose_versions.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("version_id", "actor_id", name="uq_purpose_endorsements_pair"),
)

roles = sa.Table(
    "roles",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("description_html", sa.Text, nullable=False, server_default=""),
    sa.Column("description_source", sa.Text, nullable=False, server_default=""),
    # open | approval | assigned
    sa.Column("fill_mode", sa.String(20), nullable=False, server_default="open"),
    sa.Column("uri", sa.String(2048), nullable=True, unique=True),
    sa.Column("created_at", Stamp, nullable=False),
    # days a holding lasts before it is reconsidered (NULL: no term)
    sa.Column("term_days", sa.Integer, nullable=True),
    sa.UniqueConstraint("community_id", "name", name="uq_roles_community_name"),
)

role_competencies = sa.Table(
    "role_competencies",
    metadata,
    _pk(),
    _fk("role_id", "roles.id"),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("level", sa.String(20), nullable=True),
    sa.UniqueConstraint("role_id", "name", name="uq_role_competencies_pair"),
)

role_holders = sa.Table(
    "role_holders",
    metadata,
    _pk(),
    _fk("role_id", "roles.id"),
    _fk("actor_id", "actors.id"),
    # held | requested
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    # the term: when the holding ends (NULL: no term) and when its end was announced
    sa.Column("ends_at", Stamp, nullable=True),
    sa.Column("term_notified_at", Stamp, nullable=True),
    sa.UniqueConstraint("role_id", "actor_id", name="uq_role_holders_pair"),
)

media = sa.Table(
    "media",
    metadata,
    _pk(),
    _fk("owner_id", "actors.id"),
    # attached post, NULL until a post uses it
    sa.Column(
        "post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    sa.Column("kind", sa.String(20), nullable=False, server_default="image"),
    sa.Column("path", sa.String(512), nullable=True),
    sa.Column("thumb_path", sa.String(512), nullable=True),
    sa.Column("remote_url", sa.String(2048), nullable=True),
    sa.Column("mime_type", sa.String(100), nullable=False),
    sa.Column("width", sa.Integer, nullable=True),
    sa.Column("height", sa.Integer, nullable=True),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("blurhash", sa.String(100), nullable=True),
    sa.Column("focus_x", sa.Float, nullable=False, server_default="0"),
    sa.Column("focus_y", sa.Float, nullable=False, server_default="0"),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", Stamp, nullable=False),
)

roadmap_items = sa.Table(
    "roadmap_items",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("description_html", sa.Text, nullable=False, server_default=""),
    sa.Column("description_source", sa.Text, nullable=False, server_default=""),
    # idea | planned | in_progress | done | dropped
    sa.Column("status", sa.String(20), nullable=False, server_default="idea"),
    _fk("owner_role_id", "roles.id", nullable=True, ondelete="SET NULL"),
    sa.Column("audience", sa.String(20), nullable=False, server_default="public"),
    _fk("author_id", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("uri", sa.String(2048), nullable=True, unique=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    # the purpose version this item serves (optional)
    sa.Column("purpose_version", sa.Integer, nullable=True),
    # an initiative: the member who started it and leads it informally
    _fk("lead_actor_id", "actors.id", nullable=True, ondelete="SET NULL"),
    # an item of a community on another instance: the support count its home last reported
    sa.Column("supports_reported", sa.Integer, nullable=True),
)

roadmap_status_changes = sa.Table(
    "roadmap_status_changes",
    metadata,
    _pk(),
    _fk("item_id", "roadmap_items.id"),
    sa.Column("from_status", sa.String(20), nullable=True),
    sa.Column("to_status", sa.String(20), nullable=False),
    _fk("actor_id", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", Stamp, nullable=False),
)

posts = sa.Table(
    "posts",
    metadata,
    _pk(),
    sa.Column("uri", sa.String(2048), nullable=False, unique=True),
    sa.Column("url", sa.String(2048), nullable=True),
    # indexed with id below: feeds walk (author_id, id) and (community_id, id) newest first
    sa.Column("author_id", Id, sa.ForeignKey("actors.id", ondelete="CASCADE"), nullable=False),
    sa.Column("local", sa.Boolean, nullable=False),
    # note | result | article | question | event | page
    sa.Column("kind", sa.String(20), nullable=False, server_default="note"),
    # public | unlisted | followers | community | members | partners | direct
    sa.Column("audience", sa.String(20), nullable=False, index=True),
    # the community a `community` post (or a result) belongs to
    sa.Column(
        "community_id", Id, sa.ForeignKey("communities.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("title", sa.String(255), nullable=True),
    sa.Column("content_html", sa.Text, nullable=False, server_default=""),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("source_format", sa.String(20), nullable=False, server_default="markdown"),
    sa.Column("spoiler_text", sa.Text, nullable=False, server_default=""),
    sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column(
        "in_reply_to_id",
        Id,
        sa.ForeignKey("posts.id", ondelete="SET NULL"),
        nullable=True,
        index=True,
    ),
    sa.Column("in_reply_to_uri", sa.String(2048), nullable=True),
    sa.Column("thread_root_id", Id, nullable=True, index=True),
    # a boost: the boosted post; such rows have no content of their own
    sa.Column(
        "reblog_of_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    # result: linked roadmap item
    _fk("roadmap_item_id", "roadmap_items.id", nullable=True, ondelete="SET NULL"),
    sa.Column("extra", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("replies_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reblogs_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("favourites_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", Stamp, nullable=False, index=True),
    sa.Column("edited_at", Stamp, nullable=True),
    sa.Column("deleted_at", Stamp, nullable=True),
    sa.Column("application_id", Id, nullable=True),
)
sa.Index("ix_posts_author_id_id", posts.c.author_id, posts.c.id)
sa.Index("ix_posts_community_id_id", posts.c.community_id, posts.c.id)
# an account's status count and last status time, from the index alone
sa.Index("ix_posts_author_stats", posts.c.author_id, posts.c.deleted_at, posts.c.created_at)

post_edits = sa.Table(
    "post_edits",
    metadata,
    _pk(),
    _fk("post_id", "posts.id"),
    sa.Column("content_html", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False, server_default=""),
    sa.Column("spoiler_text", sa.Text, nullable=False, server_default=""),
    sa.Column("sensitive", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Stamp, nullable=False),
)

post_mentions = sa.Table(
    "post_mentions",
    metadata,
    _pk(),
    _fk("post_id", "posts.id"),
    _fk("actor_id", "actors.id"),
    sa.UniqueConstraint("post_id", "actor_id", name="uq_post_mentions_pair"),
)

post_tags = sa.Table(
    "post_tags",
    metadata,
    _pk(),
    _fk("post_id", "posts.id"),
    sa.Column("tag", sa.String(100), nullable=False, index=True),
    sa.UniqueConstraint("post_id", "tag", name="uq_post_tags_pair"),
)

result_roles = sa.Table(
    "result_roles",
    metadata,
    _pk(),
    _fk("post_id", "posts.id"),
    _fk("role_id", "roles.id"),
    sa.UniqueConstraint("post_id", "role_id", name="uq_result_roles_pair"),
)

result_contributors = sa.Table(
    "result_contributors",
    metadata,
    _pk(),
    _fk("post_id", "posts.id"),
    _fk("actor_id", "actors.id"),
    sa.UniqueConstraint("post_id", "actor_id", name="uq_result_contributors_pair"),
)

favourites = sa.Table(
    "favourites",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    _fk("post_id", "posts.id"),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("actor_id", "post_id", name="uq_favourites_pair"),
)

bookmarks = sa.Table(
    "bookmarks",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    _fk("post_id", "posts.id"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("actor_id", "post_id", name="uq_bookmarks_pair"),
)

pins = sa.Table(
    "pins",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    _fk("post_id", "posts.id"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("actor_id", "post_id", name="uq_pins_pair"),
)

conversation_mutes = sa.Table(
    "conversation_mutes",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    sa.Column("thread_root_id", Id, nullable=False),
    sa.UniqueConstraint("actor_id", "thread_root_id", name="uq_conversation_mutes_pair"),
)

polls = sa.Table(
    "polls",
    metadata,
    _pk(),
    _fk("post_id", "posts.id"),
    sa.Column("options", sa.JSON, nullable=False),  # ["title", ...]
    sa.Column("multiple", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("hide_totals", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("expires_at", Stamp, nullable=True),
    # vote counts of remote polls as last seen
    sa.Column("remote_counts", sa.JSON, nullable=True),
    sa.Column("voters_count", sa.Integer, nullable=False, server_default="0"),
)

poll_votes = sa.Table(
    "poll_votes",
    metadata,
    _pk(),
    _fk("poll_id", "polls.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("choice", sa.Integer, nullable=False),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("poll_id", "actor_id", "choice", name="uq_poll_votes_triple"),
)

notifications = sa.Table(
    "notifications",
    metadata,
    _pk(),
    # the local actor notified
    _fk("actor_id", "actors.id"),
    # mention | status | reblog | follow | follow_request | favourite | poll | update
    # | koers.role_assigned | koers.result | koers.purpose_changed | koers.join_request ...
    sa.Column("type", sa.String(40), nullable=False),
    _fk("from_actor_id", "actors.id", nullable=True),
    sa.Column(
        "post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    sa.Column(
        "community_id", Id, sa.ForeignKey("communities.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("extra", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("read", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Stamp, nullable=False),
)

partners = sa.Table(
    "partners",
    metadata,
    _pk(),
    sa.Column("domain", sa.String(255), nullable=False, unique=True),
    sa.Column("name", sa.String(255), nullable=False, server_default=""),
    # proposed | active
    sa.Column("state", sa.String(20), nullable=False, server_default="active"),
    sa.Column("created_at", Stamp, nullable=False),
)

domain_blocks = sa.Table(
    "domain_blocks",
    metadata,
    _pk(),
    sa.Column("domain", sa.String(255), nullable=False, unique=True),
    # silence | suspend | reject_media
    sa.Column("severity", sa.String(20), nullable=False, server_default="suspend"),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", Stamp, nullable=False),
)

allowed_domains = sa.Table(
    "allowed_domains",
    metadata,
    _pk(),
    sa.Column("domain", sa.String(255), nullable=False, unique=True),
    sa.Column("created_at", Stamp, nullable=False),
)

user_domain_blocks = sa.Table(
    "user_domain_blocks",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    sa.Column("domain", sa.String(255), nullable=False),
    sa.UniqueConstraint("actor_id", "domain", name="uq_user_domain_blocks_pair"),
)

reports = sa.Table(
    "reports",
    metadata,
    _pk(),
    _fk("reporter_id", "actors.id", nullable=True),
    _fk("target_id", "actors.id", nullable=True),
    sa.Column(
        "community_id", Id, sa.ForeignKey("communities.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("post_ids", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("comment", sa.Text, nullable=False, server_default=""),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Stamp, nullable=False),
    # how a moderator closed it: the action taken (none | silence | suspend) and a note
    _fk("resolved_by", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("resolved_at", Stamp, nullable=True),
    sa.Column("resolution", sa.String(20), nullable=True),
    sa.Column("resolution_note", sa.Text, nullable=False, server_default=""),
)

# --- federation ------------------------------------------------------------------------------

activities = sa.Table(
    "activities",
    metadata,
    _pk(),
    sa.Column("uri", sa.String(2048), nullable=False, unique=True),
    # in | out
    sa.Column("direction", sa.String(4), nullable=False),
    sa.Column("type", sa.String(40), nullable=False),
    _fk("actor_id", "actors.id", nullable=True),
    sa.Column("document", sa.JSON, nullable=False),
    # inbound: new | done | failed | ignored
    sa.Column("state", sa.String(20), nullable=False, server_default="new"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Stamp, nullable=True, index=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    # inbound: the actor whose HTTP signature carried the activity; lease of the processing worker
    sa.Column("signer_id", Id, sa.ForeignKey("actors.id", ondelete="SET NULL"), nullable=True),
    sa.Column("locked_until", Stamp, nullable=True),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    _pk(),
    _fk("activity_id", "activities.id"),
    sa.Column("inbox", sa.String(2048), nullable=False),
    sa.Column("host", sa.String(255), nullable=False, index=True),
    # new | sent | failed | skipped
    sa.Column("state", sa.String(20), nullable=False, server_default="new", index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Stamp, nullable=False, index=True),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("locked_until", Stamp, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("sent_at", Stamp, nullable=True),
    sa.UniqueConstraint("activity_id", "inbox", name="uq_deliveries_pair"),
)

hosts = sa.Table(
    "hosts",
    metadata,
    _pk(),
    sa.Column("domain", sa.String(255), nullable=False, unique=True),
    sa.Column("software", sa.String(100), nullable=True),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_failure_at", Stamp, nullable=True),
    sa.Column("failure_days", sa.Integer, nullable=False, server_default="0"),
    sa.Column("unavailable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("last_success_at", Stamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_failure_at", Stamp, nullable=True),
    # an unavailable host is probed again (one delivery let through) after this time
    sa.Column("probe_at", Stamp, nullable=True),
)

remote_objects = sa.Table(
    "remote_objects",
    metadata,
    _pk(),
    sa.Column("uri", sa.String(2048), nullable=False, unique=True),
    sa.Column("document", sa.JSON, nullable=False),
    sa.Column("fetched_at", Stamp, nullable=False),
)

# --- client API ------------------------------------------------------------------------------

oauth_apps = sa.Table(
    "oauth_apps",
    metadata,
    _pk(),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("website", sa.String(2048), nullable=True),
    sa.Column("client_id", sa.String(64), nullable=False, unique=True),
    sa.Column("client_secret", sa.String(128), nullable=False),
    sa.Column("redirect_uris", sa.Text, nullable=False),
    sa.Column("scopes", sa.String(1024), nullable=False, server_default="read"),
    sa.Column("created_at", Stamp, nullable=False),
)

oauth_codes = sa.Table(
    "oauth_codes",
    metadata,
    _pk(),
    sa.Column("code_hash", sa.String(128), nullable=False, unique=True),
    _fk("app_id", "oauth_apps.id"),
    _fk("user_id", "users.id"),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("scopes", sa.String(1024), nullable=False),
    sa.Column("code_challenge", sa.String(255), nullable=True),
    sa.Column("code_challenge_method", sa.String(20), nullable=True),
    sa.Column("expires_at", Stamp, nullable=False),
    sa.Column("used", sa.Boolean, nullable=False, server_default=sa.false()),
)

oauth_tokens = sa.Table(
    "oauth_tokens",
    metadata,
    _pk(),
    sa.Column("token_hash", sa.String(128), nullable=False, unique=True),
    sa.Column("refresh_hash", sa.String(128), nullable=True, unique=True),
    _fk("app_id", "oauth_apps.id"),
    # NULL for client_credentials tokens
    _fk("user_id", "users.id", nullable=True),
    sa.Column("scopes", sa.String(1024), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("expires_at", Stamp, nullable=True),
    sa.Column("revoked_at", Stamp, nullable=True),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    _pk(),
    _fk("user_id", "users.id"),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("user_id", "key", name="uq_idempotency_keys_pair"),
)

lists = sa.Table(
    "lists",
    metadata,
    _pk(),
    _fk("owner_id", "actors.id"),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("replies_policy", sa.String(20), nullable=False, server_default="list"),
    sa.Column("exclusive", sa.Boolean, nullable=False, server_default=sa.false()),
    # auto-managed list mirroring a joined community
    sa.Column(
        "community_id", Id, sa.ForeignKey("communities.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("created_at", Stamp, nullable=False),
)

list_members = sa.Table(
    "list_members",
    metadata,
    _pk(),
    _fk("list_id", "lists.id"),
    _fk("actor_id", "actors.id"),
    sa.UniqueConstraint("list_id", "actor_id", name="uq_list_members_pair"),
)

markers = sa.Table(
    "markers",
    metadata,
    _pk(),
    _fk("user_id", "users.id"),
    sa.Column("timeline", sa.String(20), nullable=False),
    sa.Column("last_read_id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.UniqueConstraint("user_id", "timeline", name="uq_markers_pair"),
)

# --- community events and open roadmaps ------------------------------------------------------

events = sa.Table(
    "events",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    _fk("organiser_id", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("description_source", sa.Text, nullable=False, server_default=""),
    sa.Column("description_html", sa.Text, nullable=False, server_default=""),
    sa.Column("starts_at", Stamp, nullable=False, index=True),
    sa.Column("ends_at", Stamp, nullable=True),
    sa.Column("place_name", sa.String(255), nullable=False, server_default=""),
    sa.Column("place_address", sa.String(500), nullable=False, server_default=""),
    sa.Column("online_url", sa.String(2048), nullable=False, server_default=""),
    # NULL: no limit
    sa.Column("capacity", sa.Integer, nullable=True),
    # free | approval
    sa.Column("join_mode", sa.String(20), nullable=False, server_default="free"),
    sa.Column("audience", sa.String(20), nullable=False, server_default="public"),
    sa.Column("uri", sa.String(2048), nullable=True, unique=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

event_participants = sa.Table(
    "event_participants",
    metadata,
    _pk(),
    _fk("event_id", "events.id"),
    _fk("actor_id", "actors.id"),
    # joined | pending | rejected
    sa.Column("state", sa.String(20), nullable=False),
    # the remote Join activity's id (answered by Accept/Reject)
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("event_id", "actor_id", name="uq_event_participants_pair"),
)

roadmap_followers = sa.Table(
    "roadmap_followers",
    metadata,
    _pk(),
    _fk("item_id", "roadmap_items.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("item_id", "actor_id", name="uq_roadmap_followers_pair"),
)

roadmap_supports = sa.Table(
    "roadmap_supports",
    metadata,
    _pk(),
    _fk("item_id", "roadmap_items.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("item_id", "actor_id", name="uq_roadmap_supports_pair"),
)

# Remote accounts that follow a whole roadmap collection: they receive every item it lists, also
# items created after the follow (a row per community; Undo of the Follow deletes it).
roadmap_subscriptions = sa.Table(
    "roadmap_subscriptions",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("uri", sa.String(2048), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("community_id", "actor_id", name="uq_roadmap_subscriptions_pair"),
)

# --- the idea box ----------------------------------------------------------------------------

ideas = sa.Table(
    "ideas",
    metadata,
    _pk(),
    _fk("community_id", "communities.id"),
    # a local member, a partner member or any fediverse account
    _fk("author_id", "actors.id"),
    sa.Column("title", sa.String(255), nullable=False),
    sa.Column("text_html", sa.Text, nullable=False, server_default=""),
    # the post that carries the idea (its discussion thread); from the fediverse: the remote post
    sa.Column(
        "post_id", Id, sa.ForeignKey("posts.id", ondelete="SET NULL"), nullable=True, unique=True
    ),
    # public | community (who may see the idea; follows its post's audience)
    sa.Column("audience", sa.String(20), nullable=False, server_default="public"),
    # open | merged | promoted | declined
    sa.Column("status", sa.String(20), nullable=False, server_default="open", index=True),
    sa.Column("merged_into_id", Id, sa.ForeignKey("ideas.id", ondelete="SET NULL"), nullable=True),
    # roadmap | proposal, and the id of what it became
    sa.Column("promoted_kind", sa.String(20), nullable=True),
    sa.Column("promoted_to_id", Id, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

idea_supports = sa.Table(
    "idea_supports",
    metadata,
    _pk(),
    _fk("idea_id", "ideas.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("idea_id", "actor_id", name="uq_idea_supports_pair"),
)

# --- insights --------------------------------------------------------------------------------

# Members who asked to be left out of community insights: they then appear only in aggregate counts.
insights_opt_outs = sa.Table(
    "insights_opt_outs",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("actor_id", name="uq_insights_opt_outs_actor"),
)

# --- content filters (Mastodon's filters v2) --------------------------------------------------

# A member's filter: where it applies (comma-separated contexts: home, notifications, public,
# thread, account), what it does (warn | hide | blur) and until when.
filters = sa.Table(
    "filters",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("context", sa.String(100), nullable=False),
    sa.Column("action", sa.String(10), nullable=False, server_default="warn"),
    sa.Column("expires_at", Stamp, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)

filter_keywords = sa.Table(
    "filter_keywords",
    metadata,
    _pk(),
    _fk("filter_id", "filters.id"),
    sa.Column("keyword", sa.String(200), nullable=False),
    sa.Column("whole_word", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Stamp, nullable=False),
)

filter_statuses = sa.Table(
    "filter_statuses",
    metadata,
    _pk(),
    _fk("filter_id", "filters.id"),
    _fk("post_id", "posts.id"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("filter_id", "post_id", name="uq_filter_statuses_pair"),
)

# --- scheduled posts (Mastodon's scheduled statuses) ------------------------------------------

# A post to publish at ``scheduled_at``: ``params`` holds the draft as the client gave it.
scheduled_posts = sa.Table(
    "scheduled_posts",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id"),
    sa.Column("scheduled_at", Stamp, nullable=False, index=True),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)

# --- Web Push (Mastodon's push subscriptions) -------------------------------------------------

# One subscription per access token: where the app's push service listens, the keys to encrypt
# for it, and which notifications it wants (alerts: {"mention": true, ...}; policy: all |
# followed | follower | none).
push_subscriptions = sa.Table(
    "push_subscriptions",
    metadata,
    _pk(),
    _fk("token_id", "oauth_tokens.id"),
    _fk("actor_id", "actors.id"),
    sa.Column("endpoint", sa.String(2048), nullable=False),
    sa.Column("p256dh", sa.String(200), nullable=False),
    sa.Column("auth", sa.String(100), nullable=False),
    sa.Column("alerts", sa.JSON, nullable=False),
    sa.Column("policy", sa.String(20), nullable=False, server_default="all"),
    # RFC 8291 ``aes128gcm`` (true) or the older ``aesgcm`` draft Mastodon apps use by default (false)
    sa.Column("standard", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Stamp, nullable=False),
    sa.UniqueConstraint("token_id", name="uq_push_subscriptions_token"),
)

# A notification to push to one subscription: written with the notification, sent by the worker.
push_deliveries = sa.Table(
    "push_deliveries",
    metadata,
    _pk(),
    _fk("subscription_id", "push_subscriptions.id"),
    _fk("notification_id", "notifications.id"),
    # new | sent | failed
    sa.Column("state", sa.String(10), nullable=False, server_default="new", index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Stamp, nullable=False, index=True),
    sa.Column("locked_until", Stamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)


# --- administration --------------------------------------------------------------------------

# Every administrative action, who did it and when (the audit log of /admin/audit and
# `koers audit`). ``actor_id`` is NULL for the command line.
admin_actions = sa.Table(
    "admin_actions",
    metadata,
    _pk(),
    _fk("actor_id", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("action", sa.String(40), nullable=False),
    _fk("target_actor_id", "actors.id", nullable=True, ondelete="SET NULL"),
    sa.Column("target_report_id", Id, nullable=True),
    # what the action was about, readable without the target (a username, a report number …)
    sa.Column("summary", sa.String(500), nullable=False, server_default=""),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", Stamp, nullable=False, index=True),
)

# --- denormalised counters (the write path) ------------------------------------------------------

# What every account in an answer shows, kept by triggers on ``posts`` and ``follows`` in the
# transaction of each change (migration ``a7c4e2f9d013``): undeleted posts and the newest one's
# time, accepted followers and followings. ``koers counters rebuild`` recounts them. An actor
# with no row has none of either.
account_stats = sa.Table(
    "account_stats",
    metadata,
    sa.Column("actor_id", Id, sa.ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("statuses_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("followers_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("following_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_status_at", Stamp, nullable=True),
)

# Undeleted replies to a post by their audience (kept by the same triggers): the replies an
# anonymous viewer may see are those of ``public`` and ``unlisted``.
post_reply_counts = sa.Table(
    "post_reply_counts",
    metadata,
    sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("audience", sa.String(20), primary_key=True),
    sa.Column("replies", sa.Integer, nullable=False, server_default="0"),
)

# --- precomputed home feeds (server/services/home_feed.py) ------------------------------------

# A local account's home feed, kept on write: ``floor_id`` says which part of it is complete —
# every post of the account's home sources (own, followed, joined communities) with an id above
# it has its row in ``home_feed_entries``; older pages are read from the posts themselves.
# ``length`` is an upper bound of the rows kept (deletes do not lower it): the feed is trimmed
# back to its bound when it passes the bound plus some slack. No row: the feed is not built yet.
home_feeds = sa.Table(
    "home_feeds",
    metadata,
    sa.Column("actor_id", Id, sa.ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("floor_id", Id, nullable=False, server_default="0"),
    sa.Column("length", sa.Integer, nullable=False, server_default="0"),
)

# The candidates of a home feed, read newest first by walking the primary key; the read still
# applies the home rule and the visibility policy to every row.
home_feed_entries = sa.Table(
    "home_feed_entries",
    metadata,
    sa.Column("actor_id", Id, sa.ForeignKey("actors.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("post_id", Id, sa.ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    sqlite_with_rowid=False,
)
sa.Index("ix_home_feed_entries_post_id", home_feed_entries.c.post_id)
# --- e-mail -----------------------------------------------------------------------------------

# A member's e-mail standing and choices; no row means an address never to be confirmed (accounts
# made before e-mail, or on the command line) and the default choices.
mail_members = sa.Table(
    "mail_members",
    metadata,
    sa.Column("user_id", Id, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # signed up on the web and has not yet followed the confirmation link: may log in, not post
    sa.Column("unconfirmed", sa.Boolean, nullable=False, server_default=sa.false()),
    # sessions started before this moment are void (set by a password reset)
    sa.Column("sessions_after", Stamp, nullable=True),
    # the member's choices of notification e-mails that differ from the defaults: {"mention": false}
    sa.Column("notify", sa.JSON, nullable=False, server_default="{}"),
    sa.Column("digest", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("digest_sent_at", Stamp, nullable=True),
)

# A link sent by e-mail (confirm | reset | email_change): only its SHA-256 is kept; single use.
mail_tokens = sa.Table(
    "mail_tokens",
    metadata,
    _pk(),
    _fk("user_id", "users.id"),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    # the address to confirm (email_change: the new one)
    sa.Column("email", sa.String(320), nullable=False),
    # the client that asked (throttling of reset requests)
    sa.Column("requested_from", sa.String(64), nullable=False, server_default=""),
    sa.Column("expires_at", Stamp, nullable=False),
    sa.Column("used_at", Stamp, nullable=True),
    sa.Column("created_at", Stamp, nullable=False, index=True),
)

# A message to send: rendered from ``template`` and ``params`` when it is sent; to ``to_address``,
# or to the member's current address. new → sent | failed, leased like deliveries.
mail_outbox = sa.Table(
    "mail_outbox",
    metadata,
    _pk(),
    _fk("user_id", "users.id", nullable=True),
    sa.Column("to_address", sa.String(320), nullable=True),
    sa.Column("template", sa.String(40), nullable=False),
    sa.Column("params", sa.JSON, nullable=False, server_default="{}"),
    # new | sent | failed
    sa.Column("state", sa.String(10), nullable=False, server_default="new", index=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Stamp, nullable=False, index=True),
    sa.Column("locked_until", Stamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("sent_at", Stamp, nullable=True),
)

# --- Single sign-on (OpenID Connect) and two-factor sign-in -------------------------------------

# A member's identity at the OpenID provider: found by issuer + ``sub``, never by e-mail.
oidc_identities = sa.Table(
    "oidc_identities",
    metadata,
    _pk(),
    _fk("user_id", "users.id"),
    sa.Column("issuer", sa.String(500), nullable=False),
    sa.Column("subject", sa.String(255), nullable=False),
    # the e-mail the provider gave at the last sign-in (shown to the member, never looked up)
    sa.Column("email", sa.String(320), nullable=False, server_default=""),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("last_login_at", Stamp, nullable=True),
    sa.UniqueConstraint("issuer", "subject", name="uq_oidc_identities_issuer_subject"),
)

# A sign-in sent to the provider and not back yet: single use, bound to the browser that began it.
oidc_logins = sa.Table(
    "oidc_logins",
    metadata,
    _pk(),
    # SHA-256 of the ``state`` parameter and of the browser's binding (kept in its session)
    sa.Column("state_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("browser_hash", sa.String(64), nullable=False),
    sa.Column("nonce", sa.String(64), nullable=False),
    sa.Column("code_verifier", sa.String(128), nullable=False),
    sa.Column("next_url", sa.String(2048), nullable=False, server_default="/home"),
    # the signed-in member who asked to link their identity, else NULL
    _fk("link_user_id", "users.id", nullable=True),
    sa.Column("invite_code", sa.String(64), nullable=True),
    sa.Column("created_at", Stamp, nullable=False, index=True),
)

# A member's TOTP secret (encrypted with a key derived from the instance secret).
two_factor = sa.Table(
    "two_factor",
    metadata,
    _pk(),
    sa.Column(
        "user_id",
        Id,
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    sa.Column("secret", sa.Text, nullable=False),
    # NULL until the member has entered a first code (only then is 2FA on)
    sa.Column("confirmed_at", Stamp, nullable=True),
    # the last time step accepted: a code is never accepted twice
    sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("created_at", Stamp, nullable=False),
)

two_factor_recovery_codes = sa.Table(
    "two_factor_recovery_codes",
    metadata,
    _pk(),
    _fk("user_id", "users.id"),
    # SHA-256 of the code (the codes are random, 50 bits each)
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("used_at", Stamp, nullable=True),
)

# Wrong codes at the two-factor step, for the throttle (per account and per address).
two_factor_failures = sa.Table(
    "two_factor_failures",
    metadata,
    _pk(),
    _fk("user_id", "users.id"),
    sa.Column("address", sa.String(64), nullable=False, index=True),
    sa.Column("at", Stamp, nullable=False, index=True),
)

# --- i18n: the language a member reads the interface and their mail in ---
# NULL: no choice made; the browser's Accept-Language decides, else KOERS_LANGUAGE.
users.append_column(sa.Column("language", sa.String(8), nullable=True))
# --- Search and mail opt-outs (server/storage/fulltext.py, server/services/mail_opt_outs.py) ----
#
# The full-text index of posts (``post_search``) is not here: its migration owns it (an FTS5 table
# on SQLite, ``tsvector`` rows on PostgreSQL), and ``fulltext.include_object`` keeps it out of the
# comparison with the migrations.

# An address that asked for no more mail of a kind (invitations) although no member has it.
mail_opt_outs = sa.Table(
    "mail_opt_outs",
    metadata,
    sa.Column("address", sa.String(320), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("created_at", Stamp, nullable=False),
)

# --- web: an optional target date of a roadmap item (the roadmap's timeline view) ---
roadmap_items.append_column(sa.Column("target_date", sa.Date, nullable=True))

# --- pages: the results a profile, a community and the front page show, by an index walk ---
# Results are a few in a thousand posts: without these the "results" lists walk every post of
# the author, the community or the instance to find five.
sa.Index("ix_posts_author_kind_id", posts.c.author_id, posts.c.kind, posts.c.id)
sa.Index("ix_posts_community_kind_id", posts.c.community_id, posts.c.kind, posts.c.id)
sa.Index("ix_posts_kind_id", posts.c.kind, posts.c.id)
# The navigation's unread count on every signed-in page: a member's unread notifications newest
# first, without walking the ones already read.
sa.Index(
    "ix_notifications_unread", notifications.c.actor_id, notifications.c.read, notifications.c.id
)

# --- timelines: a hashtag's timeline walks its tags newest first (not every tagged post, sorted) ---
sa.Index("ix_post_tags_tag_post", post_tags.c.tag, post_tags.c.post_id)

# --- posting: the followers a new post notifies (notifications.for_new_post, on every post) ---
# An author's accepted followers who asked to be told, without reading each follower's row.
sa.Index(
    "ix_follows_target_notify",
    follows.c.target_id,
    follows.c.notify,
    follows.c.state,
    follows.c.follower_id,
)

# --- delivery: the worker's claim walks the due deliveries in order (not a sort of the queue) ---
# Without it the claim read every queued row by ``ix_deliveries_state`` and sorted them, at each
# batch: its cost grew with the queue.
sa.Index("ix_deliveries_due", deliveries.c.state, deliveries.c.next_attempt_at, deliveries.c.id)
