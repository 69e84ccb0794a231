"""The OpenAPI 3.1 description of /api/v1, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue

from web.api import api
from web.api.openapi_desk import desk_paths

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, tag: str, ok: int = 200, body: dict[str, Any] | None = None,
        errors: tuple[int, ...] = (401, 403, 404)) -> dict[str, Any]:
    responses: dict[str, Any] = {str(ok): {"description": "success"}}
    for status in errors:
        responses[str(status)] = {"description": "error",
                                  "content": {"application/json": {"schema": ERROR}}}
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, "content": body}
    return op


def _json(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"application/json": {"schema": {"type": "object", "properties": props, "required": required or []}}}


OBJ = {"type": "object"}
STR = {"type": "string"}
MULTIPART = {"multipart/form-data": {"schema": {"type": "object", "properties": {
    "bpmn": {"type": "string", "format": "binary"}, "dmn": {"type": "string", "format": "binary"}}}}}

PATHS: dict[str, Any] = {
    "/health": {"get": _op("Service and database health, worker liveness", "system", errors=())},
    "/tokens": {"post": _op("Exchange a password for a bearer token (it expires; 429 when sign-in is locked)",
                            "auth", 201, _json({"username": STR, "password": STR}, ["username", "password"]),
                            (400, 401, 429))},
    "/tokens/current": {"delete": _op("Revoke the bearer token this request carries", "auth", 204,
                                      errors=(400, 401))},
    "/tokens/revoke": {"post": _op("Revoke every token of a user (one's own; anyone's for an admin)", "auth",
                                   200, _json({"username": STR}, []), (400, 401, 403, 404))},
    "/processes": {"get": _op("Latest version of every process", "processes")},
    "/processes/{key}/versions": {
        "get": _op("All versions of a process", "processes"),
        "post": _op("Deploy a new version (validated first; 422 lists problems)", "processes", 201, MULTIPART,
                    (400, 401, 403, 413, 422)),
    },
    "/processes/{key}/versions/{version}/bpmn": {"get": _op("The BPMN XML of a version", "processes")},
    "/instances": {
        "get": _op("Instances, newest first (process, status, q, limit, cursor)", "instances"),
        "post": _op("Start an instance", "instances", 201, _json({"process": STR, "data": OBJ}, ["process"]),
                    (400, 401, 403, 404)),
    },
    "/instances/{id}": {"get": _op("One instance with its open tasks and related instances", "instances")},
    "/instances/{id}/path": {"get": _op("Completed elements, taken flows, active elements (from the trail)",
                                        "instances")},
    "/instances/{id}/audit": {"get": _op("The instance's audit events", "instances")},
    "/instances/{id}/cancel": {"post": _op("Cancel with a reason (managers, admin)", "instances", 200,
                                           _json({"reason": STR}, ["reason"]), (400, 401, 403, 404))},
    "/instances/{id}/retry": {"post": _op("Retry an instance in error (admin)", "instances", 200,
                                          _json({"reason": STR}, ["reason"]), (400, 401, 403, 404))},
    "/tasks": {"get": _op("A page of tasks: scope=todo|available|mine|all; filters process, priority (P1..P4|none), "
                          "sla (overdue|due-soon|on-track|none), due_from, due_to, assignee (a user|none), role, q; "
                          "sort=due|priority|created|record|task (- reverses); limit (max 200), cursor "
                          "(next_cursor of the previous page); total counts every match", "tasks",
                          errors=(400, 401, 403))},
    "/tasks/{id}": {"get": _op("A task with its form and the record's data", "tasks")},
    "/tasks/{id}/claim": {"post": _op("Claim a task", "tasks", errors=(401, 403, 404, 409))},
    "/tasks/{id}/unclaim": {"post": _op("Give a task back", "tasks", errors=(401, 403, 404, 409))},
    "/tasks/{id}/complete": {"post": _op("Complete a task with form data", "tasks", 200, _json({"data": OBJ}),
                                         (400, 401, 403, 409, 422))},
    "/messages": {"post": _op("Send a message to waiting instances or message start events", "messages", 202,
                              _json({"name": STR, "correlation": OBJ, "data": OBJ}, ["name"]),
                              (400, 401, 403, 404))},
    "/audit/verify": {"get": _op("Verify the hash chain", "audit")},
    "/decisions/{key}/versions": {
        "get": _op("All versions of a decision table", "decisions"),
        "post": _op("Deploy a new version of a decision table", "decisions", 201, MULTIPART, (400, 401, 403, 422)),
    },
    "/decisions/{key}/versions/{version}/dmn": {"get": _op("The DMN XML of a version", "decisions")},
}
PATHS.update(desk_paths(_op, _json))
INT = {"type": "integer"}
PATHS.update({
    "/external-tasks": {"get": _op("External tasks waiting for workers (topic, incidents=1)", "external tasks")},
    "/external-tasks/fetch-and-lock": {"post": _op(
        "Fetch and lock up to max_tasks tasks of the topics for lock_duration ms", "external tasks", 200,
        _json({"worker_id": STR, "max_tasks": INT, "topics": {"type": "array"}}, ["worker_id", "topics"]),
        (400, 401, 403))},
    "/external-tasks/{id}/complete": {"post": _op(
        "Complete a locked task with variables", "external tasks", 200,
        _json({"worker_id": STR, "variables": OBJ}, ["worker_id"]), (400, 401, 403, 404, 409))},
    "/external-tasks/{id}/failure": {"post": _op(
        "Report a failure: retries left (0: incident), retry_timeout ms", "external tasks", 200,
        _json({"worker_id": STR, "error_message": STR, "error_details": STR, "retries": INT,
               "retry_timeout": INT}, ["worker_id", "retries"]), (400, 401, 403, 404, 409))},
    "/external-tasks/{id}/bpmn-error": {"post": _op(
        "Throw a BPMN error caught by the task's error boundary event", "external tasks", 200,
        _json({"worker_id": STR, "error_code": STR, "error_message": STR, "variables": OBJ},
              ["worker_id", "error_code"]), (400, 401, 403, 404, 409))},
    "/external-tasks/{id}/retries": {"post": _op(
        "Set the retries left (resolves an incident; admin)", "external tasks", 200, _json({"retries": INT},
                                                                                        ["retries"]),
        (400, 401, 403, 404))},
    "/processes/bundle": {"post": _op(
        "Deploy several .bpmn files (repeated multipart bpmn) with their tables as one bundle, callees first; all "
        "or nothing", "processes", 201, MULTIPART, (400, 401, 403, 413, 422))},
    "/processes/{key}/calls": {"get": _op("Call hierarchy: what the latest version calls, who calls it",
                                          "processes")},
})

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "itsmflow API", "version": "1"},
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
            "code": STR, "message": STR, "details": OBJ}, "required": ["code", "message", "details"]}}}},
    },
    "security": [{"bearer": []}],
    "paths": PATHS,
}


@api.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return jsonify(DOCUMENT)
