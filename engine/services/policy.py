"""The one place that decides who may see, start, claim, complete, approve and reassign, and who may use each
page and administrative act. Services, API views and pages all ask here; nothing else compares roles.

The rules:
- Managers, auditors, process owners and admins (SEE_ALL) see every record and task.
- Anyone else sees the records they are a party to (they started it, or its declared requester or reporter
  field names them), every record linked to one of those (origin keys, both ways: the case), the records of
  the processes that route work to one of their staff roles or that their role owns (`team`), and any
  record with a task assigned to them.
- A task for a staff role is offered, unclaimed, to holders of that role. A task for the role everyone holds
  (EVERYONE, the requester lane) is offered only to that record's requester or reporter (its starter when it
  names neither), or to staff of the process's owning team.
- A claimed task is completed by its holder only; an unclaimed one by those it is offered to. An approval
  is never completed by one of the people the record is for, nor by anyone the process's separation-of-duties
  table excludes (its assessor, implementer, whoever set the routing facts).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import aliased

from engine.db.database import UnitOfWork
from engine.db.models import HumanTask, ProcessInstance, RecordParty
from engine.db.rows import TaskRow
from engine.diagram.declarations import Declarations
from engine.errors import BadRequest, NotAllowed
from engine.services import declared, duties, parties
from engine.services.actors import Actor

EVERYONE = "requester"  # the role every account holds: a task for it belongs to the record's own people
SEE_ALL = frozenset({"change_manager", "release_manager", "admin", "auditor", "process_owner"})
ACTING_RELATIONS = ("requester", "reporter")
TABS = ("todo", "available", "mine", "all")
DEFAULT_TAB = "todo"
ALL_TASKS = (*sorted(SEE_ALL), "service_desk")

# Acts that need one of some roles, by name: the pages, the API and the services ask may() / require().
ACTS: dict[str, tuple[str, ...]] = {
    "cancel": ("change_manager", "release_manager", "admin"),
    "retry": ("admin",),
    "administer": ("admin",),  # edit a record's data, reassign a task, archive
    "dead_letters": ("admin",),  # list, redeliver and discard messages whose retries ran out
    "accounts": ("admin",),  # list accounts, change their roles, deactivate, reactivate, reset a password
    "deploy": ("process_owner", "admin"),
    "migrate": ("process_owner", "admin"),  # move running records between versions of a process
    "catalogue": ("process_owner", "admin", "auditor"),
    "compare_versions": ("process_owner", "admin", "auditor"),
    "dashboard": ("service_desk", "change_manager", "release_manager", "process_owner", "auditor", "admin"),
    "trail": ("auditor", "admin"),
    "export_trail": ("auditor",),
    "post_message": ("integration", "admin"),
    "external_tasks": ("integration", "admin"),  # fetch, lock, complete and fail external tasks (workers)
    "external_tasks_read": ("integration", "admin", "process_owner", "auditor"),  # list them and incidents
    "assign": ("service_desk", "admin"),  # hand out work: assign or reassign tasks to a named person
    "mail_in": ("service_desk", "admin"),  # decide on mail held from unknown senders
    "notification_templates": ("admin",),
    "write_knowledge": ("service_desk", "problem_team", "admin"),  # write and edit knowledge articles
    "review_knowledge": ("service_desk", "admin"),  # review and publish articles (not one's own)
    "problems": ("problem_team", "service_desk", "admin"),  # problems, linked incidents, known errors
    "governance": ("process_owner", "auditor", "admin"),  # maturity from evidence, governance cadences
    # the change calendar, its conflicts and feed: every staff role (requesters see their own records only)
    "change_calendar": ("service_desk", "resolver", "problem_team", "change_manager", "cab", "executive_sponsor",
                        "implementer", "release_manager", "process_owner", "auditor", "admin"),
}
ACT_WORDS = {
    "cancel": "cancel records", "retry": "retry records in error", "administer": "do administrative acts",
    "dead_letters": "handle dead letters", "accounts": "manage accounts",
    "deploy": "deploy processes and tables", "migrate": "move running records between versions",
    "catalogue": "see the process catalogue",
    "compare_versions": "compare process versions", "dashboard": "see the dashboard", "trail": "read the trail",
    "export_trail": "export the trail", "post_message": "post messages", "external_tasks": "work external tasks",
    "external_tasks_read": "list external tasks", "assign": "assign tasks to people",
    "mail_in": "decide on held mail", "notification_templates": "edit notification templates",
    "governance": "see the governance page",
    "write_knowledge": "write knowledge articles", "review_knowledge": "review and publish knowledge articles",
    "problems": "manage problems and known errors", "change_calendar": "see the change calendar",
}


def staff_roles(actor: Actor) -> frozenset[str]:
    return actor.roles - {EVERYONE}


def sees_all(actor: Actor) -> bool:
    return bool(actor.roles & SEE_ALL)


def may(actor: Actor, act: str) -> bool:
    return actor.has(*ACTS[act])


def require(actor: Actor, act: str) -> None:
    if not may(actor, act):
        raise NotAllowed(f"only {', '.join(ACTS[act])} may {ACT_WORDS[act]}")


# ------------------------------------------------------------------------------------------------- records

def visible_records(uow: UnitOfWork, actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on ProcessInstance: the records the actor may see."""
    if sees_all(actor):
        return true()
    staff = staff_roles(actor)
    by_role = declared.versions_where(uow, lambda d: bool(d.roles & staff)) if staff else []
    return or_(
        ProcessInstance.process_version_id.in_(by_role),
        ProcessInstance.case_key.in_(select(RecordParty.case_key).where(RecordParty.username == actor.username)),
        ProcessInstance.id.in_(select(HumanTask.instance_id).where(HumanTask.assignee == actor.username)),
    )


def may_see_record(uow: UnitOfWork, actor: Actor, instance_id: int) -> bool:
    if sees_all(actor):
        return True
    stmt = select(ProcessInstance.id).where(ProcessInstance.id == instance_id, visible_records(uow, actor))
    return uow.session.execute(stmt).first() is not None


def check_see_record(uow: UnitOfWork, actor: Actor, instance_id: int) -> None:
    if not may_see_record(uow, actor, instance_id):
        raise NotAllowed("you may not see this record")


def may_cancel(actor: Actor, status: str) -> bool:
    return may(actor, "cancel") and status not in ("completed", "cancelled")


# --------------------------------------------------------------------------------------------------- tasks

def _acting_for(actor: Actor) -> Any:
    """Ids of the records whose requester or reporter the actor is (or that they started, naming neither)."""
    other = aliased(RecordParty)
    named = select(RecordParty.instance_id).where(RecordParty.username == actor.username,
                                                  RecordParty.relation.in_(ACTING_RELATIONS))
    started_only = select(RecordParty.instance_id).where(
        RecordParty.username == actor.username, RecordParty.relation == "starter",
        ~exists().where(other.instance_id == RecordParty.instance_id, other.relation.in_(ACTING_RELATIONS)))
    return named.union(started_only)


def offered(uow: UnitOfWork, actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on HumanTask: unclaimed tasks the actor may take."""
    return and_(HumanTask.assignee.is_(None), _for(uow, actor))


def _for(uow: UnitOfWork, actor: Actor) -> ColumnElement[bool]:
    """Tasks the actor could take when nobody holds them (the team is the task's own version, kept with it)."""
    staff = staff_roles(actor)
    team_versions = sorted(_team_versions(uow, staff))
    for_everyone = and_(
        for_roles(uow, EVERYONE),
        or_(HumanTask.instance_id.in_(_acting_for(actor)),
            HumanTask.process_version_id.in_(team_versions) if team_versions else false()))
    return or_(for_roles(uow, *sorted(staff)), for_everyone) if staff else for_everyone


def for_roles(uow: UnitOfWork, *roles: str) -> ColumnElement[bool]:
    """The task is for one of these roles. Read from the task row's own list of its candidate roles (written
    with its task_candidate rows; each name quoted in JSON, found case-sensitively), a test on the row itself: an
    inbox page walking its sort index stops after the page. A subquery on task_candidate here is planned as a hash
    of every candidate of the role, built for every page (100 ms at 35,000 candidates)."""
    find = func.strpos if uow.is_postgres else func.instr
    return or_(false(), *[find(HumanTask.roles_json, json.dumps(role)) > 0 for role in roles])


def offered_by_role(uow: UnitOfWork, actor: Actor) -> Callable[[int, frozenset[str]], bool]:
    """Whether an unclaimed task of a version, for these candidate roles, is offered to the actor whoever its
    record is for: the part of `offered` that the inbox tally counts (by version and roles)."""
    staff = staff_roles(actor)
    team_versions = _team_versions(uow, staff)
    return lambda version, roles: bool(roles & staff) or (EVERYONE in roles and version in team_versions)


def offered_personally(uow: UnitOfWork, actor: Actor) -> ColumnElement[bool]:
    """The rest of `offered`, disjoint from `offered_by_role`: unclaimed requester-lane tasks on records the
    actor acts for, of versions whose team they are not in, with none of their staff roles among the candidates."""
    staff = staff_roles(actor)
    team_versions = _team_versions(uow, staff)
    return and_(
        HumanTask.assignee.is_(None),
        HumanTask.instance_id.in_(_acting_for(actor)),
        for_roles(uow, EVERYONE),
        ~for_roles(uow, *sorted(staff)) if staff else true(),
        HumanTask.process_version_id.not_in(sorted(team_versions)) if team_versions else true())


def _team_versions(uow: UnitOfWork, staff: frozenset[str]) -> set[int]:
    """Asked up to three times by one inbox page (its rows, its tally, its requester lane): read once per unit of
    work, which therefore sees the versions deployed when it first asked."""
    if not staff:
        return set()
    memo = uow.session.info.setdefault("team_versions", {})
    if staff not in memo:
        memo[staff] = set(declared.versions_where(uow, lambda d: d.team is not None and d.team in staff))
    return set(memo[staff])


def tabs(actor: Actor) -> list[str]:
    return [t for t in TABS if t != "all" or actor.has(*ALL_TASKS)]


def task_scope(uow: UnitOfWork, actor: Actor, scope: str) -> ColumnElement[bool]:
    """mine: claimed by or assigned to the actor; available: offered to them; todo: both (the default tab);
    all: every open task they may see (managers, auditors, the service desk)."""
    if scope not in TABS:
        raise BadRequest(f"scope must be one of {', '.join(TABS)}")
    if scope == "mine":
        return HumanTask.assignee == actor.username
    if scope == "available":
        return offered(uow, actor)
    if scope == "todo":
        return or_(HumanTask.assignee == actor.username, offered(uow, actor))
    if not actor.has(*ALL_TASKS):
        raise NotAllowed("only managers, auditors and the service desk list all tasks")
    return visible_tasks(uow, actor)


def visible_tasks(uow: UnitOfWork, actor: Actor) -> ColumnElement[bool]:
    """Tasks assigned or offered to the actor; for staff, also every task on a record they may see (a
    requester sees their record's open tasks listed on it, but opens only their own)."""
    if sees_all(actor):
        return true()
    own = or_(HumanTask.assignee == actor.username, offered(uow, actor))
    if not staff_roles(actor):
        return own
    return or_(own, HumanTask.instance_id.in_(select(ProcessInstance.id).where(visible_records(uow, actor))))


def _holds(uow: UnitOfWork, task_id: str, clause: ColumnElement[bool]) -> bool:
    return uow.session.execute(select(HumanTask.id).where(HumanTask.id == task_id, clause)).first() is not None


def may_see_task(uow: UnitOfWork, actor: Actor, task: HumanTask) -> bool:
    return sees_all(actor) or _holds(uow, task.id, visible_tasks(uow, actor))


def check_see_task(uow: UnitOfWork, actor: Actor, task: HumanTask) -> None:
    if not may_see_task(uow, actor, task):
        raise NotAllowed("this task is for someone else")


def is_offered(uow: UnitOfWork, actor: Actor, task: TaskRow) -> bool:
    if task.assignee is not None:
        return False
    # The task row carries its candidate roles (written with its task_candidate rows): a staff role among them
    # decides it without a query. Otherwise the full rule below (the requester lane) decides.
    if staff_roles(actor) & set(json.loads(task.roles_json)):
        return True
    return _holds(uow, task.id, offered(uow, actor))


def may_claim(actor: Actor, task: HumanTask, is_offered_to_actor: bool) -> bool:
    """An unclaimed task offered to the actor; admins may claim any (an administrative act)."""
    return task.assignee is None and (is_offered_to_actor or actor.has("admin"))


def check_claim(uow: UnitOfWork, actor: Actor, task: HumanTask) -> None:
    """Admins may claim any task (an administrative act); everyone else what is offered to them."""
    if task.assignee == actor.username or actor.has("admin"):
        return
    if not _holds(uow, task.id, _for(uow, actor)):
        raise NotAllowed("this task is for someone else")


def may_unclaim(actor: Actor, task: HumanTask) -> bool:
    """True when the actor may give the task back (the holder, or an admin)."""
    return task.assignee is not None and (task.assignee == actor.username or actor.has("admin"))


def check_complete(uow: UnitOfWork, actor: Actor, task: TaskRow) -> None:
    if task.assignee is not None and task.assignee != actor.username:
        raise NotAllowed(f"task is claimed by {task.assignee}")
    if task.assignee is None and not is_offered(uow, actor, task):
        raise NotAllowed("this task is for someone else")
    if task.approval:
        check_separation_of_duties(uow, actor, task)


def check_separation_of_duties(uow: UnitOfWork, actor: Actor, task: TaskRow) -> None:
    """At the completion of every approval: the process's separation-of-duties table (engine/services/duties.py)
    decides, for each relation the person has to the record (requester, assessor, implementer, setter of routing
    facts), whether they may approve. Relations are the person's: holding two roles is no way around them."""
    verdict = duties.judge(uow, task.instance_id, actor.username, task.element_id)
    if not verdict.allowed:
        raise NotAllowed(f"separation of duties: {verdict.reason}")


def task_actions(uow: UnitOfWork, actor: Actor, task: HumanTask) -> dict[str, bool]:
    """What a page may offer on a task: exactly what the checks above will let through."""
    mine = task.assignee == actor.username
    free_for_me = is_offered(uow, actor, task)
    approval_ok = True
    if task.approval and (mine or free_for_me):
        try:
            check_separation_of_duties(uow, actor, task)
        except NotAllowed:
            approval_ok = False
    claimable = may_claim(actor, task, free_for_me)
    return {"may_work": (mine or free_for_me) and approval_ok,
            "may_claim": claimable,
            "claim_needs_reason": claimable and is_admin_override(uow, actor, task),
            "may_unclaim": may_unclaim(actor, task)}


def check_reassign(actor: Actor) -> None:
    require(actor, "administer")


# ------------------------------------------------------------------------------------------------ starting

def may_start(actor: Actor, decl: Declarations) -> bool:
    return not decl.start_roles or actor.has(*decl.start_roles)


def check_start(actor: Actor, decl: Declarations) -> None:
    if not may_start(actor, decl):
        raise NotAllowed(f"starting {decl.key} needs one of the roles {', '.join(decl.start_roles)}")


# ------------------------------------------------------------------------------------- the service desk's acts

def may_read_internal(actor: Actor) -> bool:
    """Internal work notes (comments and files) are for staff: anyone with a role besides the one everyone holds."""
    return bool(staff_roles(actor))


def may_list_people(actor: Actor) -> bool:
    """The accounts directory (user and display names) is for staff, who name the people a record is for."""
    return bool(staff_roles(actor))


def may_withdraw(uow: UnitOfWork, actor: Actor, instance_id: int, status: str) -> bool:
    """The people a record is for may withdraw it while it is open."""
    return status in ("running", "waiting") and actor.username in parties.requesters(uow, instance_id)


# ------------------------------------------------------------------------------------------------ knowledge

def may_read_known_errors(actor: Actor) -> bool:
    """Known errors and unpublished articles are staff knowledge; requesters find published articles."""
    return bool(staff_roles(actor))


def check_review_article(actor: Actor, author: str) -> None:
    """Four eyes: an article is reviewed by someone of the service desk other than its author."""
    require(actor, "review_knowledge")
    if actor.username == author:
        raise NotAllowed("an article is reviewed by someone other than its author")


def is_admin_override(uow: UnitOfWork, actor: Actor, task: HumanTask) -> bool:
    """An administrator taking an approval that the rules do not offer them: an administrative act, which needs
    a reason and is recorded as admin.claimed."""
    return (task.approval and actor.has("admin") and task.assignee != actor.username
            and not _holds(uow, task.id, _for(uow, actor)))
