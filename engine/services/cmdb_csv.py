"""CSV import and export of configuration items (the stdlib csv module: one row per CI, lists of ids in one
cell separated by ';').

An import is all or nothing: every row is checked, and one bad row refuses the file with a 422 naming the row
and the column. Rows whose id exists update that CI (only with the columns the file has); others add one. CIs
are written before their relations, so a row may name a CI further down the file. Each CI added or changed
is its own audit event (via "csv"), so a CI's history reads the same however it was edited."""

from __future__ import annotations

import csv
import io
from typing import Any

from engine.db.cmdb import ConfigItem
from engine.db.database import Database, unit_of_work
from engine.errors import DomainError, TooLarge, ValidationFailed
from engine.services import cmdb
from engine.services.actors import Actor

COLUMNS = ("id", "name", "type", "description", "owner_user", "owner_role", "services", "depends_on", "runs_on",
           "active")
LIST_COLUMNS = ("services", "depends_on", "runs_on")
MAX_BYTES, MAX_ROWS = 2_000_000, 5000


def export(db: Database) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    with unit_of_work(db, readonly=True) as uow:
        for item in cmdb.list_items(uow, include_retired=True):
            writer.writerow([";".join(item[c]) if c in LIST_COLUMNS else
                             ("true" if item[c] else "false") if c == "active" else item[c] or ""
                             for c in COLUMNS])
    return out.getvalue()


def _rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    unknown = [h for h in header if h not in COLUMNS]
    if "id" not in header or unknown:
        raise ValidationFailed("the first line must name the columns: id and any of " + ", ".join(COLUMNS[1:]),
                               fields={"file": f"unknown column(s): {', '.join(unknown)}" if unknown
                                       else "has no id column"})
    rows = []
    for n, raw in enumerate(reader, start=2):
        if n - 1 > MAX_ROWS:
            raise TooLarge(f"at most {MAX_ROWS} rows per file")
        if None in raw:
            raise ValidationFailed(f"line {n} has more cells than the header", fields={f"line {n}": "too many cells"})
        rows.append({k: (v or "").strip() for k, v in raw.items()})
    return rows


def _body(row: dict[str, str], existing: bool, with_relations: bool) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, value in row.items():
        if key == "id" and existing:
            continue
        if key in LIST_COLUMNS:
            if key == "services" or with_relations:
                body[key] = [x.strip() for x in value.split(";") if x.strip()]
        elif key == "active":
            if value:
                body[key] = value
        elif value or not existing:
            body[key] = value or None
    return body


def import_csv(db: Database, actor: Actor, data: bytes) -> dict[str, list[str]]:
    if len(data) > MAX_BYTES:
        raise TooLarge(f"the file is larger than {MAX_BYTES // 1_000_000} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed("the file is not UTF-8 text", fields={"file": "must be UTF-8 CSV"}) from None
    rows = _rows(text)
    seen: set[str] = set()
    result: dict[str, list[str]] = {"created": [], "updated": [], "unchanged": []}
    with unit_of_work(db) as uow:
        for pass_no in (1, 2):  # relations second, so rows may name CIs later in the file
            for n, row in enumerate(rows, start=2):
                ci_id = row.get("id", "")
                if pass_no == 1 and ci_id in seen:
                    raise ValidationFailed(f"line {n}: {ci_id} is listed twice", fields={f"line {n} id": "twice"})
                seen.add(ci_id)
                try:
                    exists = uow.session.get(ConfigItem, ci_id) is not None
                    if pass_no == 1 and not exists:
                        cmdb.create_in(uow, actor, _body(row, False, False), via="csv")
                        result["created"].append(ci_id)
                        continue
                    before = cmdb.view(uow, cmdb.row(uow, ci_id))
                    after = cmdb.update_in(uow, actor, ci_id, _body(row, True, pass_no == 2), via="csv")
                    if after != before and ci_id not in result["created"] + result["updated"]:
                        result["updated"].append(ci_id)
                except DomainError as exc:
                    fields = exc.details.get("fields") or {}
                    raise type(exc)(f"line {n} ({ci_id or 'no id'}): {exc}",
                                    fields={f"line {n} {k}": v for k, v in fields.items()} or
                                    {f"line {n}": str(exc)}) from None
        done = set(result["created"]) | set(result["updated"])
        result["unchanged"] = sorted(seen - done)
        uow.commit()
    return result
