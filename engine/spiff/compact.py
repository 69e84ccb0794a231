"""Keeps a long-lived instance's task tree small.

SpiffWorkflow keeps every completed task forever and walks the whole tree on each step, so an instance that
loops (rework, reopen, re-test) gets quadratically slower and bigger (see SPIFF_NOTES.md). The host does not
need the engine's history: the audit trail is the history, and the path view is computed from it. So after
each step we cut the finished chain that leads to the live part of the tree:

    Start -> start event -> t1 -> t2 -> ... -> X -> (everything unfinished)

becomes Start -> start event -> X, where X is the lowest common ancestor of all unfinished tasks. Everything cut is
finished (otherwise X would be higher), so no join, boundary event or gateway can still look at it: a parallel
join's pending instance or a boundary event's split sits at or below X by construction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from SpiffWorkflow.util.task import TaskState

PREVIOUS_KEY = "itsmflow_previous_element"


def previous_element(task: Any) -> str | None:
    """The BPMN element a task came from, also after its real parent was compacted away."""
    if PREVIOUS_KEY in task.internal_data:
        return task.internal_data[PREVIOUS_KEY]
    return _bpmn_ancestor(task)


def _bpmn_ancestor(task: Any) -> str | None:
    parent = task.parent
    while parent is not None and getattr(parent.task_spec, "bpmn_id", None) is None:
        if PREVIOUS_KEY in parent.internal_data:
            return parent.internal_data[PREVIOUS_KEY]
        parent = parent.parent
    return None if parent is None else parent.task_spec.bpmn_id


def _path_to_root(task: Any) -> list[Any]:
    path = []
    while task is not None:
        path.append(task)
        task = task.parent
    return path[::-1]


def _lowest_common_ancestor(tasks: list[Any]) -> Any:
    paths = [_path_to_root(t) for t in tasks]
    shortest = min(len(p) for p in paths)
    lca = paths[0][0]
    for depth in range(shortest):
        candidate = paths[0][depth]
        if all(p[depth] is candidate for p in paths):
            lca = candidate
        else:
            break
    return lca


def _subtree_ids(task: Any, tasks: dict[UUID, Any]) -> list[UUID]:
    ids, stack = [], [task.id]
    while stack:
        tid = stack.pop()
        ids.append(tid)
        child = tasks.get(tid)
        if child is not None:
            stack.extend(child._children)
    return ids


def compact(workflow: Any) -> int:
    """Removes the finished chain above the live part of the top-level tree. Returns how many tasks went."""
    root = workflow.task_tree
    if not root._children:
        return 0
    start = workflow.tasks.get(root._children[0])
    if start is None:
        return 0
    # A task in ERROR is live too: it is retried after someone fixes the cause.
    live = TaskState.NOT_FINISHED_MASK | TaskState.ERROR
    unfinished = [t for t in workflow.tasks.values() if t.has_state(live) and t is not root and t is not start]
    if not unfinished:
        return 0
    lca = _lowest_common_ancestor(unfinished)
    path = _path_to_root(lca)
    if start not in path:
        return 0  # live work outside the main start branch (event subprocess paths): leave it alone
    chain = path[path.index(start) + 1 : -1]  # strictly between Start and the LCA
    if not chain:
        return 0
    former_parent = path[-2]
    # What the cut chain knew and later steps still ask for: a waiting task re-inherits its parent's data when
    # it fires, and the path view needs the element it came from.
    start.data = dict(former_parent.data)
    lca.internal_data[PREVIOUS_KEY] = _bpmn_ancestor(lca)
    keep = set(_subtree_ids(lca, workflow.tasks))
    removed = [tid for tid in _subtree_ids(chain[0], workflow.tasks) if tid not in keep]
    for tid in removed:
        workflow.tasks.pop(tid, None)
        workflow.subprocesses.pop(tid, None)  # a finished call activity's own tree goes with its task
    start._children = [lca.id]
    lca._parent = start.id
    if workflow.last_task is not None and workflow.last_task.id not in workflow.tasks:
        workflow.last_task = lca
    return len(removed)
