"""`itsmflow user list|roles|deactivate|reactivate|password`: the administrators' account acts on the command
line. They act as `cli` (an administrator that is no account), so the trail names the command line; the rule that
one active administrator remains holds here too."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from engine.errors import DomainError
from engine.services import accounts
from engine.services.actors import Actor
from engine.services.app_start import open_handle
from web.config import Settings

ADMINISTRATOR = Actor("cli", frozenset({"admin"}))
REASON = click.option("--reason", required=True, help="why (required; it goes into the audit trail)")


def _act(fn: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    try:
        return fn(open_handle(Settings.from_env().database_url), ADMINISTRATOR, *args, **kwargs)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None


def _line(account: dict[str, Any]) -> str:
    state = "active" if account["active"] else "deactivated"
    return f"{account['username']}: {state}; roles {', '.join(account['roles'])}"


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def user_list(as_json: bool) -> None:
    """List the accounts: roles, active or not, last browser sign-in."""
    try:
        rows = accounts.listing(open_handle(Settings.from_env().database_url), ADMINISTRATOR)
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['username']:<20} {'active' if row['active'] else 'DEACTIVATED':<12} "
                   f"{', '.join(row['roles']):<40} last sign-in {row['last_sign_in'] or 'never'}")


@click.command("roles")
@click.argument("name")
@click.argument("roles", nargs=-1)
@REASON
def user_roles(name: str, roles: tuple[str, ...], reason: str) -> None:
    """Set a user's roles to ROLES (the whole list; requester is always kept)."""
    click.echo(_line(_act(accounts.update, name, reason, roles=list(roles))))


@click.command("deactivate")
@click.argument("name")
@REASON
def user_deactivate(name: str, reason: str) -> None:
    """Deactivate a user: revokes their tokens, ends their sessions, refuses their sign-in."""
    click.echo(_line(_act(accounts.update, name, reason, active=False)))


@click.command("reactivate")
@click.argument("name")
@REASON
def user_reactivate(name: str, reason: str) -> None:
    """Let a deactivated user sign in again (their old tokens stay revoked)."""
    click.echo(_line(_act(accounts.update, name, reason, active=True)))


@click.command("password")
@click.argument("name")
@REASON
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_password(name: str, reason: str, password: str) -> None:
    """Reset a user's password; their tokens are revoked and sessions ended."""
    _act(accounts.reset_password, name, password, reason)
    click.echo(f"{name}: password reset; tokens revoked, sessions ended")


COMMANDS = (user_list, user_roles, user_deactivate, user_reactivate, user_password)
