"""The intermediate between the judge and a worker: isolate, supervise, clean up.

Run as ``python -I launcher.py CONFIG_JSON`` by the judge, before any student
code exists in the process tree. It

1. when root, tries to enter fresh mount, PID, network and IPC namespaces,
   hides the grader's files behind empty tmpfs mounts and re-exposes only
   the interpreter and the scratch folder;
2. becomes the supervisor (PID 1 of the new PID namespace, or a child
   subreaper otherwise) so every process the submission starts stays below it;
3. forks the worker, which drops to the sandbox's private uid, applies the
   rlimits, forbids gaining privileges and execs ``worker.py``;
4. when the worker exits, or the judge asks (SIGTERM) or disappears, kills
   every process below it and exits with the worker's status (128 + signal
   number for a signal).

The worker's parent is therefore never the judge. Standard library only.

The same steps run inside a zygote's fork (grader/sandbox/zygote.py): there
`launch` gets a `start` that serves the worker in the forked process instead
of exec'ing a fresh interpreter, and the exit status also goes to a pipe,
since the judge is not this process's parent.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import sys
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import limits  # noqa: E402
import reaper  # noqa: E402

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 36, 38
SETUP_FAILED = 125

libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = (lambda s: s.encode() if s is not None else None)
    _check(libc.mount(encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data)),
           f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


def enter_namespaces() -> list[str]:
    """Unshare what the kernel allows; return the namespaces entered."""
    for flags, names in ((CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC, ["mount", "pid", "net", "ipc"]),
                         (CLONE_NEWNS | CLONE_NEWPID, ["mount", "pid"])):
        if libc.unshare(flags) == 0:
            return names
    return []


def hide_files(config: dict) -> None:
    """Cover secret and temporary folders with tmpfs, re-expose the `keep` folders.

    On any failure every mount made here is undone, leaving the ordinary view.
    """
    mounted: list[str] = []
    keep = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in config["keep"]}
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        for path in config["covers"]:
            temporary = path in config["temporary"]
            data = "mode=1777,size=64m" if temporary else "mode=755,size=1m"
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, data)
            mounted.append(path)
        for path, handle in keep.items():
            if not any(path.startswith(c.rstrip("/") + "/") for c in config["covers"]):
                continue
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC)
            mounted.append(path)
            if path not in config["writable"]:
                _mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        for path in config["covers"]:
            if path not in config["temporary"]:
                _mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=755")
    except OSError:
        for path in reversed(mounted):
            libc.umount2(path.encode(), MNT_DETACH)
        raise
    finally:
        for handle in keep.values():
            os.close(handle)


def enter_worker(config: dict, isolation: list[str]) -> list[str]:
    """In the forked child: drop privileges, set limits, enter the worker's folder.

    Returns the isolation list with the uid added when it was dropped to.
    """
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    uid = config.get("uid")
    drop = uid is not None and ("mount" in isolation or config["reachable"])
    limits.apply(config["rlimits"], skip=() if drop else ("RLIMIT_NPROC",))
    if drop:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        isolation = [*isolation, f"uid {uid}"]
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
    os.chdir(config["cwd"])
    return isolation


def exec_worker(config: dict, isolation: list[str]) -> None:
    """Become the worker: a fresh interpreter running worker.py. Never returns."""
    argv = [*config["worker"], "--isolation", ",".join(isolation) or "none"]
    os.execve(argv[0], argv, config["env"])


def run_worker(config: dict, isolation: list[str], start: Callable[[dict, list[str]], None]) -> None:
    """In the forked child: enter the worker's limits, then `start` it. Never returns."""
    try:
        start(config, enter_worker(config, isolation))
    except BaseException as exc:  # report on the student-output pipe, then fail the start
        os.write(2, f"gradecheck launcher: could not start the worker: {exc}\n".encode())
    os._exit(SETUP_FAILED)


def supervise(child: int, judge_alive: Callable[[], bool], *, whole_tree: bool = True) -> int:
    """Reap children until `child` exits or the judge goes away; kill the rest; return the status.

    With whole_tree false only `child` is killed: it is a PID namespace's
    init, whose death takes every process of the namespace with it.
    """
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP})
    code = None
    while code is None:
        info = signal.sigtimedwait({signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP}, 0.25)
        if info is not None and info.si_signo != signal.SIGCHLD or not judge_alive():
            code = SETUP_FAILED  # asked to stop, or the judge died
            break
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:  # nothing left to wait for
                return SETUP_FAILED if code is None else code
            if pid == 0:
                break
            if pid == child:
                code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
                break
    if whole_tree:
        reaper.kill_descendants(os.getpid())
    else:
        try:
            os.kill(child, signal.SIGKILL)
            os.waitpid(child, 0)
        except OSError:
            pass
    return code


def launch(config: dict, start: Callable[[dict, list[str]], None] = exec_worker,
           status_fd: int | None = None, judge_fd: int | None = None) -> None:
    """Isolate, fork the worker through `start`, supervise it, exit with its status.

    Never returns. With `status_fd` the status is also written there (one
    byte). The judge is watched through `judge_fd`, a pidfd, when given (a
    zygote's fork: its parent is the zygote, which may end first), else as
    this process's parent. Neither descriptor reaches the worker.
    """
    if judge_fd is not None:
        def judge_alive() -> bool:  # a pidfd turns readable when its process ends
            return not select.select([judge_fd], [], [], 0)[0]
    else:
        judge = os.getppid()

        def judge_alive() -> bool:
            return os.getppid() == judge
    private = [fd for fd in (status_fd, judge_fd) if fd is not None]
    isolation: list[str] = []
    if config.get("namespaces") and os.geteuid() == 0:
        isolation = enter_namespaces()
    if "mount" in isolation:
        try:
            hide_files(config)
        except OSError:
            isolation.remove("mount")
    inside = "pid" in isolation
    if inside:
        # unshare(CLONE_NEWPID) applies to children: fork the namespace's init,
        # stay outside to pass on its status, and take it down if asked to.
        init = os.fork()
        if init:
            _finish(supervise(init, judge_alive, whole_tree=False), status_fd)
        for fd in private:
            os.close(fd)
        private, status_fd = [], None
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the launcher outside watches the judge

        def judge_alive() -> bool:
            return True
        try:  # a /proc showing only the namespace's processes, in a mount namespace
            # of its own so that the launcher outside keeps reading the real one
            _check(libc.unshare(CLONE_NEWNS), "unshare")
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        except OSError:
            isolation.remove("pid")
    else:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    worker = os.fork()
    if worker == 0:
        for fd in private:
            os.close(fd)
        run_worker(config, isolation, start)
    # As a namespace's init, exiting is enough to end every process in it.
    _finish(supervise(worker, judge_alive, whole_tree=not inside), status_fd)


def _finish(code: int, status_fd: int | None) -> None:
    if status_fd is not None:
        try:
            os.write(status_fd, bytes([code & 0xFF]))
        except OSError:
            pass
    os._exit(code)


def main() -> None:
    launch(json.loads(sys.argv[1]))


if __name__ == "__main__":
    main()
