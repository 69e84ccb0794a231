"""knowledge: problems, linked incidents, known errors, articles, uses, and the full-text index

Revision ID: knowledge_01
Revises: desk_02
Create Date: 2026-12-01 18:30:00
"""
from alembic import op
import sqlalchemy as sa

revision = "knowledge_01"
down_revision = "desk_02"
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table("problem",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(80), nullable=False),
        sa.Column("closure_note", sa.Text(), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.Column("closed_at", AT, nullable=True))
    op.create_table("problem_incident",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("problem.id", ondelete="CASCADE"), nullable=False),
        sa.Column("business_key", sa.String(40), nullable=False),
        sa.Column("linked_by", sa.String(80), nullable=False),
        sa.Column("linked_at", AT, nullable=False),
        sa.UniqueConstraint("problem_id", "business_key"))
    op.create_index("ix_problem_incident_problem_id", "problem_incident", ["problem_id"])
    op.create_index("ix_problem_incident_business_key", "problem_incident", ["business_key"])
    op.create_table("known_error",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("problem_id", sa.Integer(), sa.ForeignKey("problem.id", ondelete="CASCADE"), nullable=False,
                  unique=True),
        sa.Column("symptom", sa.Text(), nullable=False),
        sa.Column("workaround", sa.Text(), nullable=False),
        sa.Column("root_cause", sa.Text(), nullable=False),
        sa.Column("fix_rfc", sa.String(40), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("fixed_in_release", sa.String(40), nullable=True),
        sa.Column("fixed_at", AT, nullable=True),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("helped_count", sa.Integer(), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False))
    op.create_table("knowledge_article",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("author", sa.String(80), nullable=False),
        sa.Column("reviewer", sa.String(80), nullable=True),
        sa.Column("publisher", sa.String(80), nullable=True),
        sa.Column("used_count", sa.Integer(), nullable=False),
        sa.Column("helped_count", sa.Integer(), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.Column("published_at", AT, nullable=True))
    op.create_table("knowledge_use",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("item_key", sa.String(40), nullable=False),
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("element_id", sa.String(200), nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("helped", sa.Boolean(), nullable=False),
        sa.Column("at", AT, nullable=False))
    op.create_index("ix_knowledge_use_item_key", "knowledge_use", ["item_key"])
    op.create_index("ix_knowledge_use_instance_id", "knowledge_use", ["instance_id"])
    # The full-text index: one row per known error or article (item_key), its title and body.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TABLE knowledge_text (item_key VARCHAR(40) PRIMARY KEY, title TEXT NOT NULL, "
                   "body TEXT NOT NULL, doc tsvector GENERATED ALWAYS AS "
                   "(setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) "
                   "STORED)")
        op.execute("CREATE INDEX ix_knowledge_text_doc ON knowledge_text USING GIN (doc)")
    else:
        op.execute("CREATE VIRTUAL TABLE knowledge_text USING fts5(item_key UNINDEXED, title, body, "
                   "tokenize = 'porter unicode61')")


def downgrade() -> None:
    op.execute("DROP TABLE knowledge_text")
    for table in ("knowledge_use", "knowledge_article", "known_error", "problem_incident", "problem"):
        op.drop_table(table)
