"""The conversation on a record: comments (public, or internal work notes) and attachments.

Who may see a record, and who may read and write internal notes, is the policy module's (record_access.find,
policy.may_read_internal). Attachments are stored in the
database, addressed by SHA-256 (see docs/ui.md: the same file twice is kept once, a rollback leaves no stray
file, and every web and worker process on one PostgreSQL sees the same files). Every comment and attachment is an
audit event; an attachment's event carries its checksum, not its bytes."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import select

from engine import clock
from engine.db.database import Database, UnitOfWork, unit_of_work
from engine.db.models import ProcessInstance
from engine.db.models_desk import AttachmentBlob, RecordAttachment, RecordComment
from engine.db.rows import InstanceRow
from engine.errors import BadRequest, NotAllowed, NotFound, TooLarge
from engine.services import audit, desk_config, policy, record_access
from engine.services.actors import Actor
from engine.services.audit import NewEvent

VISIBILITIES = ("public", "internal")
MAX_COMMENT_CHARS = 20_000
_UNSAFE_NAME = re.compile(r"[^\w.\- ()]+")


def may_use_internal(actor: Actor) -> bool:
    return policy.may_read_internal(actor)


def _visibility(actor: Actor, requested: Any) -> str:
    value = str(requested or "public").strip().lower()
    if value not in VISIBILITIES:
        raise BadRequest("visibility must be public or internal", fields={"visibility": "must be public or internal"})
    if value == "internal" and not may_use_internal(actor):
        raise NotAllowed("only staff write internal notes")
    return value


def comment_view(c: RecordComment) -> dict[str, Any]:
    return {"id": c.id, "author": c.author, "body": c.body, "visibility": c.visibility, "source": c.source,
            "created_at": c.created_at.isoformat()}


def attachment_view(a: RecordAttachment) -> dict[str, Any]:
    return {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
            "visibility": a.visibility, "uploaded_by": a.uploaded_by, "comment_id": a.comment_id,
            "created_at": a.created_at.isoformat()}


def add_comment_in(uow: UnitOfWork, actor: Actor, inst: ProcessInstance, body: Any, visibility: Any = "public",
                   source: str = "web") -> RecordComment:
    """Inside the caller's transaction (mail in adds a comment and its attachments at once)."""
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise BadRequest("a comment needs some text", fields={"body": "is required"})
    if len(text) > MAX_COMMENT_CHARS:
        raise BadRequest(f"a comment is at most {MAX_COMMENT_CHARS} characters",
                         fields={"body": f"is longer than {MAX_COMMENT_CHARS} characters"})
    seen = _visibility(actor, visibility)
    row = RecordComment(instance_id=inst.id, author=actor.username, body=text, visibility=seen, source=source,
                        created_at=clock.now())
    uow.session.add(row)
    uow.session.flush()
    audit.append(uow, [NewEvent("comment.added", actor.username, inst.id, data={
        "comment_id": row.id, "visibility": seen, "body": text, "source": source})])
    from engine.services import notify

    notify.comment_added(uow, actor, inst, row)
    return row


def add_comment(db: Database, actor: Actor, ref: str | int, body: Any, visibility: Any = "public",
                source: str = "web") -> dict[str, Any]:
    with unit_of_work(db) as uow:
        inst = record_access.find(uow, actor, ref)
        row = add_comment_in(uow, actor, inst, body, visibility, source)
        uow.commit()
        return comment_view(row)


def safe_filename(name: Any) -> str:
    base = str(name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).strip(" .")
    return cleaned[:200]


def check_file(filename: Any, size: int) -> tuple[str, str]:
    """The cleaned file name and the content type we serve it as; refuses what the configuration does not allow."""
    limits = desk_config.attachment_limits()
    name = safe_filename(filename)
    if not name:
        raise BadRequest("the file needs a name", fields={"file": "has no name"})
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in limits.types:
        allowed = ", ".join(sorted(limits.types))
        raise BadRequest(f"files of type .{ext or '(none)'} are not accepted; allowed: {allowed}",
                         fields={"file": f"must be one of {allowed}"})
    if size == 0:
        raise BadRequest("the file is empty", fields={"file": "is empty"})
    if size > limits.max_bytes:
        raise TooLarge(f"the file is larger than {limits.max_bytes} bytes", fields={"file": "is too large"},
                       max_bytes=limits.max_bytes)
    return name, limits.types[ext]


def add_attachment_in(uow: UnitOfWork, actor: Actor, inst: InstanceRow, filename: Any, content: bytes,
                      visibility: Any = "public", comment_id: int | None = None) -> RecordAttachment:
    name, content_type = check_file(filename, len(content))
    seen = _visibility(actor, visibility)
    digest = hashlib.sha256(content).hexdigest()
    if uow.session.get(AttachmentBlob, digest) is None:
        uow.session.add(AttachmentBlob(sha256=digest, size=len(content), content=content))
    row = RecordAttachment(instance_id=inst.id, comment_id=comment_id, filename=name, content_type=content_type,
                           size=len(content), sha256=digest, visibility=seen, uploaded_by=actor.username,
                           created_at=clock.now())
    uow.session.add(row)
    uow.session.flush()
    audit.append(uow, [NewEvent("attachment.added", actor.username, inst.id, data={
        "attachment_id": row.id, "filename": name, "content_type": content_type, "size": len(content),
        "sha256": digest, "visibility": seen, **({"comment_id": comment_id} if comment_id else {})})])
    return row


def add_attachment(db: Database, actor: Actor, ref: str | int, filename: Any, content: bytes,
                   visibility: Any = "public") -> dict[str, Any]:
    with unit_of_work(db) as uow:
        inst = record_access.find(uow, actor, ref)
        row = add_attachment_in(uow, actor, inst, filename, content, visibility)
        uow.commit()
        return attachment_view(row)


def post(db: Database, actor: Actor, ref: str | int, body: Any, visibility: Any,
         files: list[tuple[str, bytes]]) -> dict[str, Any]:
    """A comment with files (the record page's form): all or nothing, in one transaction."""
    with unit_of_work(db) as uow:
        inst = record_access.find(uow, actor, ref)
        comment = None
        if (isinstance(body, str) and body.strip()) or not files:
            comment = add_comment_in(uow, actor, inst, body, visibility)
        added = [add_attachment_in(uow, actor, inst, name, content, visibility, comment.id if comment else None)
                 for name, content in files]
        uow.commit()
        return {"comment": comment_view(comment) if comment else None,
                "attachments": [attachment_view(a) for a in added]}


def _visible_to(actor: Actor) -> tuple[str, ...]:
    return VISIBILITIES if may_use_internal(actor) else ("public",)


def comments(uow: UnitOfWork, actor: Actor, inst: ProcessInstance) -> list[dict[str, Any]]:
    stmt = (select(RecordComment).where(RecordComment.instance_id == inst.id,
                                        RecordComment.visibility.in_(_visible_to(actor)))
            .order_by(RecordComment.id))
    return [comment_view(c) for c in uow.session.execute(stmt).scalars()]


def attachments(uow: UnitOfWork, actor: Actor, inst: ProcessInstance) -> list[dict[str, Any]]:
    stmt = (select(RecordAttachment).where(RecordAttachment.instance_id == inst.id,
                                           RecordAttachment.visibility.in_(_visible_to(actor)))
            .order_by(RecordAttachment.id))
    return [attachment_view(a) for a in uow.session.execute(stmt).scalars()]


def conversation(uow: UnitOfWork, actor: Actor, inst: ProcessInstance) -> list[dict[str, Any]]:
    """Comments with their files, and files attached on their own, oldest first."""
    files = attachments(uow, actor, inst)
    by_comment: dict[int, list[dict[str, Any]]] = {}
    entries: list[dict[str, Any]] = []
    for f in files:
        if f["comment_id"]:
            by_comment.setdefault(f["comment_id"], []).append(f)
        else:
            entries.append({"kind": "attachment", "at": f["created_at"], "author": f["uploaded_by"],
                            "visibility": f["visibility"], "files": [f], "body": ""})
    for c in comments(uow, actor, inst):
        entries.append({"kind": "comment", "at": c["created_at"], "author": c["author"], "id": c["id"],
                        "visibility": c["visibility"], "body": c["body"], "source": c["source"],
                        "files": by_comment.get(c["id"], [])})
    return sorted(entries, key=lambda e: e["at"])


def download(uow: UnitOfWork, actor: Actor, ref: str | int, attachment_id: int) -> tuple[dict[str, Any], bytes]:
    """The file, for those who may see its record (and, for an internal one, read internal notes)."""
    inst = record_access.find(uow, actor, ref)
    row = uow.session.get(RecordAttachment, attachment_id)
    if row is None or row.instance_id != inst.id or row.visibility not in _visible_to(actor):
        raise NotFound(f"no attachment {attachment_id} on {inst.business_key}")
    blob = uow.session.get(AttachmentBlob, row.sha256)
    assert blob is not None
    return attachment_view(row), blob.content


def internal_event(ev_type: str, data: dict[str, Any]) -> bool:
    """Trail events a requester must not see on their public timeline."""
    return ev_type in ("comment.added", "attachment.added") and data.get("visibility") == "internal"
