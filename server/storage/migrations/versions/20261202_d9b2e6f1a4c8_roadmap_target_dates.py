"""web: an optional target date of a roadmap item (the roadmap's timeline view)

Revision ID: d9b2e6f1a4c8
Revises: c3e8b1f4a962
Create Date: 2026-12-02 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "d9b2e6f1a4c8"
down_revision = "c3e8b1f4a962"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("roadmap_items", sa.Column("target_date", sa.Date, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("roadmap_items") as batch:
        batch.drop_column("target_date")
