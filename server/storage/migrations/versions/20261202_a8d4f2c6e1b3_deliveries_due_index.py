"""delivery: an index the delivery worker's claim walks (state, next attempt, id)

Revision ID: a8d4f2c6e1b3
Revises: b7f3c9e2a5d1
Create Date: 2026-12-02 20:40:00
"""

from alembic import op

revision = "a8d4f2c6e1b3"
down_revision = "b7f3c9e2a5d1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
