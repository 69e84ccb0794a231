"""inbox sort indexes: human_task (due_at), so the exact totals of the SLA-state and due-range filters are
index-only counts (those filters depend on the clock and the chosen days, so the inbox tally does not count them);
(created_at, id) and (business_key, id), so the created and record sorts of All open walk an index and stop after
the page instead of sorting every match

Revision ID: inbox_20
Revises: catalogue_19
Create Date: 2026-12-01 22:30:00
"""
from alembic import op

revision = "inbox_20"
down_revision = "catalogue_19"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_human_task_due_at", "human_task", ["due_at"])
    op.create_index("ix_human_task_created", "human_task", ["created_at", "id"])
    op.create_index("ix_human_task_record", "human_task", ["business_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_human_task_record", table_name="human_task")
    op.drop_index("ix_human_task_created", table_name="human_task")
    op.drop_index("ix_human_task_due_at", table_name="human_task")
