"""administration: moderators, silenced accounts, how reports were resolved, the audit log

Revision ID: a4d1c7e9b352
Revises: 5c2d8e4f1b67
Create Date: 2026-12-02 11:00:00
"""

import sqlalchemy as sa
from alembic import op

# the column types of server/storage/schema.py, spelled out: a migration never changes
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)

revision = "a4d1c7e9b352"
down_revision = "5c2d8e4f1b67"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("silenced", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("is_moderator", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolved_by", Id, nullable=True))
        batch_op.add_column(sa.Column("resolved_at", Stamp, nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("resolution_note", sa.Text(), server_default="", nullable=False)
        )
        batch_op.create_index("ix_reports_resolved_by", ["resolved_by"], unique=False)
        batch_op.create_foreign_key(
            "fk_reports_resolved_by_actors", "actors", ["resolved_by"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "admin_actions",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column(
            "actor_id", Id, sa.ForeignKey("actors.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column(
            "target_actor_id",
            Id,
            sa.ForeignKey("actors.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("target_report_id", Id, nullable=True),
        sa.Column("summary", sa.String(length=500), server_default="", nullable=False),
        sa.Column("note", sa.Text(), server_default="", nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("ix_admin_actions_actor_id", "admin_actions", ["actor_id"])
    op.create_index("ix_admin_actions_target_actor_id", "admin_actions", ["target_actor_id"])
    op.create_index("ix_admin_actions_created_at", "admin_actions", ["created_at"])


def downgrade() -> None:
    op.drop_table("admin_actions")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_constraint("fk_reports_resolved_by_actors", type_="foreignkey")
        batch_op.drop_index("ix_reports_resolved_by")
        batch_op.drop_column("resolution_note")
        batch_op.drop_column("resolution")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("resolved_by")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_moderator")
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.drop_column("silenced")
