"""account counts from indexes: posts (author_id, deleted_at, created_at), follows by state

An account's status count and last status time (every account in an API answer shows them) are
``count(*)`` and ``max(created_at)`` over the author's undeleted posts, and its follower and
following counts ``count(*)`` over accepted follows; these indexes answer them from the index
alone instead of reading every post or follow row of the account.

Revision ID: 5c2d8e4f1b67
Revises: 3b7e9c1d2a40
Create Date: 2026-12-02 08:55:00
"""

from alembic import op

revision = "5c2d8e4f1b67"
down_revision = "3b7e9c1d2a40"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_author_stats", ["author_id", "deleted_at", "created_at"], unique=False
        )
    with op.batch_alter_table("follows", schema=None) as batch_op:
        # the composites serve every lookup the single-column indexes served
        batch_op.drop_index("ix_follows_target_id")
        batch_op.drop_index("ix_follows_follower_id")
        batch_op.create_index("ix_follows_target_state", ["target_id", "state"], unique=False)
        batch_op.create_index("ix_follows_follower_state", ["follower_id", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("follows", schema=None) as batch_op:
        batch_op.drop_index("ix_follows_follower_state")
        batch_op.drop_index("ix_follows_target_state")
        batch_op.create_index("ix_follows_follower_id", ["follower_id"], unique=False)
        batch_op.create_index("ix_follows_target_id", ["target_id"], unique=False)
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_author_stats")
