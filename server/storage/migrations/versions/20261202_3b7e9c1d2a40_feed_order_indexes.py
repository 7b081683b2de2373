"""feed order indexes: posts by (author_id, id) and (community_id, id)

A profile or community feed is ``WHERE author_id = ? … ORDER BY id DESC LIMIT n``. SQLite's
single-column index already ends in the rowid; PostgreSQL's does not, so it sorted. The composite
indexes give both an ordered index walk, and still serve every lookup by author or community.

Revision ID: 3b7e9c1d2a40
Revises: ef7d090d6f7e
Create Date: 2026-12-02 09:05:00
"""

from alembic import op

revision = "3b7e9c1d2a40"
down_revision = "ef7d090d6f7e"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_author_id")
        batch_op.drop_index("ix_posts_community_id")
        batch_op.create_index("ix_posts_author_id_id", ["author_id", "id"], unique=False)
        batch_op.create_index("ix_posts_community_id_id", ["community_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_community_id_id")
        batch_op.drop_index("ix_posts_author_id_id")
        batch_op.create_index("ix_posts_community_id", ["community_id"], unique=False)
        batch_op.create_index("ix_posts_author_id", ["author_id"], unique=False)
