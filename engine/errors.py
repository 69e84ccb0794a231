"""Domain errors. They carry no HTTP codes: web/errors.py maps them in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class NotAllowed(DomainError):
    code = "not_allowed"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Conflict(DomainError):
    code = "conflict"


class WriteConflict(Conflict):
    """The database refused a write as clashing with what is stored: a duplicate of a row saved meanwhile (two
    requests creating the same thing at once), or a row another request changed or removed."""


class ValidationFailed(DomainError):
    """Form data that does not satisfy the task's field definitions: details['fields'] maps field -> message."""

    code = "validation_failed"


class DeploymentRefused(DomainError):
    """A bundle that did not pass validation: details['problems'] lists {element_id, message}."""

    code = "deployment_refused"


class BadRequest(DomainError):
    code = "bad_request"


class TooManyAttempts(DomainError):
    code = "too_many_attempts"


class TooLarge(DomainError):
    code = "too_large"
