"""inbox index: unclaimed tasks in the inbox's order

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_human_task_inbox", "human_task", ["due_at", "priority", "created_at"],
                    postgresql_where=sa.text("assignee IS NULL"), sqlite_where=sa.text("assignee IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_human_task_inbox", table_name="human_task")
