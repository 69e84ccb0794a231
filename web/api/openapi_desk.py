"""The OpenAPI entries of the service desk's endpoints (comments, attachments, notifications), merged into
web/api/openapi.py's document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OBJ = {"type": "object"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
INTS = {"type": "array", "items": {"type": "integer"}}
UPLOAD = {"multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
    "file": {"type": "string", "format": "binary"}, "visibility": {"type": "string", "enum": ["public", "internal"]}}}}}


def desk_paths(op: Callable[..., dict[str, Any]], body: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return {
        "/instances/{id}/comments": {
            "get": op("Comments on a record (internal notes only for staff)", "conversation"),
            "post": op("Add a comment: body, visibility public|internal (internal: staff only)", "conversation", 201,
                       body({"body": STR, "visibility": {"type": "string", "enum": ["public", "internal"]}},
                            ["body"]), (400, 401, 403, 404)),
        },
        "/instances/{id}/attachments": {
            "get": op("Files attached to a record, with size, type and SHA-256", "conversation"),
            "post": op("Attach a file (multipart `file`; size and type limits from the configuration)",
                       "conversation", 201, UPLOAD, (400, 401, 403, 404, 413)),
        },
        "/instances/{id}/attachments/{attachment_id}": {
            "get": op("Download a file (for those who may see the record); X-Content-SHA256 carries its checksum",
                      "conversation"),
        },
        "/tasks/claim": {"post": op("Claim several tasks: {ids}; each one's outcome", "tasks", 200,
                                    body({"ids": {"type": "array", "items": STR}}, ["ids"]), (400, 401))},
        "/tasks/assign": {"post": op("Assign several tasks to a person: {ids, assignee} (admin, service desk)",
                                     "tasks", 200, body({"ids": {"type": "array", "items": STR}, "assignee": STR},
                                                        ["ids", "assignee"]), (400, 401, 403))},
        "/tasks/{id}/assign": {"post": op("Assign or reassign a task to a named person (audited)", "tasks", 200,
                                          body({"assignee": STR}, ["assignee"]), (400, 401, 403, 404))},
        "/tasks/{id}/assignees": {"get": op("Who the task can be given to", "tasks")},
        "/notifications": {"get": op("Your notifications, newest first (unread=1, limit, cursor)", "notifications")},
        "/notifications/read": {"post": op("Mark notifications read (ids; all when omitted)", "notifications", 200,
                                           body({"ids": INTS}), (400, 401))},
        "/notifications/preferences": {
            "get": op("Your choices per kind: in_app, email", "notifications"),
            "put": op("Change your choices: {preferences: {kind: {in_app, email}}}", "notifications", 200,
                      body({"preferences": OBJ}, ["preferences"]), (400, 401)),
        },
        "/inbound-mail": {"get": op("Mail held for the service desk's decision (service desk, admin)", "mail")},
        "/inbound-mail/{mail_id}/decision": {
            "post": op("Decide on held mail: raise | comment (with business_key) | reject", "mail", 200,
                       body({"decision": STR, "business_key": STR}, ["decision"]), (400, 401, 403, 404)),
        },
        "/notification-templates": {"get": op("The wording of each kind (admin)", "notifications")},
        "/notification-templates/{kind}": {
            "put": op("Change a kind's subject and body; both empty restores the default (admin)", "notifications",
                      200, body({"subject": STR, "body": STR}), (400, 401, 403)),
        },
    }
