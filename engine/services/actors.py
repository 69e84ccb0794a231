"""Who is acting: a user name and their roles. Services decide permissions from this, never from HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field

MANAGER_ROLES = frozenset({"change_manager", "release_manager", "admin", "auditor", "process_owner"})


@dataclass(frozen=True)
class Actor:
    username: str
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def sees_everything(self) -> bool:
        return bool(self.roles & MANAGER_ROLES)


SYSTEM = Actor("system", frozenset({"admin"}))
