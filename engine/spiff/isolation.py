"""Diagram code that is not cheap by its shape (engine/spiff/bounded.py) runs here: in a script process of a
small pool, under a wall-clock timeout (ITSMFLOW_SCRIPT_TIMEOUT_MS). A call past the timeout is stopped by
killing that process, which ends any C loop; the next call gets a fresh one. The script process also runs under
RLIMIT_CPU (a backstop should this process die first) and the memory limit.

Works from any thread of any process (web request threads included): no signals, only a pipe and a poll.
Data goes as pickles both ways; what comes back is unpickled with a closed list of classes, so a script process
cannot hand this one anything but plain data and dates.
"""

from __future__ import annotations

import atexit
import builtins
import io
import os
import pickle
import re
import select
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from engine.spiff import limits

ROOT = Path(__file__).resolve().parents[2]
READY = b"R"
_LENGTH = struct.Struct("!Q")
POOL_SIZE = 4  # idle script processes kept per process; more are started when threads need them at once
# What diagram code never needs, kept out of its process's environment should it ever get past the sandbox.
_SECRET = re.compile(r"SECRET|PASSWORD|TOKEN|KEY|DATABASE_URL|SMTP|^PG", re.IGNORECASE)
START_SECONDS = 60.0  # starting a script process imports the sandbox: slow on a loaded machine, paid once


class ScriptTimeout(Exception):
    """The script ran past the wall-clock limit and its process was killed."""


class ScriptProcessFailed(Exception):
    """The script process ended or answered nonsense; the reason is in the message."""


class RemoteError(Exception):
    """An exception raised by the script in the script process: its type name and arguments."""

    def __init__(self, type_name: str, args: tuple[Any, ...], rejected: bool) -> None:
        super().__init__(*args)
        self.type_name = type_name
        self.rejected = rejected  # the sandbox's own refusal (ScriptRejected, LimitExceeded)

    def as_builtin(self) -> Exception | None:
        """The same builtin exception (NameError, ZeroDivisionError...), so the engine reports it as usual."""
        kind = getattr(builtins, self.type_name, None)
        if isinstance(kind, type) and issubclass(kind, Exception):
            try:
                return kind(*self.args)
            except TypeError:
                return None
        return None


_ALLOWED_CLASSES = {("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"),
                    ("datetime", "timedelta"), ("datetime", "timezone"), ("zoneinfo", "ZoneInfo._unpickle")}


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_CLASSES:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} may not come back from a script")


def send(stream: Any, payload: Any) -> None:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def receive(stream: Any, plain: bool) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    size = _LENGTH.unpack(head)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return _PlainUnpickler(io.BytesIO(data)).load() if plain else pickle.loads(data)  # our parent


class _ScriptProcess:
    def __init__(self) -> None:
        env = {name: value for name, value in os.environ.items() if not _SECRET.search(name)}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.spiff.script_process"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=env, cwd=ROOT)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin, self.stdout = self.proc.stdin, self.proc.stdout
        if not self._readable(START_SECONDS) or self.stdout.read(1) != READY:
            self.kill()
            raise ScriptProcessFailed("the script process did not start")

    def _readable(self, seconds: float) -> bool:
        poller = select.poll()
        poller.register(self.stdout, select.POLLIN | select.POLLHUP | select.POLLERR)
        return bool(poller.poll(max(0, int(seconds * 1000))))

    def call(self, request: tuple[Any, ...], seconds: float) -> Any:
        try:
            send(self.stdin, (*request, seconds))
        except (BrokenPipeError, pickle.PicklingError, TypeError, AttributeError) as exc:
            self.kill()
            raise ScriptProcessFailed(f"the script's data cannot be handed to the script process: {exc}") from None
        if not self._readable(seconds):
            self.kill()
            raise ScriptTimeout
        try:
            answer = receive(self.stdout, plain=True)
        except (EOFError, pickle.UnpicklingError, ValueError) as exc:
            self.kill()
            ended = self.proc.returncode
            why = f"ended (exit status {ended})" if ended is not None else f"answered what cannot be read ({exc})"
            raise ScriptProcessFailed(f"the script process {why}") from None
        if answer[0] == "error":
            raise RemoteError(answer[1], tuple(answer[2]), answer[3])
        return answer[1]

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.stdin.close()
        self.stdout.close()


class _Pool:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_ScriptProcess] = []
        self.owner = os.getpid()

    def take(self) -> _ScriptProcess:
        with self.lock:
            if self.owner != os.getpid():  # forked: those pipes are the parent's
                self.idle, self.owner = [], os.getpid()
            if self.idle:
                return self.idle.pop()
        return _ScriptProcess()

    def give_back(self, process: _ScriptProcess) -> None:
        with self.lock:
            if self.owner == os.getpid() and len(self.idle) < POOL_SIZE:
                self.idle.append(process)
                return
        process.kill()

    def close(self) -> None:
        with self.lock:
            idle, self.idle = self.idle, []
        for process in idle:
            if self.owner == os.getpid():
                process.kill()


_pool = _Pool()
atexit.register(_pool.close)


def timeout_seconds() -> float:
    return limits.SCRIPT_TIMEOUT_MS / 1000


def run(request: tuple[Any, ...]) -> Any:
    """Runs one request (see engine/spiff/script_process.py) in a script process; its answer, or RemoteError,
    ScriptTimeout, ScriptProcessFailed."""
    process = _pool.take()
    try:
        answer = process.call(request, timeout_seconds())  # on a timeout or a failure the process is killed
    except RemoteError:
        _pool.give_back(process)  # the script failed, its process is fine
        raise
    except BaseException:
        process.kill()
        raise
    _pool.give_back(process)
    return answer


def reset() -> None:
    """Ends the idle script processes: the next call starts one that reads the settings afresh."""
    _pool.close()


def warm() -> None:
    """Starts one script process ahead of need (a worker at start-up), so the first script does not wait."""
    _pool.give_back(_pool.take())
