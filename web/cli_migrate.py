"""`itsmflow migrate`: move running instances of one version of a process onto another, dry run first."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from engine.errors import DomainError
from engine.services import migration
from engine.services.actors import Actor
from engine.services.app_start import open_handle
from web.config import Settings

MIGRATOR = Actor("cli", frozenset({"process_owner", "admin"}))


def _refs(values: tuple[str, ...]) -> list[int | str] | None:
    return [int(v) if v.isdigit() else v for v in values] if values else None


def _mapping(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(f"{value!r} is not OLD=NEW", param_hint="--map")
        mapping[old.strip()] = new.strip()
    return mapping


def _print(result: dict[str, Any]) -> None:
    for row in result["instances"]:
        name = row["business_key"] or row["id"]
        moves = ", ".join(f"{e['element_id']} -> {e['target'] or '?'} ({e['how']})" for e in row["elements"])
        if row["movable"]:
            click.echo(f"{name}: can move — {moves or 'waits nowhere'}")
        else:
            click.echo(f"{name}: cannot move — {'; '.join(row['reasons'])}")
    click.echo(f"{result['movable']} can move, {result['blocked']} cannot")


@click.command("migrate")
@click.argument("key")
@click.option("--from", "from_version", type=int, required=True, help="the version the instances run on")
@click.option("--to", "to_version", type=int, required=True, help="the version to move them to")
@click.option("--map", "maps", multiple=True, metavar="OLD=NEW",
              help="an element of the old version and its counterpart in the new; repeat for several")
@click.option("--instance", "chosen", multiple=True, metavar="ID|KEY",
              help="only these instances (id or business key); default: every open one of --from")
@click.option("--apply", "do_apply", is_flag=True, help="move the movable ones (without it: a dry run)")
@click.option("--reason", default="", help="why they move (required with --apply; in the audit trail)")
@click.option("--json", "as_json", is_flag=True)
def migrate_cmd(key: str, from_version: int, to_version: int, maps: tuple[str, ...], chosen: tuple[str, ...],
                do_apply: bool, reason: str, as_json: bool) -> None:
    """Move running instances of KEY from one version to another: a dry run lists per instance whether it can
    move, how each element it waits in maps, and why not; --apply --reason moves the movable ones in one
    audited act."""
    body = {"from_version": from_version, "to_version": to_version, "mapping": _mapping(maps),
            "instances": _refs(chosen)}
    database = open_handle(Settings.from_env().database_url)
    try:
        req = migration.parse_request(key, body)
        if do_apply:
            result = migration.apply(database, MIGRATOR, req, reason)
        else:
            result = migration.dry_run(database, MIGRATOR, req)
    except DomainError as exc:
        click.echo(f"refused: {exc.message}", err=True)
        for name, why in exc.details.get("fields", {}).items():
            click.echo(f"  - {name}: {why}", err=True)
        sys.exit(1)
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print(result)
    if do_apply:
        click.echo(f"moved {len(result['moved'])} instance(s) to v{to_version}: {', '.join(result['moved']) or 'none'}")
