"""audit chains: events hash-chained per partition (audit_chain heads) and anchored by a checkpoint chain

Revision ID: perf_01
Revises: catalogue_12
Create Date: 2026-12-01 18:45:00

The trail so far stays as it is: its events keep chain = NULL and are verified as the one global chain they
form (audit_head, audit_checkpoint), which no longer grows. New events go to one of PARTITIONS chains.
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "perf_01"
down_revision = "catalogue_12"
branch_labels = None
depends_on = None

PARTITIONS = 64  # engine/services/audit_chains.py PARTITIONS: heads exist for each


def _genesis(chain: int) -> str:
    return hashlib.sha256(f"itsmflow audit chain {chain}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("chain", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
    op.create_index("ix_audit_event_chain", "audit_event", ["chain", "chain_seq"], unique=True)
    chains = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(chains, [{"id": k, "seq": 0, "hash": _genesis(k)} for k in range(PARTITIONS)])
    op.create_table(
        "audit_anchor",
        sa.Column("n", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heads_json", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Global event numbers without a global lock: taken from a sequence (gaps on rollback are harmless,
        # each chain has its own gapless position).
        op.execute("CREATE SEQUENCE audit_event_seq")
        op.execute("SELECT setval('audit_event_seq', COALESCE((SELECT max(seq) FROM audit_event), 0) + 1, false)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS audit_event_seq")
    op.drop_table("audit_anchor")
    op.drop_table("audit_chain")
    op.drop_index("ix_audit_event_chain", table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("chain_seq")
        batch.drop_column("chain")
