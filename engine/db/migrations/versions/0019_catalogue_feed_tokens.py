"""calendar_feed_token: per-person secrets for the change calendar's iCalendar feed (stored as SHA-256)

Revision ID: catalogue_19
Revises: deadletter_18
Create Date: 2026-12-01 22:15:00
"""
from alembic import op
import sqlalchemy as sa

revision = "catalogue_19"
down_revision = "deadletter_18"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar_feed_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_calendar_feed_token_user_id", "calendar_feed_token", ["user_id"])


def downgrade() -> None:
    op.drop_table("calendar_feed_token")
