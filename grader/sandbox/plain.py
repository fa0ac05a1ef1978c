"""A plain sandbox: the student's code in an ordinary child process, on any system.

For a student grading their own code where the Linux sandbox cannot run
(macOS, Windows, a Linux without its pieces). It keeps everything that makes
the grade the grade: the same worker (grader/sandbox/worker.py) in its own
interpreter, the same wire format, the same call limits, output capture and
judging of modified inputs. It gives up what protects a judge from a
hostile submission: no namespaces, Landlock, seccomp, private uid or watch
over memory and processes. Its isolation level is "none", so a course's
minimum refuses it; only the local grade (minimum "none") uses it.

Portable pieces only: the channel is the worker's stdin and stdout, read by a
thread (select does not work on Windows pipes); the arguments arena is a
memory-mapped file in the scratch folder.
"""

from __future__ import annotations

import mmap
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import protocol
from .client import ARENA_BYTES, TOKEN_VARIABLE, Sandbox, _remove_tree, base_environment
from .output import OutputCollector

ISOLATION = "plain-process"  # the feature a plain worker reports: level "none"
# the judge's variables that never reach student code, even the student's own
WITHHELD_PREFIXES = ("GRADECHECK_",)


class PlainSandbox(Sandbox):
    """`Sandbox`'s interface over a plain child process (see the module docstring)."""

    watched = False

    def __init__(self, student_file: Path, **options: Any):
        options["isolate"] = False
        options.setdefault("minimum", "none")
        self._reader: threading.Thread | None = None
        self._replies: queue.Queue = queue.Queue()
        self._stdin = None
        super().__init__(student_file, **options)

    # -- what the host provides ----------------------------------------------
    def _lease_uid(self) -> None:
        return None

    def _plan_layout(self, library: str, hide: Sequence[Path]) -> dict[str, Any]:
        return {}

    def _make_arena(self) -> tuple[int, mmap.mmap]:
        self._arena_path = self.scratch / "arena"
        with open(self._arena_path, "w+b") as handle:
            handle.truncate(ARENA_BYTES)
            return -1, mmap.mmap(handle.fileno(), ARENA_BYTES)

    # -- lifecycle ------------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """The student's own environment (what their Python needs to start on any system),
        with the worker's fixed settings on top and the grader's variables left out."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(WITHHELD_PREFIXES)}
        fixed = {k: v for k, v in base_environment().items() if k != "PATH"}
        return {**env, **fixed, "TMPDIR": str(self.work), TOKEN_VARIABLE: self.token}

    def start(self) -> None:
        """Start a worker whose channel is its stdin and stdout (non-blocking: `ensure_ready`
        waits for its reports)."""
        self.restarts += 1
        output_r, output_w = os.pipe()
        command = [sys.executable, "-s", "-B", str(self.worker_script), "--stdio",
                   "--isolation", ISOLATION, "--library", self.library, "--module", self.module,
                   "--file", str(self.student_file), "--result-mb", str(self.limits.result_mb),
                   "--memory-mb", str(self.limits.memory_mb), "--arena-file", str(self._arena_path),
                   "--harness", self.harness_file, "--data-dir", self.data_dir]
        if os.name == "nt":
            group: dict[str, Any] = {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
        else:
            group = {"start_new_session": True}
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=output_w,
                cwd=self.work, env=self.environment(), bufsize=0, **group)
        finally:
            os.close(output_w)
        self._stdin = self.process.stdin
        self._replies = queue.Queue()
        self._reader = threading.Thread(target=_read_replies, name="gradecheck-replies", daemon=True,
                                        args=(self.process.stdout.fileno(), self._max_reply, self._replies))
        self._reader.start()
        collector = OutputCollector(output_r, self.limits.output_kb * 1024)
        collector.start()
        self.collectors.append(collector)
        self._ready = False

    def stop(self) -> None:
        """End the worker and whatever it started (its process group or session)."""
        process = self.process
        if process is not None:
            _kill_tree(process)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            if self._reader is not None:
                self._reader.join(timeout=2)  # it reads to the end before its pipe is closed
            for stream in (process.stdin, process.stdout):
                try:
                    stream.close()
                except (OSError, AttributeError):
                    pass
        self._reader = None
        self._stdin = None
        self.process = None
        self._ready = False

    def close(self) -> None:
        """Stop the worker, let its output drain, remove the scratch folder."""
        self.stop()
        for collector in self.collectors:
            collector.join(timeout=2)
        if self._arena is not None and not self._arena.closed:
            self._arena.close()  # Windows removes no mapped file
        _remove_tree(self.scratch)

    # -- the channel ------------------------------------------------------------
    def _send(self, message: dict, deadline: float) -> None:
        """Write one request from a helper thread, so that a worker that stopped reading
        costs a ChannelTimeout at the deadline, not a hung judge."""
        stream = self._stdin
        if stream is None:
            raise OSError("the worker is not running")
        payload = protocol.frame(message)
        failure: list[BaseException] = []

        def write() -> None:
            view = memoryview(payload)
            try:
                while view:
                    view = view[stream.write(view) or 0:]
            except BaseException as exc:  # reported to the caller below
                failure.append(exc)

        writer = threading.Thread(target=write, name="gradecheck-request", daemon=True)
        writer.start()
        writer.join(max(deadline - time.monotonic(), 0.0))
        if writer.is_alive():
            raise protocol.ChannelTimeout("deadline passed")
        if failure:
            raise OSError(f"the worker's channel closed ({failure[0]})")

    def _receive_message(self, deadline: float) -> dict:
        try:
            item = self._replies.get(timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Empty:
            raise protocol.ChannelTimeout("deadline passed") from None
        if isinstance(item, BaseException):
            self._replies.put(item)  # the channel stays ended for later reads too
            raise item
        return item


def _read_replies(fd: int, max_bytes: int, replies: queue.Queue) -> None:
    """Read framed replies from the worker until its stdout ends or garbles; the last item
    queued is the exception that ended the channel."""
    while True:
        try:
            replies.put(protocol.receive(fd, None, max_bytes=max_bytes))
        except (EOFError, OSError, protocol.ProtocolError) as exc:
            replies.put(exc)
            return


def _kill_tree(process: subprocess.Popen) -> None:
    """Kill the worker and the processes it started, as far as the system allows."""
    if os.name == "nt":
        if process.poll() is not None:
            return
        subprocess.run(["taskkill", "/F", "/T", "/PID", str(process.pid)], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        process.kill()
    except OSError:
        pass

