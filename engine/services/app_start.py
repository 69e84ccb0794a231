"""What a composition root (the app factory, the command line, the mail listener) takes from the lower layer: it
opens the database handle here and hands it back to services, so web/ never imports engine.db, holds a session or
sees an ORM row."""

from __future__ import annotations

from typing import TypeAlias

from engine.db import migrate
from engine.db.database import Database

# The handle web/ passes into services. It is the Database itself (no wrapper to keep in step with it); web/ names it
# by this alias so that what it may do with it is "pass it on".
Handle: TypeAlias = Database


def open_handle(url: str) -> Handle:
    return Database(url)


def upgrade_schema(url: str) -> None:
    """Create or migrate the schema to the newest version."""
    migrate.upgrade(url)
