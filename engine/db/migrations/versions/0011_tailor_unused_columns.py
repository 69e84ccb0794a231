"""unused columns removed: process_instance.claimed_by / claimed_until (never written: workers lock rows with
the optimistic revision and SKIP LOCKED), process_version.report_json (always "[]")

Revision ID: tailor_11
Revises: modellers_10
Create Date: 2026-12-01 18:50:00
"""
from alembic import op
import sqlalchemy as sa

revision = "tailor_11"
down_revision = "modellers_10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch copy of process_instance would have to
    # drop a table that every task, party and audit row refers to.
    op.drop_column("process_instance", "claimed_by")
    op.drop_column("process_instance", "claimed_until")
    op.drop_column("process_version", "report_json")


def downgrade() -> None:
    op.add_column("process_version", sa.Column("report_json", sa.Text(), nullable=False, server_default="[]"))
    op.add_column("process_instance", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("process_instance", sa.Column("claimed_by", sa.String(length=80), nullable=True))
