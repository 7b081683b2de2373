"""timelines: an index of post tags by (tag, post) for the hashtag timeline's walk

Revision ID: f1c4b7e2a9d3
Revises: e4a7c2d9b6f1
Create Date: 2026-12-02 17:15:00
"""

from alembic import op

revision = "f1c4b7e2a9d3"
down_revision = "e4a7c2d9b6f1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_post_tags_tag_post", "post_tags", ["tag", "post_id"])


def downgrade() -> None:
    op.drop_index("ix_post_tags_tag_post", table_name="post_tags")
