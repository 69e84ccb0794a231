"""External task client and worker loop, standard library only (urllib), so a worker runs anywhere Python does.

    client = ExternalTaskClient("http://127.0.0.1:5000", username="worker", password="...", worker_id="w1")
    worker = Worker(client)
    worker.subscribe("charge-card", charge)   # charge(task) -> variables; raise BpmnError("CARD_DECLINED")
    worker.run()                              # fetch, lock, handle, complete or report; until stopped
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("itsmflow.worker")


class ApiError(Exception):
    """The server refused a request: `status` and the server's `code` and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class BpmnError(Exception):
    """Raised by a handler for a business error the diagram handles (an error boundary event with this code)."""

    def __init__(self, code: str, message: str = "", variables: dict[str, Any] | None = None) -> None:
        super().__init__(message or code)
        self.code, self.message, self.variables = code, message, variables or {}


@dataclass
class ExternalTask:
    id: str
    topic: str
    business_key: str
    element_id: str
    variables: dict[str, Any]
    retries: int | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, dct: dict[str, Any]) -> ExternalTask:
        return cls(dct["id"], dct["topic"], dct["business_key"], dct["element_id"], dct.get("variables") or {},
                   dct.get("retries"), dct)


class ExternalTaskClient:
    """The REST calls of the external task API, authenticated with a bearer token."""

    def __init__(self, base_url: str, *, token: str | None = None, username: str | None = None,
                 password: str | None = None, worker_id: str | None = None, timeout: float = 30.0) -> None:
        self.base = base_url.rstrip("/") + "/api/v1"
        self.timeout = timeout
        self.worker_id = worker_id or f"{socket.gethostname()}-{threading.get_ident()}"
        self.token = token
        if token is None:
            if not (username and password):
                raise ValueError("give a token, or a username and password")
            self.token = self._call("POST", "/tokens", {"username": username, "password": password},
                                    auth=False)["token"]

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:  # the configured server
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                err = json.loads(exc.read())["error"]
            except (ValueError, KeyError, TypeError):
                err = {"code": "http_error", "message": exc.reason}
            raise ApiError(exc.code, err.get("code", ""), err.get("message", "")) from None

    def fetch_and_lock(self, topics: dict[str, int], max_tasks: int = 10) -> list[ExternalTask]:
        """topics: topic name -> lock duration in milliseconds."""
        body = {"worker_id": self.worker_id, "max_tasks": max_tasks,
                "topics": [{"topic_name": t, "lock_duration": ms} for t, ms in topics.items()]}
        return [ExternalTask.from_json(t) for t in self._call("POST", "/external-tasks/fetch-and-lock", body)["tasks"]]

    def complete(self, task: ExternalTask, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", f"/external-tasks/{task.id}/complete",
                          {"worker_id": self.worker_id, "variables": variables or {}})

    def failure(self, task: ExternalTask, error_message: str, retries: int, retry_timeout_ms: int = 0,
                error_details: str | None = None) -> dict[str, Any]:
        return self._call("POST", f"/external-tasks/{task.id}/failure",
                          {"worker_id": self.worker_id, "error_message": error_message, "retries": retries,
                           "retry_timeout": retry_timeout_ms, "error_details": error_details})

    def bpmn_error(self, task: ExternalTask, error_code: str, error_message: str = "",
                   variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("POST", f"/external-tasks/{task.id}/bpmn-error",
                          {"worker_id": self.worker_id, "error_code": error_code, "error_message": error_message,
                           "variables": variables or {}})


Handler = Callable[[ExternalTask], "dict[str, Any] | None"]


class Worker:
    """Fetches the subscribed topics, runs each task's handler and reports the outcome: the handler's
    variables complete it, BpmnError throws a BPMN error, any other exception is a failure with one retry fewer
    (first failure: `retries`) and an exponential back-off."""

    def __init__(self, client: ExternalTaskClient, *, lock_duration_ms: int = 60_000, max_tasks: int = 10,
                 retries: int = 3, backoff_ms: int = 1_000) -> None:
        self.client = client
        self.lock_duration_ms, self.max_tasks = lock_duration_ms, max_tasks
        self.retries, self.backoff_ms = retries, backoff_ms
        self.handlers: dict[str, Handler] = {}

    def subscribe(self, topic: str, handler: Handler) -> None:
        self.handlers[topic] = handler

    def run_once(self) -> int:
        """One fetch and the handling of what it got; returns how many tasks it handled."""
        tasks = self.client.fetch_and_lock({t: self.lock_duration_ms for t in self.handlers}, self.max_tasks)
        for task in tasks:
            self._handle(task)
        return len(tasks)

    def _handle(self, task: ExternalTask) -> None:
        try:
            variables = self.handlers[task.topic](task) or {}
        except BpmnError as err:
            self.client.bpmn_error(task, err.code, err.message, err.variables)
            return
        except Exception as exc:  # noqa: BLE001 - any handler failure is reported, never kills the worker
            left = (self.retries if task.retries is None else task.retries) - 1
            attempt = self.retries - left
            log.warning("task %s (%s) failed: %s; %d retries left", task.id, task.topic, exc, max(left, 0))
            self.client.failure(task, str(exc)[:2000], max(left, 0), self.backoff_ms * 2 ** max(attempt - 1, 0))
            return
        self.client.complete(task, variables)

    def run(self, poll_interval: float = 2.0, stop: threading.Event | None = None) -> None:
        """Until `stop` is set: fetch; when nothing came, wait poll_interval seconds."""
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                handled = self.run_once()
            except (ApiError, OSError) as exc:
                log.warning("fetch failed: %s", exc)
                handled = 0
            if not handled:
                stop.wait(poll_interval)
