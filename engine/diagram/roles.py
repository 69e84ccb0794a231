"""Work nobody was named for: tasks without a lane, candidate group or assignee, and lanes that map to no role,
go to a role the owner picks at upload (or the organisation's default), each with a warning."""

from __future__ import annotations

from typing import Any

from engine.diagram.metadata import ProcessMeta


def apply_default_role(pm: ProcessMeta, role: str) -> list[dict[str, Any]]:
    """Fills in `role` where the diagram names none; returns a warning per lane and per task it filled."""
    warnings: list[dict[str, Any]] = []
    for lane, mapped in pm.lanes.items():
        if mapped is None:
            pm.lanes[lane] = role
            members = sorted(el.id for el in pm.elements.values() if el.lane == lane and el.is_human)
            warnings.append({"element_id": None, "kind": "lane_default_role", "lane": lane, "elements": members,
                             "message": f"lane {lane!r} maps to no role; its tasks go to {role!r} (pick another "
                                        "role for it in the lane mapping)"})
    for el in pm.elements.values():
        if not el.is_human or el.roles or el.assignee:
            continue
        if el.lane is not None and pm.lanes.get(el.lane):
            el.roles = [str(pm.lanes[el.lane])]
            continue
        el.roles = [role]
        warnings.append({"element_id": el.id, "kind": "task_default_role",
                         "message": f"{el.kind} {el.name!r} has no lane, camunda:candidateGroups or assignee; "
                                    f"it goes to {role!r} (set candidateGroups or pick another default role)"})
    return warnings
