"""record_service: the service each record names, for the impact view's open records

Revision ID: catalogue_14
Revises: perf_01
Create Date: 2026-12-01 19:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "catalogue_14"
down_revision = "perf_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_service",
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("service_id", sa.String(length=60), nullable=False),
    )
    op.create_index("ix_record_service_service_id", "record_service", ["service_id"])


def downgrade() -> None:
    op.drop_table("record_service")
