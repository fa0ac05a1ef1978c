"""The judge's side of the zygote: start it once, ask it for launchers.

`zygote_for(library)` returns this process's zygote (grader/sandbox/zygote.py),
starting it on first use; a judge forked from another (grade-all) starts its
own. `Zygote.spawn` sends a launcher config and the worker's pipe ends and
returns at once with a `Spawned` handle, which offers the parts of
subprocess.Popen the sandbox uses (send_signal, wait, kill, pid) and learns
the launcher's pid when first needed, so the judge keeps working while the
zygote is still importing torch. Signals go through a pidfd: a launcher that
has exited and been reaped can never be confused with a new process.

Any failure of the zygote raises ZygoteError; the sandbox then starts its
worker the ordinary way (a fresh interpreter), so a broken zygote costs
time, never a grade.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPTS = ("zygote.py", "launcher.py", "limits.py", "reaper.py", "worker.py", "protocol.py", "kit.py", "confine.py")
REPLY_SECONDS = 120.0  # the zygote's own start (torch) comes before its first reply
_ZYGOTES: dict[tuple[int, str], "Zygote"] = {}


class ZygoteError(Exception):
    """The zygote cannot start a launcher (it is gone, or refused the request)."""


def enabled() -> bool:
    """Whether workers come from a zygote (GRADECHECK_ZYGOTE=0 turns it off)."""
    return os.environ.get("GRADECHECK_ZYGOTE", "1").strip() not in ("0", "no", "off", "false")


def zygote_for(library: str, env: dict[str, str]) -> "Zygote":
    """This process's zygote for `library`, started now if needed (with environment `env`)."""
    key = (os.getpid(), library)
    zygote = _ZYGOTES.get(key)
    if zygote is None or not zygote.alive():
        if zygote is not None:
            zygote.close()
        zygote = _ZYGOTES[key] = Zygote(library, env)
    return zygote


def warm_up(library: str) -> None:
    """Start this process's zygote for `library` now, if workers come from one, so that
    its torch import runs while the judge is still importing its own modules. Any
    failure is left for the sandbox to meet (and fall back from) when it starts."""
    if not enabled():
        return
    from .environment import base_environment

    try:
        zygote_for(library, base_environment())
    except (OSError, ZygoteError, subprocess.SubprocessError):
        pass


def _close_all() -> None:
    for (pid, _library), zygote in list(_ZYGOTES.items()):
        if pid == os.getpid():
            zygote.close()


atexit.register(_close_all)


class Zygote:
    """One zygote process and the socket to it."""

    def __init__(self, library: str, env: dict[str, str]):
        self.lock = threading.Lock()
        self.pending: list[Spawned] = []
        self.runtime = Path(tempfile.mkdtemp(prefix="gradecheck-zygote-"))
        for name in SCRIPTS:
            shutil.copyfile(HERE / name, self.runtime / name)
            os.chmod(self.runtime / name, 0o444)
        os.chmod(self.runtime, 0o755)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-s", "-B", str(self.runtime / "zygote.py"),
                 "--socket", str(theirs.fileno()), "--library", library],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), cwd=self.runtime, env={**env, "HOME": str(self.runtime)},
                start_new_session=True)
        except BaseException:
            ours.close()
            shutil.rmtree(self.runtime, ignore_errors=True)
            raise
        finally:
            theirs.close()
        self.socket = ours

    def alive(self) -> bool:
        """Whether the zygote process is still running."""
        return self.socket is not None and self.process.poll() is None

    def spawn(self, config: dict[str, Any], fds: tuple[int, int, int, int]) -> "Spawned":
        """Ask for a launcher with `config`, attached to the (request, response, output, arena) fds.

        Returns at once; the fds stay the caller's to close.
        """
        status_r, status_w = os.pipe()
        try:
            with self.lock:
                for earlier in list(self.pending):  # replies come in order: take the earlier ones first
                    earlier.resolve()
                if not self.alive():
                    raise ZygoteError("the zygote is not running")
                try:
                    socket.send_fds(self.socket, [json.dumps(config).encode()], [*fds, status_w])
                except OSError as exc:
                    raise ZygoteError(f"the zygote did not take the request ({exc})") from exc
                spawned = Spawned(self, status_r)
                self.pending.append(spawned)
        except BaseException:
            os.close(status_r)
            raise
        finally:
            os.close(status_w)
        return spawned

    def _reply(self, timeout: float) -> tuple[dict, list[int]]:
        if self.socket is None:
            raise ZygoteError("the zygote is closed")
        ready, _, _ = select.select([self.socket], [], [], timeout)
        if not ready:
            raise ZygoteError(f"the zygote did not answer within {timeout:g} s")
        try:
            message, fds, _flags, _address = socket.recv_fds(self.socket, 65536, 1)
        except OSError as exc:
            raise ZygoteError(f"the zygote's socket broke ({exc})") from exc
        if not message:
            raise ZygoteError("the zygote has exited")
        try:
            reply = json.loads(message)
            if "error" in reply:
                raise ZygoteError(f"the zygote could not fork: {str(reply['error'])[:500]}")
            if not isinstance(reply.get("pid"), int) or len(fds) != 1:
                raise ValueError("malformed reply")
        except (ValueError, AttributeError) as exc:
            for fd in fds:
                os.close(fd)
            raise ZygoteError(f"the zygote sent a malformed reply ({exc})") from exc
        except ZygoteError:
            for fd in fds:
                os.close(fd)
            raise
        return reply, fds

    def close(self) -> None:
        """Stop the zygote and tidy up (launchers it forked carry on until their judge ends them)."""
        with self.lock:
            for spawned in list(self.pending):  # answers it sent before it ended are still readable
                spawned.resolve(timeout=0)
        if self.socket is not None:
            self.socket.close()
            self.socket = None  # type: ignore[assignment]
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.runtime, ignore_errors=True)


class Spawned:
    """A launcher forked by the zygote, seen through the parts of Popen the sandbox uses.

    Its exit status arrives on a pipe (one byte; end of file without one means
    it was killed before it could write, reported as SIGKILL).
    """

    def __init__(self, zygote: Zygote, status_fd: int):
        self.zygote = zygote
        self.status_fd = status_fd
        self.pid = 0
        self.pidfd = -1
        self.returncode: int | None = None
        self.error: ZygoteError | None = None

    def resolve(self, timeout: float = REPLY_SECONDS) -> None:
        """Read the zygote's answer to this request, once (callers hold the zygote's lock)."""
        if self.pid or self.error:
            return
        try:
            reply, fds = self.zygote._reply(timeout)
            self.pid, self.pidfd = reply["pid"], fds[0]
        except ZygoteError as exc:
            self.error = exc
            if self.zygote.process.poll() is None:
                self.zygote.process.kill()  # out of step with us: never trust it again
        finally:
            if self in self.zygote.pending:
                self.zygote.pending.remove(self)

    def settle(self) -> None:
        """Learn the launcher's pid (or that the zygote failed), waiting for its answer if needed."""
        with self.zygote.lock:
            self.resolve()

    def poll(self) -> int | None:
        """The exit status if the launcher has ended, else None."""
        return self.wait(timeout=0, raising=False)

    def wait(self, timeout: float | None = None, *, raising: bool = True) -> int | None:
        """Wait for the launcher's exit status (like Popen.wait, TimeoutExpired included)."""
        if self.returncode is not None:
            return self.returncode
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.status_fd], [], [], remaining)
            if ready:
                data = os.read(self.status_fd, 1)
                self.returncode = data[0] if data else -signal.SIGKILL
                os.close(self.status_fd)
                self.status_fd = -1
                self._close_pidfd()
                return self.returncode
            if not raising:
                return None
            raise subprocess.TimeoutExpired(["gradecheck launcher"], timeout or 0)

    def send_signal(self, sig: int) -> None:
        """Signal the launcher (nothing happens once it has ended)."""
        if self.returncode is not None:
            return
        self.settle()
        if self.pidfd < 0:
            return
        try:
            signal.pidfd_send_signal(self.pidfd, sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the launcher."""
        self.send_signal(signal.SIGKILL)

    def kill_group(self) -> None:
        """SIGKILL the launcher's whole process group (its session), if it is still running."""
        self.settle()
        if self.pid and self.returncode is None and self.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except OSError:
                pass

    def _close_pidfd(self) -> None:
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1

    def __del__(self) -> None:
        for fd in (getattr(self, "status_fd", -1), getattr(self, "pidfd", -1)):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
