"""single sign-on (OpenID Connect identities, pending sign-ins) and two-factor sign-in (TOTP)

Revision ID: a7f3c91e5d20
Revises: 8a41c7e2d9b3
Create Date: 2026-12-02 10:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a7f3c91e5d20"
down_revision = "8a41c7e2d9b3"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def _user_fk(name: str, table: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        Id,
        sa.ForeignKey("users.id", name=f"fk_{table}_{name}_users", ondelete="CASCADE"),
        nullable=nullable,
    )


def upgrade() -> None:
    op.create_table(
        "oidc_identities",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _user_fk("user_id", "oidc_identities"),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, server_default=""),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_login_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_identities"),
        sa.UniqueConstraint("issuer", "subject", name="uq_oidc_identities_issuer_subject"),
    )
    op.create_index("ix_oidc_identities_user_id", "oidc_identities", ["user_id"])
    op.create_table(
        "oidc_logins",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("next_url", sa.String(2048), nullable=False, server_default="/home"),
        _user_fk("link_user_id", "oidc_logins", nullable=True),
        sa.Column("invite_code", sa.String(64), nullable=True),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_oidc_logins"),
        sa.UniqueConstraint("state_hash", name="uq_oidc_logins_state_hash"),
    )
    op.create_index("ix_oidc_logins_link_user_id", "oidc_logins", ["link_user_id"])
    op.create_index("ix_oidc_logins_created_at", "oidc_logins", ["created_at"])
    op.create_table(
        "two_factor",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _user_fk("user_id", "two_factor"),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("confirmed_at", Stamp, nullable=True),
        sa.Column("last_step", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_two_factor"),
        sa.UniqueConstraint("user_id", name="uq_two_factor_user_id"),
    )
    op.create_table(
        "two_factor_recovery_codes",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _user_fk("user_id", "two_factor_recovery_codes"),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("used_at", Stamp, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_two_factor_recovery_codes"),
    )
    op.create_index(
        "ix_two_factor_recovery_codes_user_id", "two_factor_recovery_codes", ["user_id"]
    )
    op.create_table(
        "two_factor_failures",
        sa.Column("id", Id, primary_key=True, autoincrement=True),
        _user_fk("user_id", "two_factor_failures"),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_two_factor_failures"),
    )
    op.create_index("ix_two_factor_failures_user_id", "two_factor_failures", ["user_id"])
    op.create_index("ix_two_factor_failures_address", "two_factor_failures", ["address"])
    op.create_index("ix_two_factor_failures_at", "two_factor_failures", ["at"])


def downgrade() -> None:
    op.drop_table("two_factor_failures")
    op.drop_table("two_factor_recovery_codes")
    op.drop_table("two_factor")
    op.drop_table("oidc_logins")
    op.drop_table("oidc_identities")
