"""The judge's side of the sandbox: start a worker, call functions, clean up.

A `Sandbox` owns one worker process at a time, started through the launcher
(grader/sandbox/launcher.py) from copies in a private scratch folder. Every
call has a wall-time limit; a call that times out, crashes the worker or
garbles the channel is a failed `CallOutcome` and the next call starts a
fresh worker. Student output goes to a separate pipe drained by a thread
that keeps only its head and tail. `close` leaves no process of the
submission running and no file in the scratch folder.
"""

from __future__ import annotations

import ctypes
import json
import mmap
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import jail, levels, protocol, spawner, watch
from .environment import base_environment
from .limits import Limits
from .outcomes import BUDGET_USED, JOB_TIME_USED, OWN_BUDGET_USED, CallOutcome, describe_exit, read_functions, signature_mismatch
from .output import OutputCollector
from .reaper import kill_marked_processes, kill_user
from ..text import clean, clean_name
from .values import Opaque, ReturnedArray, decode_value, encode_argument

__all__ = ["CallOutcome", "Opaque", "ReturnedArray", "Sandbox", "decode_value", "encode_argument"]

HERE = Path(__file__).resolve().parent
LAUNCHER = HERE / "launcher.py"
RUNTIME = [HERE / "worker.py", HERE / "protocol.py", HERE / "kit.py"]
ARENA_BYTES = 64 * 2**20  # sparse: only the pages arguments use take memory
REFUSED = "refused"  # CallOutcome kind: the sandbox is below the course's minimum isolation
SANDBOX_FAILED = "sandbox"  # CallOutcome kind: the sandbox itself could not start (a grader problem)
PROJECT = HERE.parent.parent  # the grader's own checkout: reference, checks, tests
TOKEN_VARIABLE = "GRADECHECK_SANDBOX_TOKEN"


class Sandbox:
    """Runs one student file in worker processes and calls its functions.

    `files` is the student's submission folder, whose other files are copied
    beside the student file; `hide` lists folders the worker must not see
    (the grader's checkout is always hidden) when the kernel allows hiding.
    `isolate=False` skips every namespace, root's and a user namespace's
    (Landlock, seccomp and, as root, the private uid still apply: the
    plain-user mode, for tests of the clean-up that does not rely on them).
    `minimum` is the weakest isolation level (grader/sandbox/levels.py) under
    which student code may run: below it no student code is imported and
    every call ends as a REFUSED outcome saying why.
    """

    def __init__(self, student_file: Path, *, module: str, library: str, limits: Limits,
                 files: Path | None = None, hide: Sequence[Path] = (), isolate: bool = True,
                 minimum: str = levels.DEFAULT_MINIMUM, harness: Path | None = None,
                 data: dict[str, Path] | None = None, homes: dict[str, str] | None = None,
                 tops: Sequence[str] = ()):
        _judge_not_dumpable()
        self.module = module
        self.library = library
        self.limits = limits
        self.isolate = isolate
        self.minimum = minimum
        levels.rank(minimum)  # ValueError for an unknown level
        self.token = uuid.uuid4().hex
        self.lease = self._lease_uid()
        self.uid = self.lease.uid if self.lease else None
        try:
            self.scratch, runtime, self.work = jail.make_scratch(
                RUNTIME, Path(student_file), f"{module}.py", files, self.uid)
        except BaseException:
            if self.lease:
                self.lease.release()
            raise
        # a package handin (`homes`: function -> module) is its whole folder, copied as work/
        self.homes = homes
        self.tops = list(tops)
        self.student_file = f"{self.work}{os.sep}" if homes is not None else self.work / f"{module}.py"
        self.unresolved: dict[str, str] = {}
        self.worker_script = runtime / "worker.py"
        self.harness_file, self.data_dir = _stage_course_files(runtime, harness, data or {})
        self.drivers: set[str] = set()
        self.harness_error: str | None = None
        self._layout = self._plan_layout(library, hide)
        # Array arguments travel through this shared memory: after each call the judge
        # reads back whether the student's code changed them (no word of the worker's).
        self._arena_fd, self._arena = self._make_arena()
        self.process: subprocess.Popen | spawner.Spawned | None = None
        self.use_zygote = spawner.enabled()
        self._spawned: spawner.Spawned | None = None
        self.collectors: list[OutputCollector] = []
        self.import_error: CallOutcome | None = None
        self.functions: dict[str, dict] = {}
        self.isolation = ""
        self.level = ""
        self.deadline: float | None = None  # time.monotonic() by which the grading job must stop
        self.watcher: watch.Watcher | None = None
        self._in_call = False
        self.restarts = -1
        self.time_used = 0.0
        self.last_call_seconds = 0.0
        # what the worker says its calls took inside the student's code (at most their wall
        # time): benchmarks tell the grader's cost from the student's with it; never graded
        self.student_seconds = 0.0
        self._ready = False
        # a reply holds at most result_mb of arrays, in base64 (4/3), plus its JSON
        self._max_reply = int(limits.result_mb * 2**20 * 4 / 3) + 2**20
        self._next_id = 0
        self._request_fd = self._response_fd = -1

    # -- what the host provides (a plain sandbox does without) ---------------
    watched = True  # whether the judge watches the submission's processes (/proc)

    def _lease_uid(self) -> jail.Lease | None:
        return jail.lease_uid() if self.isolate else None

    def _plan_layout(self, library: str, hide: Sequence[Path]) -> dict[str, Any]:
        """What the launcher keeps visible, hides and lets the worker write."""
        keep = jail.needed_paths(self.scratch, (library,))
        temporary = jail.temporary_folders()
        covered = jail.covers([PROJECT, *hide], keep, temporary)
        return {
            "keep": keep,
            "covers": covered,
            "temporary": [p for p in covered if p in temporary],
            "writable": [os.path.realpath(self.work)],
            "reachable": jail.reachable(keep),
        }

    def _make_arena(self) -> tuple[int, mmap.mmap]:
        """The arguments arena: an anonymous memory file the worker maps too."""
        fd = os.memfd_create("gradecheck-arguments", 0)
        os.ftruncate(fd, ARENA_BYTES)
        return fd, mmap.mmap(fd, ARENA_BYTES)

    # -- lifecycle ----------------------------------------------------------
    def environment(self) -> dict[str, str]:
        """The worker's whole environment: nothing of the judge's leaks in."""
        return {**base_environment(), "HOME": str(self.work), "TMPDIR": str(self.work),
                TOKEN_VARIABLE: self.token}

    def start(self) -> None:
        """Spawn a worker (non-blocking); `ensure_ready` waits for its import."""
        self.restarts += 1
        request_r, request_w = os.pipe()
        response_r, response_w = os.pipe()
        output_r, output_w = os.pipe()
        env = self.environment()
        config = {
            **self._layout,
            "worker": [sys.executable, "-s", "-B", str(self.worker_script),
                       "--request-fd", str(request_r), "--response-fd", str(response_w),
                       "--library", self.library, "--module", self.module,
                       "--file", str(self.student_file), "--result-mb", str(self.limits.result_mb),
                       "--memory-mb", str(self.limits.memory_mb), "--arena-fd", str(self._arena_fd),
                       "--harness", self.harness_file, "--data-dir", self.data_dir],
            "cwd": str(self.work),
            "env": env,
            "uid": self.uid,
            "namespaces": self.isolate,
            # GRADECHECK_USERNS=0: never try user namespaces (as on kernels that forbid them)
            "user_namespaces": os.environ.get("GRADECHECK_USERNS", "1").strip() not in ("0", "no", "off"),
            "scratch_mb": self.limits.scratch_mb,
            "temporary_mb": 64,
            "rlimits": self.limits.rlimits(),
        }
        try:
            self.process = self._spawn(config, (request_r, response_w, output_w, self._arena_fd))
        finally:
            for fd in (request_r, response_w, output_w):
                os.close(fd)
        for fd in (request_w, response_r):
            os.set_blocking(fd, False)
        self._request_fd, self._response_fd = request_w, response_r
        collector = OutputCollector(output_r, self.limits.output_kb * 1024)
        collector.start()
        self.collectors.append(collector)
        self._ready = False

    def _spawn(self, config: dict, fds: tuple[int, int, int, int]) -> subprocess.Popen | spawner.Spawned:
        """A launcher for `config`: forked by the zygote, or else a fresh interpreter."""
        self._spawned = None
        if self.use_zygote:
            try:
                zygote = spawner.zygote_for(self.library, base_environment())
                self._spawned = zygote.spawn(
                    {**config, "token": self.token, "judge_pid": os.getpid(), "library": self.library,
                     "module": self.module, "file": str(self.student_file),
                     "result_mb": self.limits.result_mb, "memory_mb": self.limits.memory_mb,
                     "harness": self.harness_file, "data_dir": self.data_dir}, fds)
                return self._spawned
            except (spawner.ZygoteError, OSError):
                self.use_zygote = False
        return subprocess.Popen(
            [sys.executable, "-I", str(LAUNCHER), json.dumps(config)],
            stdin=subprocess.DEVNULL, stdout=fds[2], stderr=fds[2],
            pass_fds=(fds[0], fds[1], fds[3]), cwd=self.work, env=config["env"], start_new_session=True)

    def _zygote_failed(self) -> bool:
        """Whether the last start failed because of the zygote rather than the submission."""
        spawned = self._spawned
        if spawned is None:
            return False
        spawned.settle()
        return spawned.error is not None

    def ensure_ready(self) -> CallOutcome | None:
        """Wait for the worker's reports (sandbox ready, then module imported); return
        an outcome if either failed. No student code runs before the first report
        has shown the isolation level to be at least the minimum."""
        if self.import_error is not None:
            return self.import_error
        if self._ready:
            return None
        remaining, why = self._time_left()
        if remaining <= 0:
            return CallOutcome("timeout", message=why)
        if self.process is None:
            if self.restarts >= self.limits.max_restarts:
                return CallOutcome("crash", message="the worker was restarted too many times; giving up")
            self.start()
        limit = min(self.limits.import_seconds, remaining)
        started = time.monotonic()
        loaded = self._receive(limit, "starting the sandbox")
        if isinstance(loaded, CallOutcome) and self._zygote_failed():
            self.use_zygote = False  # not the submission's fault: start it the ordinary way
            self.stop()
            self.start()
            loaded = self._receive(limit - (time.monotonic() - started), "starting the sandbox", shown=limit)
        if isinstance(loaded, CallOutcome) and loaded.kind == "timeout" and limit < self.limits.import_seconds:
            self.time_used += time.monotonic() - started
            self.stop()
            return CallOutcome("timeout", message=why)  # the budget ran out, not the sandbox
        failure = self._check_loaded(loaded)
        if failure is not None:
            self.time_used += time.monotonic() - started
            self.import_error = failure
            self.stop()
            return failure
        try:
            go: dict[str, Any] = {"op": "import"}
            if self.homes is not None:
                go["homes"] = self.homes
                go["tops"] = self.tops
            self._send(go, time.monotonic() + 5)
            hello = self._receive(limit - (time.monotonic() - started), "importing your module", shown=limit)
        except (protocol.ChannelTimeout, OSError):
            hello = self._crash_outcome()
        self.time_used += time.monotonic() - started
        if isinstance(hello, CallOutcome) and hello.kind == "timeout" and limit < self.limits.import_seconds:
            return CallOutcome("timeout", message=why)  # not the module's fault alone
        if not isinstance(hello, CallOutcome) and hello.get("op") != "hello":
            self.stop()
            hello = CallOutcome("protocol", message="the worker sent garbage instead of its import report")
        if isinstance(hello, CallOutcome):
            self.import_error = CallOutcome("import", message=f"your module could not be imported: {hello.message}")
            self.stop()
            return self.import_error
        if hello.get("ok") is not True:
            error = hello.get("error") if isinstance(hello.get("error"), dict) else {}
            self.import_error = CallOutcome(
                "import", message=f"importing your module raised {str(error.get('type'))[:200]}: "
                                  f"{str(error.get('message'))[:2000]}",
                where=str(error.get("where", ""))[:2000])
            self.stop()
            return self.import_error
        self.functions = read_functions(hello.get("functions"))
        unresolved = hello.get("unresolved")
        self.unresolved = {clean_name(k, 100): clean(v, 500) for k, v in unresolved.items()
                           if isinstance(k, str) and isinstance(v, str)} if isinstance(unresolved, dict) else {}
        drivers = hello.get("drivers")
        self.drivers = {d for d in drivers if isinstance(d, str)} if isinstance(drivers, list) else set()
        problem = hello.get("harness_error")
        self.harness_error = clean(problem, 2000) if isinstance(problem, str) else None
        self._ready = True
        return None

    def _time_left(self, budget: float | None = None) -> tuple[float, str]:
        """Seconds left for student code (the submission's budget, or `budget` when a
        check has its own, or the grading job's deadline, whichever ends first) and
        what to say when they are used up."""
        left, why = self.limits.total_seconds - self.time_used, BUDGET_USED
        if budget is not None:
            left, why = budget, OWN_BUDGET_USED
        if self.deadline is not None and self.deadline - time.monotonic() < left:
            left, why = self.deadline - time.monotonic(), JOB_TIME_USED
        return left, why

    def _check_loaded(self, loaded: dict | CallOutcome) -> CallOutcome | None:
        """Read the worker's first report (written before any student code ran): the
        isolation reached and the library's footprint; start watching the sandbox."""
        if isinstance(loaded, CallOutcome) or loaded.get("op") != "loaded":
            detail = loaded.message if isinstance(loaded, CallOutcome) else "an unexpected first message"
            output = self.output().strip()[-1500:]
            return CallOutcome(SANDBOX_FAILED, message=(
                f"the sandbox could not start ({detail}); no student code ran. This is a problem "
                f"of the grader's installation, not of the submission." + (f"\n{output}" if output else "")))
        features = [f for f in str(loaded.get("isolation", "")).split(",") if f and f != "none"][:32]
        self.isolation = ",".join(features)[:500]
        self.level = levels.level_of(features)
        if not levels.at_least(self.level, self.minimum):
            return CallOutcome(REFUSED, message=(
                f"the sandbox reached isolation level '{self.level}' ({self.isolation or 'nothing'}), "
                f"below the minimum '{self.minimum}' this course requires; no student code ran. "
                "Run the grader where the kernel allows user namespaces or Landlock (or as root), "
                "or lower the minimum with the `isolation` setting."))
        if self._spawned is not None:
            self._spawned.settle()  # learn the launcher's pid
        launcher = getattr(self.process, "pid", 0)
        if launcher and self.watched:
            footprint = loaded.get("rss") if isinstance(loaded.get("rss"), int) else 0
            table = watch.process_table()
            self.watcher = watch.Watcher(
                launcher, self.limits, footprint=footprint, in_call=lambda: self._in_call,
                spine=watch.below(table, launcher) | {launcher},
                scratch=None if "mount" in features else self.work)
            self.watcher.start()
        return None

    def stop(self) -> None:
        """End the worker and every process it started."""
        if self.watcher is not None:
            self.watcher.stop()
        process = self.process
        if process is not None:
            try:
                process.send_signal(signal.SIGTERM)  # the launcher kills everything below it
                process.wait(timeout=2)
            except (subprocess.TimeoutExpired, OSError):
                if isinstance(process, spawner.Spawned):
                    process.kill_group()
                else:
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except OSError:
                        pass
                process.kill()
                process.wait()
            if self.uid is not None:
                kill_user(self.uid)
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
        if self.uid is not None:
            kill_user(self.uid)
        kill_marked_processes(TOKEN_VARIABLE, self.token)
        for collector in self.collectors:
            collector.join(timeout=2)
        _remove_tree(self.scratch)
        if self.lease is not None:
            self.lease.release()
        if self._arena_fd >= 0:
            self._arena.close()
            os.close(self._arena_fd)
            self._arena_fd = -1

    def output(self) -> str:
        """Everything the student's code printed (head and tail of each worker)."""
        return "".join(collector.text() for collector in self.collectors)

    # -- calls --------------------------------------------------------------
    def call(self, function: str, *args: Any, timeout: float | None = None, driver: bool = False,
             budget: float | None = None) -> CallOutcome:
        """Call `function(*args)` in the worker (a student function, or with `driver` a
        harness driver); never raises for student misbehaviour.

        `timeout` is this call's own limit; `budget`, when given, is what the
        calling check has left of its own time budget, and the call's time is
        then not charged to the submission's shared budget.
        """
        return self._request(function, [args], many=False, timeout=timeout, driver=driver, budget=budget)

    def call_many(self, function: str, arg_sets: Sequence[Sequence[Any]], *, timeout: float | None = None,
                  driver: bool = False, budget: float | None = None) -> CallOutcome:
        """Call `function` once per argument list in a single round trip; the value is
        the list of results. The first failing call ends the batch and is the outcome
        (its message names which argument list failed). `timeout` covers the batch."""
        return self._request(function, [tuple(a) for a in arg_sets], many=True, timeout=timeout,
                             driver=driver, budget=budget)

    def call_sequence(self, calls: Sequence[tuple[str, tuple, bool]], *, timeout: float | None = None,
                      budget: float | None = None) -> list[tuple[CallOutcome, float]]:
        """Run several calls (function, args, driver) in one request, answered call by call:
        (outcome, seconds) for each call made, in order, each exactly what `call` would
        have returned at that point (its own time limit, counted from the previous
        answer; the budget; the arena's judgement of changed inputs). The sequence ends
        after the first call that does not succeed, and before any call `call` would
        refuse without running it (missing function, wrong arity, no time left): the
        caller makes that call itself. Never raises for student misbehaviour."""
        self.last_call_seconds = 0.0
        if self.ensure_ready() is not None:
            return []
        runnable = []
        for function, args, driver in calls:
            if self._refusal(function, driver, len(args)) is not None:
                break
            runnable.append((function, tuple(args), driver))
        remaining, why = self._time_left(budget)
        if not runnable or remaining <= 0:
            return []
        own_limit = timeout or self.limits.call_seconds
        self._next_id += 1
        encoded, placed = self._place_arguments([args for _, args, _ in runnable])
        request = {"op": "call_seq", "id": self._next_id,
                   "calls": [{"function": function, "driver": driver, "args": row}
                             for (function, _, driver), row in zip(runnable, encoded)]}
        protocol.write_progress(self._arena, "")
        results: list[tuple[CallOutcome, float]] = []
        used = 0.0  # of the check's own budget, by the calls answered so far
        began = time.monotonic()
        if self.watcher is not None:
            self.watcher.call_began()
        self._in_call = True
        try:
            for index, (function, _, _) in enumerate(runnable):
                remaining, why = self._time_left(None if budget is None else budget - used)
                limit = min(own_limit, remaining)
                if index == 0:
                    reply: dict | CallOutcome = self._send_then_receive(request, function, began, limit)
                elif remaining <= 0:  # `call` would not have started it: stop the worker running it
                    self.stop()
                    reply = CallOutcome("timeout", message=why)
                else:
                    if self.watcher is not None:  # what an earlier call started may not outlive it
                        self.watcher.call_began()
                    reply = self._receive(limit, f"{function}()", shown=limit)
                answered = time.monotonic()
                spent = answered - began
                began = answered  # the worker starts the next call as it answers this one
                if budget is None:
                    self.time_used += spent
                else:
                    used += spent
                if isinstance(reply, dict) and reply.get("index") != index:
                    self.stop()
                    reply = CallOutcome("protocol", message="the worker answered out of order")
                mine = [(i, offset, data) for row, i, offset, data in placed if row == index]
                outcome = self._outcome(reply, spent, mine, limit, own_limit, why)
                results.append((outcome, spent))
                if not outcome.ok:
                    break
        finally:
            self._in_call = False
        return results

    def _refusal(self, function: str, driver: bool, arity: int | None) -> CallOutcome | None:
        """Why a call cannot be made at all (a missing function or driver, a wrong
        number of arguments, unless `arity` is None), or None."""
        if driver:
            if self.harness_error is not None:
                return CallOutcome("harness", message=self.harness_error)
            if function not in self.drivers:
                return CallOutcome("harness", message=(
                    f"the course's harness has no driver {function}() in the worker"))
            return None
        info = self.functions.get(function)
        if info is None:
            return CallOutcome("missing", message=self.unresolved.get(
                function, f"your module does not define {function}()"))
        mismatch = signature_mismatch(function, info, arity) if arity is not None else None
        return CallOutcome("signature", message=mismatch) if mismatch else None

    def _request(self, function: str, arg_sets: list, *, many: bool, timeout: float | None,
                 driver: bool, budget: float | None) -> CallOutcome:
        self.last_call_seconds = 0.0
        failure = self.ensure_ready()
        if failure is not None:
            return failure
        refusal = self._refusal(function, driver, len(arg_sets[0]) if arg_sets else None)
        if refusal is not None:
            return refusal
        remaining, why = self._time_left(budget)
        if remaining <= 0:
            return CallOutcome("timeout", message=why)
        own_limit = timeout or self.limits.call_seconds
        limit = min(own_limit, remaining)
        self._next_id += 1
        encoded, placed = self._place_arguments(arg_sets)
        request: dict[str, Any] = {"op": "call_many" if many else "call", "id": self._next_id,
                                   "function": function, "driver": driver}
        if many:
            request["batches"] = encoded
        else:
            request["args"] = encoded[0]
        protocol.write_progress(self._arena, "")
        started = time.monotonic()
        if self.watcher is not None:
            self.watcher.call_began()
        self._in_call = True
        try:
            reply = self._send_then_receive(request, function, started, limit)
        finally:
            self._in_call = False
        spent = time.monotonic() - started
        if budget is None:
            self.time_used += spent
        self.last_call_seconds = spent
        return self._outcome(reply, spent, [(i, offset, data) for _, i, offset, data in placed],
                             limit, own_limit, why)

    def _send_then_receive(self, request: dict, function: str, started: float,
                           limit: float) -> dict | CallOutcome:
        """Send `request`, then wait for its (first) reply until `limit` after `started`."""
        try:
            self._send(request, started + limit)
        except protocol.ChannelTimeout:
            return self._timed_out(f"{function}()", limit)
        except OSError:
            return self._crash_outcome()
        return self._receive(limit - (time.monotonic() - started), f"{function}()", shown=limit)

    def _outcome(self, reply: dict | CallOutcome, spent: float, placed: list[tuple[int, int, bytes]],
                 limit: float, own_limit: float, why: str) -> CallOutcome:
        """A call's outcome from its reply (or from how waiting for it ended)."""
        if isinstance(reply, CallOutcome):
            progress = clean(protocol.read_progress(self._arena), 300) if reply.kind == "timeout" else ""
            if reply.kind == "timeout" and limit < own_limit:
                reply = CallOutcome("timeout", message=why)  # cut short by a budget, not its own limit
            if progress:
                reply.message += f" (it had got to: {progress})"
            return reply
        self.student_seconds += student_time(reply.get("took"), spent)
        try:
            outcome = self._read_reply(reply)
            if outcome.ok:  # judged here, from the arena: the worker's process may lie
                outcome.mutated = sorted({index for index, offset, data in placed
                                          if self._arena[offset:offset + len(data)] != data})
            return outcome
        except (protocol.ProtocolError, ValueError, TypeError) as exc:
            self.stop()
            return CallOutcome("protocol", message=f"the worker sent an unreadable reply ({exc})")

    def _place_arguments(self, arg_sets: Sequence[Sequence[Any]]
                         ) -> tuple[list[list[Any]], list[tuple[int, int, int, bytes]]]:
        """Encode each argument list for a call, putting each top-level array into the
        shared arena; also return (row, index, offset, bytes) of each placed array, where
        row is the list's position and index the argument's position in its list."""
        encoded, placed, offset = [], [], 0
        for row_number, args in enumerate(arg_sets):
            row = []
            for index, arg in enumerate(args):
                if isinstance(arg, np.ndarray) and protocol.dtype_name(arg.dtype) in protocol.ALLOWED_DTYPES \
                        and offset + arg.nbytes <= ARENA_BYTES - protocol.PROGRESS_BYTES:
                    data = np.ascontiguousarray(arg).astype(arg.dtype.newbyteorder("<"), copy=False).tobytes()
                    self._arena[offset:offset + len(data)] = data
                    row.append({"t": "shared", "lib": self.library, "dtype": protocol.dtype_name(arg.dtype),
                                "shape": list(arg.shape), "offset": offset})
                    placed.append((row_number, index, offset, data))
                    offset += -(-len(data) // 64) * 64  # next 64-byte boundary
                else:
                    row.append(encode_argument(arg, self.library))
            encoded.append(row)
        return encoded, placed

    def _read_reply(self, reply: dict) -> CallOutcome:
        if reply.get("id") != self._next_id:
            raise protocol.ProtocolError("reply does not answer the request")
        if reply.get("ok") is True:
            return CallOutcome("ok", value=decode_value(reply.get("value")))
        error = reply.get("error")
        if not isinstance(error, dict):
            raise protocol.ProtocolError("failed reply without an error")
        kind = {"MissingFunction": "missing", "ResultTooLarge": "too_large", "MissingName": "missing_name",
                "HarnessError": "harness"}.get(str(error.get("type")), "exception")
        text = f"{error.get('type')}: {error.get('message')}" if kind == "exception" else str(error.get("message"))
        index = error.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            text = f"(argument set {index + 1} of the batch) {text}"
        return CallOutcome(kind, message=text[:2000], where=str(error.get("where", ""))[:2000])

    def _receive(self, timeout: float, what: str, shown: float | None = None) -> dict | CallOutcome:
        try:
            return self._receive_message(time.monotonic() + max(timeout, 0.0))
        except protocol.ChannelTimeout:
            return self._timed_out(what, timeout if shown is None else shown)
        except (EOFError, OSError):
            return self._crash_outcome()
        except protocol.ProtocolError as exc:
            self.stop()
            return CallOutcome("protocol", message=f"the worker sent garbage on its channel ({exc})")

    # -- the channel (a plain sandbox carries it differently) ---------------
    def _send(self, message: dict, deadline: float) -> None:
        """Write one request; protocol.ChannelTimeout at the deadline, OSError if the worker is gone."""
        protocol.send(self._request_fd, message, deadline)

    def _receive_message(self, deadline: float) -> dict:
        """Read one reply; ChannelTimeout, EOFError, OSError or protocol.ProtocolError otherwise."""
        return protocol.receive(self._response_fd, deadline, max_bytes=self._max_reply)

    def _timed_out(self, what: str, limit: float) -> CallOutcome:
        self.stop()
        return CallOutcome("timeout", message=f"{what} did not finish within {limit:g} s")

    def _crash_outcome(self) -> CallOutcome:
        code = None
        if self.process is not None:
            try:
                code = self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
        reason = self.watcher.reason if self.watcher is not None else None
        self.stop()
        if reason:
            return CallOutcome("crash", message=f"the sandbox was stopped: {reason}")
        return CallOutcome("crash", message=describe_exit(code))


def student_time(took: Any, spent: float) -> float:
    """The seconds a reply's calls ran in the student's code: what the worker says ("took"),
    never more than the call's wall time, nothing when it says something else."""
    if isinstance(took, float) and took >= 0.0:  # NaN fails the comparison
        return min(took, spent)
    return 0.0


def _stage_course_files(runtime: Path, harness: Path | None, data: dict[str, Path]) -> tuple[str, str]:
    """Copy the course's harness and data fixtures into the worker's read-only runtime
    folder; return their paths there ("" for none)."""
    harness_file = data_dir = ""
    if harness is not None:
        shutil.copyfile(harness, runtime / "harness.py")
        os.chmod(runtime / "harness.py", 0o444)
        harness_file = str(runtime / "harness.py")
    if data:
        folder = runtime / "data"
        folder.mkdir(mode=0o755)
        for name, path in data.items():
            shutil.copyfile(path, folder / f"{name}.npz")
            os.chmod(folder / f"{name}.npz", 0o444)
        data_dir = str(folder)
    return harness_file, data_dir


def _judge_not_dumpable() -> None:
    """Make this (the judge's) process undumpable: a process of the same uid (student
    code, where no private uid exists) can then neither ptrace it nor open its
    /proc entries (environ, fd, cwd, mem)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except (OSError, AttributeError, TypeError):
        pass


def _remove_tree(path: Path) -> None:
    root = os.path.realpath(path)

    def retry(function: Any, target: str, _info: Any) -> None:
        try:  # a submission may have made a folder of its own unwritable
            parent = os.path.realpath(os.path.dirname(target))
            if parent == root or parent.startswith(root + os.sep):  # never above the tree (/tmp!)
                os.chmod(parent, 0o700)
            if os.path.realpath(target).startswith(root):
                os.chmod(target, 0o700)
            function(target)
        except OSError:
            pass

    shutil.rmtree(path, onerror=retry)
