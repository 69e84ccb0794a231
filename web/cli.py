"""The `itsmflow` command line: database, deployment, users, tokens, server, worker, audit."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from engine.db.database import Database, unit_of_work
from engine.errors import DomainError
from engine.services import audit, deploy, timers, users
from engine.services.actors import Actor
from engine.services.bundles import dmn_file, folder_bundle, process_folders
from web.config import Settings

DEPLOYER = Actor("cli", frozenset({"process_owner", "admin"}))


def _db() -> Database:
    return Database(Settings.from_env().database_url)


@click.group()
def main() -> None:
    """itsmflow: ITSM processes as BPMN diagrams and DMN tables."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    from engine.db.migrate import upgrade

    url = Settings.from_env().database_url
    upgrade(url)
    click.echo(f"database at {url.split('@')[-1]} is up to date")


def _deploy_path(database: Database, path: Path) -> list[str]:
    done = []
    if path.is_dir() and not any(path.glob("*.bpmn")) and not any(path.glob("*.dmn")):
        for folder in process_folders(path):
            done += _deploy_path(database, folder)
        return done
    if path.is_dir():
        bundle = folder_bundle(path)
        if bundle is None:
            for dmn in sorted(path.glob("*.dmn")):
                result = deploy.deploy_decisions(database, dmn_file(dmn), DEPLOYER)
                done.append(f"{dmn.name}: decisions {result['versions']}")
            return done
        result = deploy.deploy(database, bundle, DEPLOYER)
        state = "unchanged" if result.unchanged else "deployed"
        return [f"{result.key} v{result.version} {state}"]
    if path.suffix == ".dmn":
        result = deploy.deploy_decisions(database, dmn_file(path), DEPLOYER)
        return [f"{path.name}: decisions {result['versions']}"]
    folder_like = folder_bundle(path.parent)
    assert folder_like is not None
    folder_like.bpmn, folder_like.filename = path.read_bytes(), path.name
    result = deploy.deploy(database, folder_like, DEPLOYER)
    return [f"{result.key} v{result.version} {'unchanged' if result.unchanged else 'deployed'}"]


@main.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
def deploy_cmd(paths: tuple[Path, ...]) -> None:
    """Deploy process folders, .bpmn or .dmn files (a folder of folders deploys each)."""
    database = _db()
    try:
        for path in paths:
            for line in _deploy_path(database, path):
                click.echo(line)
    except DomainError as exc:
        click.echo(f"refused: {exc.message}", err=True)
        for problem in exc.details.get("problems", []):
            click.echo(f"  - {problem.get('element_id') or '(document)'}: {problem['message']}", err=True)
        sys.exit(1)


@main.group()
def user() -> None:
    """Local user accounts."""


@user.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, help="a role; repeat for several")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_add(name: str, roles: tuple[str, ...], password: str) -> None:
    """Create a user with roles."""
    try:
        actor = users.add_user(_db(), name, password, list(roles))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"user {name} created with roles {', '.join(sorted(actor.roles))}")


@main.command("seed-demo")
def seed_demo() -> None:
    """Create the demo users of API.md (password 'demo')."""
    created = users.seed_demo_users(_db())
    click.echo(f"demo users: {', '.join(users.DEMO_USERS)} (password '{users.DEMO_PASSWORD}')"
               + (f"; created {len(created)}" if created else ""))


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("name")
def token_create(name: str) -> None:
    """Create a bearer token for a user; it is printed once and stored hashed."""
    try:
        click.echo(users.create_token(_db(), name))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@main.command()
@click.option("--host", default=lambda: os.environ.get("ITSMFLOW_HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("ITSMFLOW_PORT", "5000")), type=int)
@click.option("--workers", default=2, type=int, help="gunicorn web processes")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the web app and API with gunicorn."""
    args = ["gunicorn", "--bind", f"{host}:{port}", "--workers", str(workers), "--access-logfile", "-",
            "web.wsgi:app"]
    os.execvp(args[0], args)


@main.command()
@click.option("--once", is_flag=True, help="fire what is due, retry messages, and exit (for cron)")
@click.option("--interval", default=1.0, type=float, help="seconds between polls when idle")
def worker(once: bool, interval: float) -> None:
    """Fire due timers and deliver pending messages."""
    fired = timers.run_worker(_db(), once=once, interval=interval)
    if once:
        click.echo(f"fired timers on {fired} instance(s)")


@main.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Due timers, undelivered messages, errored instances, worker liveness."""
    result = timers.status(_db())
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"due timers: {result['due_timers']}")
    click.echo(f"undelivered messages: {result['undelivered_messages']}")
    click.echo(f"errored instances: {result['errored_instances']}")
    for w in result["workers"]:  # type: ignore[union-attr]
        click.echo(f"worker {w['worker']}: {'alive' if w['alive'] else 'silent'} (seen {w['seen_at']})")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 and name the first bad event when it is broken."""
    with unit_of_work(_db()) as uow:
        result = audit.verify(uow)
    click.echo(json.dumps(result.to_dict()))
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
