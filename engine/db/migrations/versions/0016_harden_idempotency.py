"""idempotency_key: the first answer to a request sent with an Idempotency-Key, per user

Revision ID: harden_16
Revises: harden_15
Create Date: 2026-12-01 19:46:00
"""
from alembic import op
import sqlalchemy as sa

revision = "harden_16"
down_revision = "harden_15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_key",
        sa.Column("username", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("response_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_key")
