"""precomputed home feeds: home_feeds (one per built feed) and home_feed_entries (its posts)

A local account's home timeline is read from ``home_feed_entries`` by a walk of its primary key
(actor, post) newest first, instead of searching every post of the followed accounts. The
tables start empty: a feed is built on the account's next follow or post, or by
``koers feeds rebuild``; until then the timeline is read as before.

Revision ID: 7a4f2c9e8d13
Revises: a7c4e2f9d013
Create Date: 2026-12-02 10:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "7a4f2c9e8d13"
down_revision = "a7c4e2f9d013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "home_feeds",
        sa.Column("actor_id", Id, nullable=False),
        sa.Column("floor_id", Id, server_default="0", nullable=False),
        sa.Column("length", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_home_feeds_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_home_feeds")),
    )
    op.create_table(
        "home_feed_entries",
        sa.Column("actor_id", Id, nullable=False),
        sa.Column("post_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["actors.id"],
            name=op.f("fk_home_feed_entries_actor_id_actors"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_home_feed_entries_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("actor_id", "post_id", name=op.f("pk_home_feed_entries")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_home_feed_entries_post_id", "home_feed_entries", ["post_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_home_feed_entries_post_id", table_name="home_feed_entries")
    op.drop_table("home_feed_entries")
    op.drop_table("home_feeds")
