"""message: bounded retries with a growing pause (next_attempt_at), why the last attempt failed (last_error),
and when the message became a dead letter (dead_at; status `dead`, or `discarded` by an administrator)

Revision ID: deadletter_18
Revises: inbox_17
Create Date: 2026-12-01 21:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = "deadletter_18"
down_revision = "inbox_17"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("message", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("message", sa.Column("last_error", sa.String(500), nullable=True))
    op.add_column("message", sa.Column("dead_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Dead and discarded rows keep their status: the older code retries only pending and unrouted ones.
    op.drop_column("message", "dead_at")
    op.drop_column("message", "last_error")
    op.drop_column("message", "next_attempt_at")
