"""sessions and tokens that end: api_token.expires_at / revoked_at, login_session (server-side sign-ins that
logout ends), login_throttle (failed sign-ins per account and per address)

Revision ID: harden_15
Revises: catalogue_14
Create Date: 2026-12-01 19:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "harden_15"
down_revision = "catalogue_14"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_token", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_token", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "login_session",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("login_session")
    op.drop_column("api_token", "revoked_at")
    op.drop_column("api_token", "expires_at")
