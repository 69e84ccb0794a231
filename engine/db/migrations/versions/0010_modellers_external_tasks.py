"""modellers: external tasks (service tasks waiting for workers by topic)

Revision ID: modellers_10
Revises: knowledge_01
Create Date: 2026-12-01 18:45:00
"""
from alembic import op
import sqlalchemy as sa

revision = "modellers_10"
down_revision = "knowledge_01"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table("external_task",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("process_key", sa.String(200), nullable=False),
        sa.Column("business_key", sa.String(40), nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("variables_json", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.String(200), nullable=True),
        sa.Column("lock_expires_at", AT, nullable=True),
        sa.Column("retries", sa.Integer(), nullable=True),
        sa.Column("retry_at", AT, nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_details", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False))
    op.create_index("ix_external_task_instance_id", "external_task", ["instance_id"])
    op.create_index("ix_external_task_fetch", "external_task", ["topic", "lock_expires_at"])


def downgrade() -> None:
    op.drop_table("external_task")
