"""pages: indexes for the results lists of profiles, communities and the front page, and for
the navigation's unread count

Revision ID: e4a7c2d9b6f1
Revises: d9b2e6f1a4c8
Create Date: 2026-12-02 17:00:00
"""

from alembic import op

revision = "e4a7c2d9b6f1"
down_revision = "d9b2e6f1a4c8"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_author_kind_id", "posts", ["author_id", "kind", "id"])
    op.create_index("ix_posts_community_kind_id", "posts", ["community_id", "kind", "id"])
    op.create_index("ix_posts_kind_id", "posts", ["kind", "id"])
    op.create_index("ix_notifications_unread", "notifications", ["actor_id", "read", "id"])


def downgrade() -> None:
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_posts_kind_id", table_name="posts")
    op.drop_index("ix_posts_community_kind_id", table_name="posts")
    op.drop_index("ix_posts_author_kind_id", table_name="posts")
