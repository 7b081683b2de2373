"""posting: an index for the followers a new post notifies

Revision ID: b7f3c9e2a5d1
Revises: f1c4b7e2a9d3
Create Date: 2026-12-02 17:50:00
"""

from alembic import op

revision = "b7f3c9e2a5d1"
down_revision = "f1c4b7e2a9d3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_follows_target_notify", "follows", ["target_id", "notify", "state", "follower_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_follows_target_notify", table_name="follows")
