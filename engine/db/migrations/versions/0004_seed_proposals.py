"""seeds, not masters: where each version came from, its deploy comment, and proposals from bundled files

Revision ID: tailor_01
Revises: catalogue_01
Create Date: 2026-11-27 09:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "tailor_01"
down_revision = "catalogue_01"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("process_version", "decision_version"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("origin", sa.String(length=20), nullable=False, server_default="api"))
            batch_op.add_column(sa.Column("comment", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "seed_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("bpmn_xml", sa.Text(), nullable=True),
        sa.Column("bpmn_sha256", sa.String(length=64), nullable=True),
        sa.Column("bpmn_new", sa.Boolean(), nullable=False),
        sa.Column("files_json", sa.Text(), nullable=False),
        sa.Column("lanes_json", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_seed_proposal_key", "seed_proposal", ["key"])
    op.create_index("ix_seed_proposal_status", "seed_proposal", ["status"])


def downgrade() -> None:
    op.drop_index("ix_seed_proposal_status", table_name="seed_proposal")
    op.drop_index("ix_seed_proposal_key", table_name="seed_proposal")
    op.drop_table("seed_proposal")
    for table in ("process_version", "decision_version"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_column("comment")
            batch_op.drop_column("origin")
