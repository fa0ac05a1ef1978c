"""The judge's side of the sandbox: start a worker, call functions, clean up.

A `Sandbox` owns one worker process at a time. Every call has a wall-time
limit; a call that times out, crashes the worker or garbles the channel is a
failed `CallOutcome` and the next call starts a fresh worker. Student output
goes to a separate pipe drained by a thread that keeps only its head and tail.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import protocol
from .limits import Limits
from .reaper import kill_marked_processes

WORKER = Path(__file__).with_name("worker.py")
TOKEN_VARIABLE = "GRADECHECK_SANDBOX_TOKEN"


@dataclass(frozen=True)
class Opaque:
    """A returned value that is not an array, tuple or plain number."""

    type: str
    repr: str


@dataclass
class CallOutcome:
    """What one call into student code produced. `kind` is ok, exception,
    timeout, crash, missing, import or protocol."""

    kind: str
    value: Any = None
    mutated: list[int] = field(default_factory=list)
    message: str = ""
    where: str = ""

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


class ReturnedArray(np.ndarray):
    """A numpy array decoded from the worker, remembering which library made it
    (`lib` is "torch" or "numpy")."""

    lib: str = "numpy"

    def __array_finalize__(self, obj: Any) -> None:
        self.lib = getattr(obj, "lib", "numpy")


def decode_value(obj: Any) -> Any:
    """Turn a wire value from the worker into numpy arrays, tuples and scalars."""
    if isinstance(obj, dict):
        tag = obj.get("t")
        if tag == "array":
            array = protocol.decode_array(obj).view(ReturnedArray)
            array.lib = "torch" if obj.get("lib") == "torch" else "numpy"
            return array
        if tag in ("tuple", "list"):
            items = obj.get("items")
            if not isinstance(items, list):
                raise protocol.ProtocolError("sequence without items")
            decoded = [decode_value(item) for item in items]
            return tuple(decoded) if tag == "tuple" else decoded
        if tag == "opaque":
            return Opaque(str(obj.get("type", "?"))[:100], str(obj.get("repr", ""))[:300])
        raise protocol.ProtocolError(f"unknown tag {tag!r}")
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise protocol.ProtocolError(f"unexpected value of type {type(obj).__name__}")


def encode_argument(value: Any, library: str) -> Any:
    """Describe a judge-side argument (numpy array, int, float, tuple) for the wire."""
    if isinstance(value, np.ndarray):
        return protocol.encode_array(value, library)
    if isinstance(value, tuple):
        return {"t": "tuple", "items": [encode_argument(v, library) for v in value]}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    raise TypeError(f"cannot send {type(value).__name__} to the worker")


class OutputCollector(threading.Thread):
    """Drains the worker's stdout/stderr pipe, keeping only head and tail."""

    def __init__(self, fd: int, keep_bytes: int):
        super().__init__(daemon=True)
        self.fd = fd
        self.keep = keep_bytes
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            self.total += len(chunk)
            room = self.keep - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            if chunk:
                self.tail += chunk
                del self.tail[: max(0, len(self.tail) - self.keep)]
        os.close(self.fd)

    def text(self) -> str:
        """The kept output, with a marker where the middle was dropped."""
        head = self.head.decode("utf-8", "replace")
        tail = self.tail.decode("utf-8", "replace")
        dropped = self.total - len(self.head) - len(self.tail)
        if dropped > 0:
            return f"{head}\n... [{dropped} bytes of output dropped] ...\n{tail}"
        return head + tail


class Sandbox:
    """Runs one student file in worker processes and calls its functions."""

    def __init__(self, student_file: Path, *, module: str, library: str, limits: Limits):
        self.student_file = Path(student_file).resolve()
        self.module = module
        self.library = library
        self.limits = limits
        self.token = uuid.uuid4().hex
        self.scratch = Path(tempfile.mkdtemp(prefix="gradecheck-"))
        self.process: subprocess.Popen | None = None
        self.collectors: list[OutputCollector] = []
        self.import_error: CallOutcome | None = None
        self.functions: dict[str, dict] = {}
        self.restarts = -1
        self.time_used = 0.0
        self._next_id = 0
        self._request_fd = self._response_fd = -1

    # -- lifecycle ----------------------------------------------------------
    def start(self) -> None:
        """Spawn a worker (non-blocking); `ensure_ready` waits for its import."""
        self.restarts += 1
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        output_r, output_w = os.pipe()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.scratch),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            TOKEN_VARIABLE: self.token,
        }
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
            if name in os.environ:
                env[name] = os.environ[name]
        command = [
            sys.executable, "-I", str(WORKER),
            "--request-fd", str(request_r), "--response-fd", str(response_w),
            "--library", self.library, "--module", self.module, "--file", str(self.student_file),
        ]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output_w, stderr=output_w,
            pass_fds=(request_r, response_w), cwd=self.scratch, env=env,
            start_new_session=True, preexec_fn=self.limits.apply_in_child,
        )
        for fd in (request_r, response_w, output_w):
            os.close(fd)
        self._request_fd, self._response_fd = request_w, response_r
        collector = OutputCollector(output_r, self.limits.output_kb * 1024)
        collector.start()
        self.collectors.append(collector)
        self._ready = False

    def ensure_ready(self) -> CallOutcome | None:
        """Wait for the worker's import report; return an outcome if it failed."""
        if self.import_error is not None:
            return self.import_error
        if self.process is None:
            if self.restarts >= self.limits.max_restarts:
                return CallOutcome("crash", message="the worker was restarted too many times; giving up")
            self.start()
        if self._ready:
            return None
        hello = self._receive(self.limits.import_seconds, "importing your module")
        if isinstance(hello, CallOutcome):
            self.import_error = CallOutcome("import", message=f"your module could not be imported: {hello.message}")
            self.stop()
            return self.import_error
        if not hello.get("ok"):
            error = hello.get("error") or {}
            self.import_error = CallOutcome(
                "import", message=f"importing your module raised {error.get('type')}: {error.get('message')}",
                where=str(error.get("where", "")))
            self.stop()
            return self.import_error
        functions = hello.get("functions")
        self.functions = functions if isinstance(functions, dict) else {}
        self._ready = True
        return None

    def stop(self) -> None:
        """End the worker and every process it started."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.process.wait()
            kill_marked_processes(TOKEN_VARIABLE, self.token)
        for fd in (self._request_fd, self._response_fd):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._request_fd = self._response_fd = -1
        self.process = None
        self._ready = False

    def close(self) -> None:
        """Stop the worker, wait for output to drain, remove the scratch folder."""
        self.stop()
        for collector in self.collectors:
            collector.join(timeout=2)
        kill_marked_processes(TOKEN_VARIABLE, self.token)
        _remove_tree(self.scratch)

    def output(self) -> str:
        """Everything the student's code printed (head and tail of each worker)."""
        return "".join(collector.text() for collector in self.collectors)

    # -- calls --------------------------------------------------------------
    def call(self, function: str, *args: Any, timeout: float | None = None) -> CallOutcome:
        """Call `function(*args)` in the worker; never raises for student misbehaviour."""
        failure = self.ensure_ready()
        if failure is not None:
            return failure
        if function not in self.functions:
            return CallOutcome("missing", message=f"your module does not define {function}()")
        remaining = self.limits.total_seconds - self.time_used
        if remaining <= 0:
            return CallOutcome("timeout", message="the time budget for the whole submission is used up")
        limit = min(timeout or self.limits.call_seconds, remaining)
        self._next_id += 1
        request = {"op": "call", "id": self._next_id, "function": function,
                   "args": [encode_argument(arg, self.library) for arg in args]}
        started = time.monotonic()
        try:
            protocol.send(self._request_fd, request)
        except OSError:
            reply: Any = self._crash_outcome()
        else:
            reply = self._receive(limit, f"{function}()")
        self.time_used += time.monotonic() - started
        if isinstance(reply, CallOutcome):
            return reply
        try:
            return self._read_reply(reply)
        except (protocol.ProtocolError, ValueError, TypeError) as exc:
            self.stop()
            return CallOutcome("protocol", message=f"the worker sent an unreadable reply ({exc})")

    def _read_reply(self, reply: dict) -> CallOutcome:
        if reply.get("id") != self._next_id:
            raise protocol.ProtocolError("reply does not answer the request")
        if reply.get("ok") is True:
            mutated = reply.get("mutated", [])
            if not isinstance(mutated, list) or not all(isinstance(i, int) for i in mutated):
                raise protocol.ProtocolError("bad mutated list")
            return CallOutcome("ok", value=decode_value(reply.get("value")), mutated=mutated)
        error = reply.get("error")
        if not isinstance(error, dict):
            raise protocol.ProtocolError("failed reply without an error")
        kind = "missing" if error.get("type") == "MissingFunction" else "exception"
        text = f"{error.get('type')}: {error.get('message')}" if kind == "exception" else str(error.get("message"))
        return CallOutcome(kind, message=text[:2000], where=str(error.get("where", ""))[:2000])

    def _receive(self, timeout: float, what: str) -> dict | CallOutcome:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.stop()
                return CallOutcome("timeout", message=f"{what} did not finish within {timeout:g} s")
            ready, _, _ = select.select([self._response_fd], [], [], left)
            if ready:
                break
        try:
            return protocol.receive(self._response_fd)
        except (EOFError, OSError):
            return self._crash_outcome()
        except protocol.ProtocolError as exc:
            self.stop()
            return CallOutcome("protocol", message=f"the worker sent garbage on its channel ({exc})")

    def _crash_outcome(self) -> CallOutcome:
        process = self.process
        code = None
        if process is not None:
            try:
                code = process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        self.stop()
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = str(-code)
            detail = f"killed by signal {name}"
            if -code == signal.SIGKILL:
                detail += " (possibly for using too much memory)"
        else:
            detail = f"exited with status {code}"
        return CallOutcome("crash", message=f"the process running your code {detail}")


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
