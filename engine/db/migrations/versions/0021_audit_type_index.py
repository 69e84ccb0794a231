"""audit: drop audit_event's index on type. Every event of every step paid a B-tree insert for it (the step's
events have several types, so several leaf pages of it were rewritten each commit), and no query needs it: the
reads by type also name the instance (served by ix_audit_event_instance_id, also for instance_id IS NULL), the
timer report's type comes with a period (ix_audit_event_at), and the trail page's type filter walks the events
newest first by seq and stops after the page (that page already reads the whole trail to verify it)

Revision ID: audit_21
Revises: inbox_20
Create Date: 2026-12-02 01:20:00
"""
from alembic import op

revision = "audit_21"
down_revision = "inbox_20"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_audit_event_type", table_name="audit_event")


def downgrade() -> None:
    op.create_index("ix_audit_event_type", "audit_event", ["type"])
