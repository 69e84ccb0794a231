"""service desk: comments, attachments, notifications, mail outbox, inbound mail, user e-mail

Revision ID: desk_01
Revises: policy_01
Create Date: 2026-12-01 15:00:00
"""
from alembic import op
import sqlalchemy as sa

revision = "desk_01"
down_revision = "policy_01"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("email", sa.String(320), nullable=True))
    op.create_table("record_comment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("created_at", AT, nullable=False))
    op.create_index("ix_record_comment_instance_id", "record_comment", ["instance_id"])
    op.create_table("attachment_blob",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False))
    op.create_table("record_attachment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("attachment_blob.sha256"), nullable=False),
        sa.Column("visibility", sa.String(10), nullable=False),
        sa.Column("uploaded_by", sa.String(80), nullable=False),
        sa.Column("created_at", AT, nullable=False))
    op.create_index("ix_record_attachment_instance_id", "record_attachment", ["instance_id"])
    op.create_table("notification",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("business_key", sa.String(40), nullable=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(300), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("read_at", AT, nullable=True))
    op.create_index("ix_notification_user", "notification", ["username", "read_at", "id"])
    op.create_table("notice_mark",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("at", AT, nullable=False))
    op.create_table("mail_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("to_addr", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", AT, nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("sent_at", AT, nullable=True))
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["status", "next_attempt_at"])
    op.create_table("notification_preference",
        sa.Column("username", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False))
    op.create_table("notification_template",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
        sa.Column("updated_at", AT, nullable=False))
    op.create_table("digest_mark",
        sa.Column("username", sa.String(80), primary_key=True),
        sa.Column("until", AT, nullable=False))
    op.create_table("inbound_mail",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("from_addr", sa.String(320), nullable=False),
        sa.Column("to_addr", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("business_key", sa.String(40), nullable=True),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("received_at", AT, nullable=False))
    op.create_index("ix_inbound_mail_status", "inbound_mail", ["status"])


def downgrade() -> None:
    for name in ("inbound_mail", "digest_mark", "notification_template", "notification_preference", "mail_outbox", "notice_mark",
                 "notification", "record_attachment", "attachment_blob", "record_comment"):
        op.drop_table(name)
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("email")
