"""What the services need to know about a process, read from the diagram instead of its key.

A process declares it in its own `camunda:properties` (on `bpmn:process`); docs/modelling.md lists every
property with its default. Nothing here knows a process by name: a process an organisation adds, or a shipped
one deployed under another key, gets the same treatment from the same declarations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from engine.diagram.forms import FormField, check_definition
from engine.diagram.metadata import ProcessMeta

# Field names of the record vocabulary, used when a process does not say otherwise.
DEFAULT_FIELDS = {"requester_field": "requester", "reporter_field": "reporter", "priority_field": "priority",
                  "service_field": "service"}
DEFAULT_SUMMARY_FIELDS = ("summary", "title")
PREFIX_PATTERN = re.compile(r"^[A-Z][A-Z0-9]{0,9}$")
OPTION_PROPERTY = re.compile(r"^start\.([a-z][a-z0-9_-]*)\.(label|intro|fields|set|defaults|via|via_set|order)$")
KNOWN = {"record_kind", "key_prefix", "key_prefix_field", "key_prefixes", "summary_field", "team", "start_roles",
         "start_fields", "server_fields", "linked_records", "separation_of_duties", "routing_facts",
         "dashboard_records", "dashboard_first_line", "dashboard_reopened", "dashboard_breakdown",
         "approver_roles", "approval_not_needed", "ci_field", "window_fields", "approved_field", "standard_changes",
         "standard_model_field", *DEFAULT_FIELDS}


@dataclass(frozen=True)
class StartOption:
    """A way to raise a record from the "New record" page: a label, the start form's fields to show (with
    option defaults), values always set, and optionally another process the start goes through (a front
    door such as triage) when that process is deployed."""

    id: str
    process: str
    label: str
    intro: str = ""
    fields: tuple[str, ...] = ()
    fixed: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    via: str | None = None
    via_fixed: dict[str, Any] = field(default_factory=dict)
    order: int = 100


@dataclass(frozen=True)
class Breakdown:
    """A dashboard chart: records of the process started in the period, counted by the value of a field."""

    field: str
    order: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measures:
    records: bool = False  # its records count in the service-desk measures (open work, respond, resolve)
    first_line: str | None = None  # boolean field: resolved at the first line
    reopened: str | None = None  # boolean field: a completion answering false sends the record back
    breakdowns: tuple[Breakdown, ...] = ()


@dataclass(frozen=True)
class Declarations:
    key: str
    name: str
    record_kind: str
    key_prefix: str
    prefix_field: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    requester_field: str | None = "requester"
    reporter_field: str | None = "reporter"
    priority_field: str | None = "priority"
    service_field: str | None = "service"
    summary_fields: tuple[str, ...] = DEFAULT_SUMMARY_FIELDS
    team: str | None = None
    roles: frozenset[str] = frozenset()  # every role the diagram routes work to, and the team
    approvals: frozenset[str] = frozenset()
    start_roles: tuple[str, ...] = ()
    start_fields: tuple[str, ...] = ()  # accepted at a start besides the start form's fields
    server_fields: tuple[str, ...] = ()  # computed by the server: never accepted from a start or a form
    linked_records: tuple[str, ...] = ()  # fields holding another record's business key (link_facts.py)
    separation_of_duties: str | None = None  # the decision table saying who may not approve (policy.py)
    routing_facts: tuple[str, ...] = ()  # fields the routing tables read: whoever sets them may not approve
    start_form: tuple[FormField, ...] = ()
    start_options: tuple[StartOption, ...] = ()
    measures: Measures = Measures()
    approver_roles: dict[str, str] = field(default_factory=dict)
    approval_not_needed: frozenset[str] = frozenset()
    ci_field: str | None = None  # the data field listing the configuration items the record links
    window_fields: tuple[str, str] | None = None  # start and end of the window it runs in: on the change calendar
    approved_field: str = "approved"
    impact_tasks: frozenset[str] = frozenset()  # user tasks that show the impact view (property show_impact)
    standard_changes: str | None = None  # the decision table of pre-approved change models (the catalogue lists them)
    standard_model_field: str = "standard_model"  # the data field (and table input) naming the model

    def prefix_for(self, data: dict[str, Any]) -> str:
        """The business-key prefix of a new record: chosen by a data field when the process says so."""
        if self.prefix_field:
            chosen = self.prefixes.get(str(data.get(self.prefix_field)))
            if chosen:
                return chosen
        return self.key_prefix

    @property
    def party_fields(self) -> tuple[str, ...]:
        """Data fields naming the people a record is for: its requester and its reporter."""
        return tuple(f for f in (self.requester_field, self.reporter_field) if f)

    def summary(self, data: dict[str, Any]) -> str:
        for name in self.summary_fields:
            value = data.get(name)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return ""

    def accepted_start_fields(self) -> frozenset[str] | None:
        """The data fields a direct start may give: the start form's, the declared start fields, the party
        fields and the values its start options set. None when the process declares neither a start form nor
        start fields (it accepts any)."""
        if not self.start_form and not self.start_fields:
            return None
        fixed = {name for o in self.start_options for name in o.fixed}  # what its own start options set
        return frozenset({f.id for f in self.start_form} | set(self.start_fields) | set(self.party_fields) | fixed)

    def refused_start_fields(self, data: dict[str, Any]) -> dict[str, str]:
        """Start data fields this process does not accept, each with the reason."""
        accepted = self.accepted_start_fields()
        refused = {}
        for name in data:
            if name in self.server_fields:
                refused[name] = "is decided by the server from the facts; a start may not give it"
            elif accepted is not None and name not in accepted:
                refused[name] = f"is not a start field of {self.key} (accepted: {', '.join(sorted(accepted))})"
        return refused

    def role_for_approver(self, value: Any) -> str:
        """A decision's `approver` output -> the role that must approve (the value itself when not mapped)."""
        return self.approver_roles.get(str(value), str(value))


def _list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _value(text: str) -> Any:
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return text.strip()


def _pairs(text: str, problems: list[str] | None = None, what: str = "") -> dict[str, Any]:
    """`a=1, b=two` -> {"a": "1", "b": "two"}; `true`/`false` become booleans."""
    found: dict[str, Any] = {}
    for part in _list(text):
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            if problems is not None:
                problems.append(f"{what}: {part!r} is not name=value")
            continue
        found[name.strip()] = _value(value)
    return found


def _field_name(props: dict[str, str], name: str) -> str | None:
    if name not in props:
        return DEFAULT_FIELDS[name]
    return props[name].strip() or None


def _default_prefix(key: str) -> str:
    letters = re.sub(r"[^A-Za-z0-9]", "", key).upper()
    if not letters or not letters[0].isalpha():
        letters = "R" + letters
    return letters[:3]


def _start_events(meta: ProcessMeta) -> list[Any]:
    return [el for el in meta.elements.values() if el.kind == "startEvent"]


def _options(meta: ProcessMeta, problems: list[str]) -> tuple[StartOption, ...]:
    raw: dict[str, dict[str, str]] = {}
    for name, value in meta.properties:
        match = OPTION_PROPERTY.match(name)
        if match:
            raw.setdefault(match.group(1), {})[match.group(2)] = value
    options = []
    for option_id, spec in raw.items():
        what = f"start option {option_id!r}"
        order = spec.get("order", "100").strip()
        if not order.lstrip("-").isdigit():
            problems.append(f"{what}: order {order!r} is not a whole number")
            order = "100"
        options.append(StartOption(
            id=option_id, process=meta.id, label=spec.get("label", "").strip() or option_id.replace("_", " "),
            intro=spec.get("intro", "").strip(), fields=_list(spec.get("fields", "")),
            fixed=_pairs(spec.get("set", ""), problems, f"{what} set"),
            defaults=_pairs(spec.get("defaults", ""), problems, f"{what} defaults"),
            via=spec.get("via", "").strip() or None,
            via_fixed=_pairs(spec.get("via_set", ""), problems, f"{what} via_set"), order=int(order)))
    return tuple(sorted(options, key=lambda o: o.order))


def _measures(props: dict[str, str], repeated: list[tuple[str, str]], problems: list[str]) -> Measures:
    breakdowns = []
    for name, value in repeated:
        if name != "dashboard_breakdown":
            continue
        field_name, _, order = value.partition(":")
        if not field_name.strip():
            problems.append(f"dashboard_breakdown {value!r} names no field (field: value, value, ...)")
            continue
        breakdowns.append(Breakdown(field_name.strip(), _list(order)))
    return Measures(records=props.get("dashboard_records", "").strip().lower() == "true",
                    first_line=props.get("dashboard_first_line", "").strip() or None,
                    reopened=props.get("dashboard_reopened", "").strip() or None, breakdowns=tuple(breakdowns))


def read(meta: ProcessMeta) -> Declarations:
    """The declarations of one process; anything malformed falls back to its default (deploy refuses it
    first: see problems())."""
    return _read(meta, [])


def problems(meta: ProcessMeta, known_roles: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Deploy-time problems with the declarations, each as {"element_id", "message"}."""
    found: list[str] = []
    decl = _read(meta, found)
    for name, value in meta.properties:
        if name.startswith("deviation.") and (not re.match(r"^deviation\.[a-z][a-z0-9_]*$", name) or "=>" not in value):
            found.append(f"process property {name!r} must be deviation.<kind> = <field=value, ...> => <requirement>")
        if name not in KNOWN and not OPTION_PROPERTY.match(name) and name.startswith("start."):
            found.append(f"process property {name!r} is not start.<option>.(label|intro|fields|set|defaults|via"
                         "|via_set|order)")
    for prefix in (decl.key_prefix, *decl.prefixes.values()):
        if not PREFIX_PATTERN.match(prefix):
            found.append(f"key prefix {prefix!r} must be 1 to 10 capital letters or digits, starting with a letter")
    if decl.prefixes and not decl.prefix_field:
        found.append("key_prefixes needs key_prefix_field: the data field whose value picks the prefix")
    form_ids = {f.id for f in decl.start_form}
    for option in decl.start_options:
        unknown = [f for f in option.fields if f not in form_ids]
        if unknown:
            found.append(f"start option {option.id!r} shows {', '.join(unknown)}, which the start form does not have")
    if any(name == "window_fields" for name, _ in meta.properties) and decl.window_fields is None:
        found.append("window_fields must name two data fields: the window's start, then its end")
    if known_roles is not None:
        for role in filter(None, (decl.team, *decl.start_roles, *decl.approver_roles.values())):
            if role not in known_roles:
                found.append(f"role {role!r} is not a role (roles: {', '.join(known_roles)})")
    result = [{"element_id": meta.id, "message": message} for message in found]
    for el in meta.elements.values():
        for fld in el.form:
            if fld.id in decl.server_fields:
                result.append({"element_id": el.id, "message": f"form field {fld.id!r} is a server field "
                               "(server_fields): the server decides it, no form may ask for it"})
    for el in _start_events(meta):
        for fld in el.form:
            result.extend({"element_id": el.id, "message": m} for m in check_definition(fld))
    return result


def _read(meta: ProcessMeta, problems: list[str]) -> Declarations:
    props = {name: value for name, value in meta.properties}
    roles = {r for r in meta.lanes.values() if r}
    for el in meta.elements.values():
        roles.update(el.roles)
    team = props.get("team", "").strip() or None
    if team:
        roles.add(team)
    starts = _start_events(meta)
    start_roles = _list(props.get("start_roles", ""))
    if not start_roles:
        start_roles = next((_list(el.properties["start_roles"]) for el in starts if el.properties.get("start_roles")),
                           ())
    start_fields = _list(props.get("start_fields", ""))
    if not start_fields:
        start_fields = next((_list(el.properties["start_fields"]) for el in starts
                             if el.properties.get("start_fields")), ())
    start_form = next((tuple(el.form) for el in starts if el.form), ())
    summary = _list(props["summary_field"]) if "summary_field" in props else DEFAULT_SUMMARY_FIELDS
    return Declarations(
        key=meta.id, name=meta.name, record_kind=props.get("record_kind", "").strip() or meta.name.lower(),
        key_prefix=props.get("key_prefix", "").strip() or _default_prefix(meta.id),
        prefix_field=props.get("key_prefix_field", "").strip() or None,
        prefixes={k: str(v) for k, v in _pairs(props.get("key_prefixes", ""), problems, "key_prefixes").items()},
        requester_field=_field_name(props, "requester_field"), reporter_field=_field_name(props, "reporter_field"),
        priority_field=_field_name(props, "priority_field"), service_field=_field_name(props, "service_field"),
        summary_fields=summary, team=team, roles=frozenset(roles),
        approvals=frozenset(el.id for el in meta.elements.values() if el.is_human and el.is_approval),
        start_roles=start_roles, start_fields=start_fields,
        server_fields=_list(props.get("server_fields", "")), start_form=start_form,
        linked_records=_list(props.get("linked_records", "")),
        separation_of_duties=props.get("separation_of_duties", "").strip() or None,
        routing_facts=_list(props.get("routing_facts", "")),
        start_options=_options(meta, problems),
        measures=_measures(props, meta.properties, problems),
        approver_roles={k: str(v) for k, v in _pairs(props.get("approver_roles", ""), problems,
                                                     "approver_roles").items()},
        approval_not_needed=frozenset(_list(props.get("approval_not_needed", ""))),
        ci_field=props.get("ci_field", "").strip() or None, window_fields=_window_fields(props),
        approved_field=props.get("approved_field", "").strip() or "approved",
        standard_changes=props.get("standard_changes", "").strip() or None,
        standard_model_field=props.get("standard_model_field", "").strip() or "standard_model",
        impact_tasks=frozenset(el.id for el in meta.elements.values()
                               if el.is_human and el.properties.get("show_impact", "").strip().lower() == "true"))


def _window_fields(props: dict[str, str]) -> tuple[str, str] | None:
    names = _list(props.get("window_fields", ""))
    return (names[0], names[1]) if len(names) == 2 else None
