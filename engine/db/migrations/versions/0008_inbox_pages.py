"""inbox pages: indexes in the order of the inbox's default sort (due, priority, created, id)

Revision ID: desk_02
Revises: desk_01
Create Date: 2026-12-01 15:30:00
"""
from alembic import op

revision = "desk_02"
down_revision = "desk_01"
branch_labels = None
depends_on = None

# The expressions must be written exactly as engine/services/inbox.py sends them, or PostgreSQL ignores the index.
FAR = {"postgresql": "TIMESTAMP WITH TIME ZONE '9999-12-31 00:00:00+00'", "sqlite": "'9999-12-31 00:00:00.000000'"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    far = FAR.get(dialect, FAR["sqlite"])
    due, priority = f"(COALESCE(due_at, {far}))", "(COALESCE(priority, 'P9'))"
    op.execute(f"CREATE INDEX ix_human_task_due_open ON human_task ({due}, {priority}, created_at, id) "
               "WHERE assignee IS NULL")
    op.execute(f"CREATE INDEX ix_human_task_due_all ON human_task ({due}, {priority}, created_at, id)")
    op.execute(f"CREATE INDEX ix_human_task_priority_open ON human_task ({priority}, {due}, created_at, id) "
               "WHERE assignee IS NULL")
    op.create_index("ix_task_candidate_role_task", "task_candidate", ["role", "task_id"])


def downgrade() -> None:
    op.drop_index("ix_task_candidate_role_task", table_name="task_candidate")
    op.execute("DROP INDEX ix_human_task_priority_open")
    op.execute("DROP INDEX ix_human_task_due_all")
    op.execute("DROP INDEX ix_human_task_due_open")
