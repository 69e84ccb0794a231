"""service catalogue: services and working-time calendars

Revision ID: catalogue_01
Revises: 0002
Create Date: 2026-11-27 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "catalogue_01"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calendar",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "calendar_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("calendar_id", sa.String(length=60), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["calendar_id"], ["calendar.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_calendar_hours_calendar_id", "calendar_hours", ["calendar_id"])
    op.create_table(
        "calendar_holiday",
        sa.Column("calendar_id", sa.String(length=60), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["calendar_id"], ["calendar.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("calendar_id", "day"),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_user", sa.String(length=80), nullable=True),
        sa.Column("owner_role", sa.String(length=40), nullable=True),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("donor_facing", sa.Boolean(), nullable=False),
        sa.Column("support_calendar_id", sa.String(length=60), nullable=True),
        sa.Column("maintenance_calendar_id", sa.String(length=60), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["support_calendar_id"], ["calendar.id"]),
        sa.ForeignKeyConstraint(["maintenance_calendar_id"], ["calendar.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_index("ix_service_owner_user", "service", ["owner_user"])


def downgrade() -> None:
    op.drop_index("ix_service_owner_user", table_name="service")
    op.drop_table("service")
    op.drop_table("calendar_holiday")
    op.drop_index("ix_calendar_hours_calendar_id", table_name="calendar_hours")
    op.drop_table("calendar_hours")
    op.drop_table("calendar")
