"""record parties and case keys: who a record is for, and the chain of linked records it belongs to

Revision ID: policy_01
Revises: tailor_02
Create Date: 2026-12-01 09:00:00
"""
import json

from alembic import op
import sqlalchemy as sa

revision = "policy_01"
down_revision = "tailor_02"
branch_labels = None
depends_on = None

# Before this revision no version declared its party fields: the record vocabulary's names are what the
# engine read then.
PARTY_FIELDS = ("requester", "reporter")


def upgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(sa.Column("case_key", sa.String(length=40), nullable=True))
        batch.create_index("ix_process_instance_case_key", ["case_key"])
    op.create_table(
        "record_party",
        sa.Column("instance_id", sa.Integer(), sa.ForeignKey("process_instance.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("case_key", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("instance_id", "username", "relation"),
    )
    op.create_index("ix_record_party_user", "record_party", ["username", "relation"])
    op.create_index("ix_record_party_case_key", "record_party", ["case_key"])
    _backfill()


def _backfill() -> None:
    conn = op.get_bind()
    inst = sa.table("process_instance", sa.column("id", sa.Integer), sa.column("business_key", sa.String),
                    sa.column("origin_key", sa.String), sa.column("case_key", sa.String),
                    sa.column("started_by", sa.String), sa.column("data_json", sa.Text))
    party = sa.table("record_party", sa.column("instance_id", sa.Integer), sa.column("username", sa.String),
                     sa.column("relation", sa.String), sa.column("case_key", sa.String))
    rows = conn.execute(sa.select(inst.c.id, inst.c.business_key, inst.c.origin_key, inst.c.started_by,
                                  inst.c.data_json).order_by(inst.c.id)).all()
    origin_of = {r.business_key: r.origin_key for r in rows}

    def case_of(key: str) -> str:
        seen = {key}
        while origin_of.get(key) and origin_of[key] in origin_of and origin_of[key] not in seen:
            key = origin_of[key]
            seen.add(key)
        return key

    for r in rows:
        case_key = case_of(r.business_key)
        conn.execute(inst.update().where(inst.c.id == r.id).values(case_key=case_key))
        try:
            data = json.loads(r.data_json or "{}")
        except ValueError:
            data = {}
        found = {(r.started_by, "starter")} if r.started_by and r.started_by != "system" else set()
        for name in PARTY_FIELDS:
            value = data.get(name) if isinstance(data, dict) else None
            if isinstance(value, str) and value.strip():
                found.add((value.strip()[:80], name))
        for username, relation in sorted(found):
            conn.execute(party.insert().values(instance_id=r.id, username=username, relation=relation,
                                               case_key=case_key))


def downgrade() -> None:
    op.drop_index("ix_record_party_case_key", table_name="record_party")
    op.drop_index("ix_record_party_user", table_name="record_party")
    op.drop_table("record_party")
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_index("ix_process_instance_case_key")
        batch.drop_column("case_key")
