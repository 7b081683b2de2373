"""e-mail: members' mail standing and choices, single-use mail links, the outgoing mail queue

Revision ID: 8a41c7e2d9b3
Revises: 7a4f2c9e8d13
Create Date: 2026-12-02 10:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8a41c7e2d9b3"
down_revision = "7a4f2c9e8d13"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_members",
        sa.Column("user_id", Id, nullable=False),
        sa.Column("unconfirmed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sessions_after", Stamp, nullable=True),
        sa.Column("notify", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("digest", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("digest_sent_at", Stamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_mail_members_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mail_members")),
    )
    op.create_table(
        "mail_tokens",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("requested_from", sa.String(length=64), server_default="", nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
        sa.Column("used_at", Stamp, nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_mail_tokens_token_hash")),
    )
    with op.batch_alter_table("mail_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_tokens_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_tokens_created_at"), ["created_at"], unique=False)
    op.create_table(
        "mail_outbox",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", Id, nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=True),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("state", sa.String(length=10), server_default="new", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", Stamp, nullable=False),
        sa.Column("locked_until", Stamp, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("sent_at", Stamp, nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_outbox_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
    )
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_outbox_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_outbox_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mail_outbox_next_attempt_at"), ["next_attempt_at"], unique=False
        )


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("mail_tokens")
    op.drop_table("mail_members")
