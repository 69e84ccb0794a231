"""lean CMDB and change calendar: configuration items, their services and relations, the CIs records link,
the change windows records declare, blackout periods

Revision ID: catalogue_12
Revises: tailor_11
Create Date: 2026-12-01 18:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "catalogue_12"
down_revision = "tailor_11"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "config_item",
        sa.Column("id", sa.String(length=60), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False, unique=True),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_user", sa.String(length=80), nullable=True),
        sa.Column("owner_role", sa.String(length=40), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_config_item_type", "config_item", ["type"])
    op.create_table(
        "ci_service",
        sa.Column("ci_id", sa.String(length=60), sa.ForeignKey("config_item.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("service_id", sa.String(length=60), sa.ForeignKey("service.id"), primary_key=True),
    )
    op.create_index("ix_ci_service_service_id", "ci_service", ["service_id"])
    op.create_table(
        "ci_relation",
        sa.Column("ci_id", sa.String(length=60), sa.ForeignKey("config_item.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("kind", sa.String(length=20), primary_key=True),
        sa.Column("target_id", sa.String(length=60), sa.ForeignKey("config_item.id"), primary_key=True),
    )
    op.create_index("ix_ci_relation_target_id", "ci_relation", ["target_id"])
    op.create_table(
        "record_ci",
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("ci_id", sa.String(length=60), primary_key=True),
    )
    op.create_index("ix_record_ci_ci_id", "record_ci", ["ci_id"])
    op.create_table(
        "record_window",
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("business_key", sa.String(length=40), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("service_id", sa.String(length=60), nullable=True),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("approved", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
    )
    op.create_index("ix_record_window_span", "record_window", ["starts_at", "ends_at"])
    op.create_index("ix_record_window_service_span", "record_window", ["service_id", "starts_at", "ends_at"])
    op.create_table(
        "blackout",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("service_id", sa.String(length=60), sa.ForeignKey("service.id"), nullable=True),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_blackout_starts_at", "blackout", ["starts_at"])


def downgrade() -> None:
    for table in ("blackout", "record_window", "record_ci", "ci_relation", "ci_service", "config_item"):
        op.drop_table(table)
