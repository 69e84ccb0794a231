"""The kinds of notification and their shipped wording. An organisation overrides the wording per kind
(notification_template); placeholders are $name in Python's string.Template syntax, unknown ones stay as typed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str
    title: str  # what the preferences page calls it
    subject: str
    body: str
    placeholders: tuple[str, ...]


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("task_assigned", "A task is assigned to you",
         "$task on $business_key is yours",
         "Hello $name,\n\n$actor assigned \"$task\" on $business_key ($summary) to you.\n\nOpen it: $link\n",
         ("name", "actor", "task", "business_key", "summary", "link")),
    Kind("role_digest", "New work for your roles (digest)",
         "$count new task(s) for your roles",
         "Hello $name,\n\n$count new task(s) arrived for your roles since the last digest:\n\n$list\n\n"
         "Your inbox: $link\n",
         ("name", "count", "list", "link")),
    Kind("approval_requested", "An approval is requested",
         "Approval requested: $task on $business_key",
         "Hello $name,\n\n\"$task\" on $business_key ($summary) waits for an approval by your role.\n\n"
         "Open it: $link\n",
         ("name", "task", "business_key", "summary", "link")),
    Kind("record_resolved", "Your record is resolved: please confirm",
         "$business_key is resolved: please confirm",
         "Hello $name,\n\n$business_key ($summary) is resolved. Please confirm that it works for you, or tell us "
         "it does not and we will reopen it.\n\nConfirm or reopen: $link\n\nYou can also reply to this mail; your "
         "reply is added to the record.\n",
         ("name", "business_key", "summary", "link")),
    Kind("sla_warning", "A target is about to be missed",
         "Due $due: $task on $business_key",
         "Hello $name,\n\n\"$task\" on $business_key ($summary) is due $due.\n\nOpen it: $link\n",
         ("name", "task", "business_key", "summary", "due", "link")),
    Kind("sla_breached", "A target was missed",
         "Target missed: $task on $business_key",
         "Hello $name,\n\nThe target of \"$task\" on $business_key ($summary) passed at $due.\n\nOpen it: $link\n",
         ("name", "task", "business_key", "summary", "due", "link")),
    Kind("sla_escalated", "A service-level target escalated to your role",
         "Escalation level $level: $business_key ($clock target)",
         "Hello $name,\n\n$business_key ($summary) reached escalation level $level of its $clock target "
         "(due $due). It is escalated to your role ($role).\n\nThe record: $link\n",
         ("name", "level", "clock", "business_key", "summary", "due", "role", "link")),
    Kind("stakeholder_update", "Updates on a major incident",
         "Update $number on major incident $business_key",
         "Hello $name,\n\nMajor incident $business_key ($summary, $priority) is not restored yet. The major-incident "
         "manager is $manager.\n\nLatest: $latest\n\nYou will hear again until the service is restored. The record: "
         "$link\n",
         ("name", "business_key", "summary", "priority", "manager", "number", "latest", "link")),
    Kind("comment_added", "A comment on your record",
         "New comment on $business_key",
         "Hello $name,\n\n$author wrote on $business_key ($summary):\n\n$comment\n\nThe record: $link\n\n"
         "Reply to this mail to answer; your reply is added to the record.\n",
         ("name", "author", "business_key", "summary", "comment", "link")),
)}
