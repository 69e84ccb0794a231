"""inbox tally: open tasks counted by version, candidate roles, priority and claimed, kept by triggers

Revision ID: inbox_17
Revises: harden_16
Create Date: 2026-12-01 21:50:00

human_task gets its instance's version (backfilled); inbox_tally is filled from the open tasks, then triggers
on human_task add a +1 / -1 row for every insert, delete (cascades included) and change of a counted column,
in the writing transaction. Triggers rather than service code: every path that writes tasks (the step's task
sync, claims, assigns, migrations, deleted instances) is counted without a statement of its own.
"""
import sqlalchemy as sa
from alembic import op

revision = "inbox_17"
down_revision = "harden_16"
branch_labels = None
depends_on = None

KEY = "process_version_id, process_key, roles_json, priority, assigned"
# The UPDATE trigger fires only when a counted column changes (a reassignment between people does not).
CHANGED = ("OLD.process_version_id IS DISTINCT FROM NEW.process_version_id "
           "OR OLD.process_key IS DISTINCT FROM NEW.process_key OR OLD.roles_json IS DISTINCT FROM NEW.roles_json "
           "OR OLD.priority IS DISTINCT FROM NEW.priority OR (OLD.assignee IS NULL) <> (NEW.assignee IS NULL)")


def _row(alias: str, n: int) -> str:
    return (f"INSERT INTO inbox_tally ({KEY}, n) VALUES ({alias}.process_version_id, {alias}.process_key, "
            f"{alias}.roles_json, {alias}.priority, {alias}.assignee IS NOT NULL, {n});")


POSTGRES = [
    f"""CREATE FUNCTION inbox_tally_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN {_row("OLD", -1)} END IF;
        IF TG_OP <> 'DELETE' THEN {_row("NEW", 1)} END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER inbox_tally_insert_delete AFTER INSERT OR DELETE ON human_task "
    "FOR EACH ROW EXECUTE FUNCTION inbox_tally_count()",
    "CREATE TRIGGER inbox_tally_update AFTER UPDATE ON human_task "
    f"FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION inbox_tally_count()",
]
SQLITE = [
    f"CREATE TRIGGER inbox_tally_insert AFTER INSERT ON human_task BEGIN {_row('NEW', 1)} END",
    f"CREATE TRIGGER inbox_tally_delete AFTER DELETE ON human_task BEGIN {_row('OLD', -1)} END",
    f"CREATE TRIGGER inbox_tally_update AFTER UPDATE ON human_task WHEN {CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
    f"BEGIN {_row('OLD', -1)} {_row('NEW', 1)} END",
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("human_task", sa.Column("process_version_id", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE human_task SET process_version_id = (SELECT p.process_version_id FROM process_instance p "
               "WHERE p.id = human_task.instance_id)")
    if postgres:
        op.alter_column("human_task", "process_version_id", server_default=None)
    op.create_table(
        "inbox_tally",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(100), nullable=False),
        sa.Column("roles_json", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(4), nullable=True),
        sa.Column("assigned", sa.Boolean(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
    )
    op.execute(f"INSERT INTO inbox_tally ({KEY}, n) SELECT process_version_id, process_key, roles_json, "
               "priority, assignee IS NOT NULL, count(*) FROM human_task "
               "GROUP BY process_version_id, process_key, roles_json, priority, assignee IS NOT NULL")
    for statement in POSTGRES if postgres else SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER inbox_tally_update ON human_task")
        op.execute("DROP TRIGGER inbox_tally_insert_delete ON human_task")
        op.execute("DROP FUNCTION inbox_tally_count()")
    else:
        for name in ("inbox_tally_update", "inbox_tally_delete", "inbox_tally_insert"):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("inbox_tally")
    op.drop_column("human_task", "process_version_id")  # plain ALTER TABLE (SQLite >= 3.35): no batch copy
