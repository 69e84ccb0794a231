"""Conformance rules about decision rights, read from what the process declares (docs/audit.md):

- class_not_matching_facts: a value the server decides (the process's `server_fields`, such as the change class)
  that the record holds at its end differs from what the last decision giving it produced, or no decision ever
  gave it (a label set by a form, a start payload or an edit);
- declared deviations: a process property `deviation.<kind>` = `<conditions> => <requirement>` names a
  deviation kind; when the completed record's data meets every condition (`field=value`, values separated by
  `|`) and not the requirement, `<kind>` is reported. A requirement is `approval by <role>` (a completed
  approval task of that role shows), `<field> given` (a non-empty value) or `<field>=<value>`. The shipped
  change process declares donor_facing_without_sponsor, emergency_without_incident and
  rejected_review_reported_as_implemented; response declares
  high_priority_closed_without_root_cause.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.diagram.declarations import Declarations
from engine.diagram.metadata import ProcessMeta

DEVIATION_PROPERTY = re.compile(r"^deviation\.([a-z][a-z0-9_]*)$")


@dataclass(frozen=True)
class Declared:
    kind: str
    conditions: tuple[tuple[str, tuple[str, ...]], ...]
    requirement: str
    text: str


def _parse_pairs(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = []
    for part in text.split(","):
        name, sep, value = part.partition("=")
        if sep and name.strip():
            pairs.append((name.strip(), tuple(v.strip().lower() for v in value.split("|"))))
    return tuple(pairs)


def declared(meta: ProcessMeta) -> list[Declared]:
    found = []
    for name, value in meta.properties:
        match = DEVIATION_PROPERTY.match(name)
        if match and "=>" in value:
            when, _, need = value.partition("=>")
            found.append(Declared(match.group(1), _parse_pairs(when), need.strip(), value))
    return found


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).strip().lower()


def _meets(data: dict[str, Any], conditions: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    return all(_shown(data.get(name)) in values for name, values in conditions)


def unmet(rule: Declared, data: dict[str, Any], approved_roles: set[str]) -> str | None:
    """Why the record misses the rule's requirement (None when it meets it, or the conditions do not apply)."""
    if not _meets(data, rule.conditions):
        return None
    need = rule.requirement
    if need.startswith("approval by "):
        role = need.removeprefix("approval by ").strip()
        return None if role in approved_roles else f"no completed approval by {role}"
    if need.endswith(" given"):
        name = need.removesuffix(" given").strip()
        return None if _shown(data.get(name)) else f"{name} is not given"
    name, _, value = need.partition("=")
    if _shown(data.get(name.strip())) in {v.strip().lower() for v in value.split("|")}:
        return None
    return f"{name.strip()} is {data.get(name.strip())!r}, not {value.strip()}"


def decided_mismatches(decl: Declarations, decided: dict[str, Any], data: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, held, decided) for server-decided fields whose final value is not what the last decision gave
    (decided holds no entry for a field no decision ever produced: then any held value is a label)."""
    found = []
    for name in decl.server_fields:
        if name not in data or data[name] is None:
            continue
        if name not in decided:
            found.append((name, data[name], None))
        elif data[name] != decided[name]:
            found.append((name, data[name], decided[name]))
    return found
