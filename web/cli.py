"""The `itsmflow` command line: database, deployment, users, tokens, server, worker, audit."""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from engine.errors import DomainError
from engine.services import audit, audit_views, demo_catalogue, record_index, seeding, timers, users
from engine.services.actors import Actor
from engine.services.app_start import Handle, open_handle, upgrade_schema
from engine.services.bundles import dmn_file, folder_bundle, process_folders
from web.config import Settings

DEPLOYER = Actor("cli", frozenset({"process_owner", "admin"}))


def _db() -> Handle:
    return open_handle(Settings.from_env().database_url)


@click.group()
def main() -> None:
    """itsmflow: ITSM processes as BPMN diagrams and DMN tables."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version."""
    url = Settings.from_env().database_url
    upgrade_schema(url)
    click.echo(f"database at {url.split('@')[-1]} is up to date")


def _deploy_path(database: Handle, path: Path, force: bool) -> list[seeding.SeedResult]:
    """Bundled files are seeds: installed when absent, otherwise offered as proposals (or forced)."""
    if path.is_dir() and not any(path.glob("*.bpmn")) and not any(path.glob("*.dmn")):
        done = []
        for folder in process_folders(path):
            done += _deploy_path(database, folder, force)
        return done
    if path.is_dir():
        bundle = folder_bundle(path)
        if bundle is None:
            return [seeding.seed_decisions(database, dmn_file(dmn), DEPLOYER, str(dmn), force)
                    for dmn in sorted(path.glob("*.dmn"))]
        return [seeding.seed_bundle(database, bundle, DEPLOYER, str(path), force)]
    if path.suffix == ".dmn":
        return [seeding.seed_decisions(database, dmn_file(path), DEPLOYER, str(path), force)]
    folder_like = folder_bundle(path.parent)
    assert folder_like is not None
    folder_like.bpmn, folder_like.filename = path.read_bytes(), path.name
    return [seeding.seed_bundle(database, folder_like, DEPLOYER, str(path), force)]


@main.command("deploy")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--force", is_flag=True,
              help="make the bundled files the versions in force, even over versions owners deployed")
def deploy_cmd(paths: tuple[Path, ...], force: bool) -> None:
    """Deploy process folders, .bpmn or .dmn files (a folder of folders deploys each).

    A process or table with no version yet is installed. One that has versions keeps the version in force: a
    bundled file that differs from everything deployed or offered before is stored as a proposal for its
    owners to accept or dismiss (the processes page, /api/v1/proposals), unless --force is given. Each line
    of output says what was done with one process or table file, and why."""
    database = _db()
    try:
        for path in paths:
            for result in _deploy_path(database, path, force):
                click.echo(result.line())
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
        actor = users.add_user(_db(), name, password, list(roles), enforce_password=True)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"user {name} created with roles {', '.join(sorted(actor.roles))}")


@user.command("email")
@click.argument("name")
@click.argument("address", required=False, default="")
def user_email(name: str, address: str) -> None:
    """Set (or, without ADDRESS, clear) the e-mail address notifications go to."""
    from engine.services import notifications

    try:
        value = notifications.set_email(_db(), name, address)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"{name}: {value or 'no address of their own'}")


@main.command("seed-demo")
def seed_demo() -> None:
    """Create the demo users (password 'demo') and the demo service catalogue."""
    created = users.seed_demo_users(_db())
    click.echo(f"demo users: {', '.join(users.DEMO_USERS)} (password '{users.DEMO_PASSWORD}')"
               + (f"; created {len(created)}" if created else ""))
    added = demo_catalogue.seed(_db())
    click.echo(f"demo catalogue: {len(demo_catalogue.SERVICES)} services, {len(demo_catalogue.CIS)} configuration "
               f"items" + (f"; added {len(added)} objects" if added else " (all there already)"))


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("name")
@click.option("--hours", type=float, default=None, help="expire after this many hours (default ITSMFLOW_TOKEN_HOURS, "
              "720; 0: never)")
def token_create(name: str, hours: float | None) -> None:
    """Create a bearer token for a user; it is printed once and stored hashed."""
    try:
        click.echo(users.create_token(_db(), name, hours))
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


@token.command("revoke")
@click.argument("name")
def token_revoke(name: str) -> None:
    """Revoke every token of a user."""
    try:
        count = users.revoke_tokens(_db(), "cli", username=name)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"revoked {count} token(s) of {name}")


@main.command()
@click.option("--host", default=lambda: os.environ.get("ITSMFLOW_HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("ITSMFLOW_PORT", "5000")), type=int)
@click.option("--workers", default=2, type=int, help="gunicorn web processes (one per core)")
@click.option("--threads", default=4, type=int, help="requests each process serves at once (gthread)")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the web app and API with gunicorn (gthread workers: chosen by measurement, docs/performance.md)."""
    # The interpreter running this command has gunicorn installed: no need for the venv on PATH.
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--worker-class", "gthread",
            "--workers", str(workers), "--threads", str(threads), "--access-logfile", "-", "web.wsgi:app"]
    os.execv(sys.executable, args)


@main.command()
@click.option("--once", is_flag=True, help="fire what is due, retry messages, and exit (for cron)")
@click.option("--interval", default=1.0, type=float, help="seconds between polls when idle")
@click.option("--supervise", is_flag=True, help="run the worker as a child process, restarted whenever it dies")
def worker(once: bool, interval: float, supervise: bool) -> None:
    """Fire due timers and deliver pending messages."""
    if supervise and not once:
        from web.supervisor import supervise as run_supervised

        raise SystemExit(run_supervised(["--interval", str(interval)], click.echo))
    from engine.spiff.limits import apply_process_limits

    apply_process_limits()
    fired = timers.run_worker(_db(), once=once, interval=interval)
    if once:
        click.echo(f"fired timers on {fired} instance(s)")


@main.command("mail-in")
@click.option("--host", default=lambda: os.environ.get("ITSMFLOW_MAILIN_HOST", "127.0.0.1"))
@click.option("--port", default=lambda: int(os.environ.get("ITSMFLOW_MAILIN_PORT", "2525")), type=int)
def mail_in_cmd(host: str, port: int) -> None:
    """Receive mail for the service desk over SMTP (replies become comments, new mail a record)."""
    import logging

    from web.mailserver import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"mail-in on {host}:{port}", err=True)
    serve(_db(), host, port)


@main.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Due timers, undelivered messages, dead letters, errored instances, worker liveness."""
    result = timers.status(_db())
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"due timers: {result['due_timers']}")
    click.echo(f"undelivered messages: {result['undelivered_messages']}")
    click.echo(f"dead letters: {result['dead_letters']}")
    click.echo(f"errored instances: {result['errored_instances']}")
    for w in result["workers"]:
        click.echo(f"worker {w['worker']}: {'alive' if w['alive'] else 'silent'} (seen {w['seen_at']})")


@main.group("audit")
def audit_group() -> None:
    """The audit trail."""


def _when(value: str | None, end: bool = False, name: str = "from") -> datetime | None:
    from engine.services.audit_bundle import parse_when

    try:
        return parse_when(value, end=end, name=name)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint=f"--{name}") from None


@audit_group.command("verify")
@click.option("--checkpoints", "checkpoints", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the checkpoint file kept outside the database, checked strictly (it must be this database's)")
def audit_verify(checkpoints: Path | None) -> None:
    """Check the hash chain; exit 1 and name the first bad event when it is broken."""
    result = audit_views.verify_chain(_db(), checkpoints)
    click.echo(json.dumps(result.to_dict()))
    sys.exit(0 if result.ok else 1)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Record the chain's head now, in the database and in the checkpoint file (e.g. daily from cron)."""
    written = audit_views.checkpoint(_db())
    click.echo(json.dumps({"checkpoint": written, "file": str(audit.checkpoint_file() or "")}))


@audit_group.command("export")
@click.option("--from", "start", help="first day (YYYY-MM-DD) or ISO time; default: the beginning")
@click.option("--to", "end", help="last day (inclusive) or ISO time (exclusive); default: now")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="write here instead of stdout")
def audit_export(start: str | None, end: str | None, output: Path | None) -> None:
    """Export the trail as a JSON Lines bundle that `audit verify-bundle` checks without the database."""
    since, until = _when(start), _when(end, end=True, name="to")
    if output is None:
        for line in audit_views.export_lines(_db(), since, until):
            click.echo(line)
        return
    count = 0
    with output.open("w", encoding="utf-8", newline="\n") as fh:
        for line in audit_views.export_lines(_db(), since, until):
            fh.write(line + "\n")
            count += 1
    click.echo(f"wrote {max(count - 2, 0)} event(s) to {output}", err=True)


@audit_group.command("verify-bundle")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--checkpoints", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="also compare with the checkpoint file kept outside the database")
def audit_verify_bundle(file: Path, checkpoints: Path | None) -> None:
    """Check an exported bundle offline; exit 1 naming the first bad event."""
    from engine.services import audit_bundle_check

    entries = audit.read_checkpoint_file(checkpoints) if checkpoints else None
    result = audit_bundle_check.verify_bundle(file, entries)
    click.echo(json.dumps(result.to_dict()))
    if not result.ok:
        where = f" at seq {result.first_bad_seq}" if result.first_bad_seq is not None else ""
        click.echo(f"bundle does NOT verify{where}: {result.reason}", err=True)
    sys.exit(0 if result.ok else 1)


@audit_group.command("conformance")
@click.option("--process", help="only instances of this process key")
@click.option("--from", "start", help="first day (YYYY-MM-DD) or ISO time")
@click.option("--to", "end", help="last day (inclusive) or ISO time (exclusive)")
@click.option("--json", "as_json", is_flag=True)
def audit_conformance(process: str | None, start: str | None, end: str | None, as_json: bool) -> None:
    """Replay every trail against its diagram version; exit 1 when there are deviations."""
    from engine.services import conformance

    since, until = _when(start), _when(end, end=True, name="to")
    found = audit_views.deviations(_db(), process, since, until)
    if as_json:
        click.echo(json.dumps({"ok": not found, "deviations": [d.to_dict() for d in found],
                               "summary": conformance.summary(found)}, indent=2))
    else:
        click.echo(conformance.table(found))
    sys.exit(1 if found else 0)


@main.command("reindex")
def reindex() -> None:
    """Rebuild the CIs, services and change windows indexed per record (once, after upgrading an install that
    already has records)."""
    click.echo(f"reindexed {record_index.rebuild(_db())} records")


@main.command("archive")
@click.option("--before", required=True, help="archive instances that finished before this day or ISO time")
@click.option("--limit", type=int, default=None, help="at most this many")
@click.option("--json", "as_json", is_flag=True)
def archive_cmd(before: str, limit: int | None, as_json: bool) -> None:
    """Drop the engine state of completed and cancelled instances; their data and audit trail stay."""
    from engine.services import archive

    cut = _when(before, name="before")
    if cut is None:
        raise click.BadParameter("a day or an ISO time is required", param_hint="--before")
    try:
        result = archive.archive(_db(), Actor("cli", frozenset({"admin"})), cut, limit)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(result.to_dict()))
    else:
        click.echo(f"archived {len(result.archived)} instance(s), {result.bytes_freed} bytes of engine state")


from web.cli_migrate import migrate_cmd  # noqa: E402 - a command of its own module, registered here

main.add_command(migrate_cmd)

from web.cli_accounts import COMMANDS as ACCOUNT_COMMANDS  # noqa: E402 - the account acts, in their own module

for _command in ACCOUNT_COMMANDS:
    user.add_command(_command)

if __name__ == "__main__":
    main()
