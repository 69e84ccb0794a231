"""process drafts: an owner's edited diagram saved without deploying

Revision ID: tailor_02
Revises: tailor_01
Create Date: 2026-11-27 12:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "tailor_02"
down_revision = "tailor_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "process_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("author", sa.String(length=80), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=False),
        sa.Column("lanes_json", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "author"),
    )
    op.create_index("ix_process_draft_key", "process_draft", ["key"])


def downgrade() -> None:
    op.drop_index("ix_process_draft_key", table_name="process_draft")
    op.drop_table("process_draft")
