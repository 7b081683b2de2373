"""i18n: the language a member chose for the interface and their mail (NULL: not chosen)

Revision ID: c5e8a1d3f7b9
Revises: a7f3c91e5d20
Create Date: 2026-12-02 13:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c5e8a1d3f7b9"
down_revision = "a7f3c91e5d20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("language", sa.String(8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
