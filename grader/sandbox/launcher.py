"""The intermediate between the judge and a worker: isolate, supervise, clean up.

Run as ``python -I launcher.py CONFIG_JSON`` by the judge, before any student
code exists in the process tree. It reaches the strongest isolation the
machine allows (grader/sandbox/levels.py):

1. as root with CAP_SYS_ADMIN, fresh mount, PID, network and IPC namespaces;
   otherwise (an unprivileged judge, or root without CAP_SYS_ADMIN) a child in
   a new user namespace with the same four namespaces, its uid mapped to the
   sandbox's private uid (root) or to the judge's own uid (a plain user);
   in both, the grader's files are hidden behind empty tmpfs mounts, only the
   interpreter and the scratch folder are re-exposed, the student's folder is
   a size-limited tmpfs and every world-writable system folder a private one;
2. becomes the supervisor (PID 1 of the new PID namespace, or a child
   subreaper otherwise) so every process the submission starts stays below it;
3. forks the worker, which drops to the sandbox's uid and every capability,
   applies the rlimits, Landlock and seccomp (grader/sandbox/confine.py) and
   execs ``worker.py``;
4. when the worker exits, or the judge asks (SIGTERM) or disappears, kills
   every process below it and exits with the worker's status (128 + signal
   number for a signal).

The worker's parent is therefore never the judge, and student code never
runs as uid 0. Standard library only.

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
import stat
import sys
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confine  # noqa: E402
import limits  # noqa: E402
import reaper  # noqa: E402

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
CLONE_NEWUSER = 0x10000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 36, 38, 47, 4
SETUP_FAILED = 125
INSIDE_UID = 1000  # the worker's uid inside a user namespace (never 0)
# System folders that only ever hold ordinary reading matter for the interpreter.
SYSTEM_READ = ("/bin", "/sbin", "/usr", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/nix/store",
               "/proc", "/sys", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")

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


def hide_files(config: dict, owner: int | None) -> None:
    """Cover secret and temporary folders with tmpfs, re-expose the `keep` folders,
    and move the student's folder onto a tmpfs of `scratch_mb` owned by `owner`.

    On any failure every mount made here is undone, leaving the ordinary view.
    """
    mounted: list[str] = []
    keep = {path: os.open(path, os.O_PATH | os.O_DIRECTORY) for path in config["keep"]}
    work = os.open(config["cwd"], os.O_RDONLY | os.O_DIRECTORY)
    try:
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        for path in config["covers"]:
            temporary = path in config["temporary"]
            data = f"mode=1777,size={int(config.get('temporary_mb', 64))}m" if temporary else "mode=755,size=1m"
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, data)
            mounted.append(path)
        for path, handle in keep.items():
            if not any(path.startswith(c.rstrip("/") + "/") for c in config["covers"]):
                continue
            os.makedirs(path, mode=0o755, exist_ok=True)
            _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC)
            mounted.append(path)
            if path not in config["writable"]:
                _readonly(path)
        for path in config["covers"]:
            if path not in config["temporary"]:
                _mount(None, path, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=755")
        _mount("tmpfs", config["cwd"], "tmpfs", MS_NOSUID | MS_NODEV,
               f"mode=700,size={int(config.get('scratch_mb', 256))}m")
        mounted.append(config["cwd"])
        _copy_tree(work, config["cwd"], owner)
    except OSError:
        for path in reversed(mounted):
            libc.umount2(path.encode(), MNT_DETACH)
        raise
    finally:
        for handle in [*keep.values(), work]:
            os.close(handle)


def _readonly(path: str) -> None:
    """Remount a bind mount read-only, keeping the flags a user namespace may not drop."""
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    if os.statvfs(path).f_flag & os.ST_NOEXEC:
        flags |= MS_NOEXEC
    _mount(None, path, None, flags)


def _copy_tree(source: int, target: str, owner: int | None) -> None:
    """Copy the folder open as `source` (the student's files, hidden under the new
    tmpfs) into `target`, regular files and folders only, owned by `owner`."""
    for name in os.listdir(source):
        info = os.stat(name, dir_fd=source, follow_symlinks=False)
        path = os.path.join(target, name)
        if stat.S_ISDIR(info.st_mode):
            os.mkdir(path, 0o700)
            inner = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=source)
            try:
                _copy_tree(inner, path, owner)
            finally:
                os.close(inner)
        elif stat.S_ISREG(info.st_mode):
            handle = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=source)
            with os.fdopen(handle, "rb") as src, open(path, "wb") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
            os.chmod(path, info.st_mode & 0o700 | 0o600)
        else:
            continue
        if owner is not None:
            os.lchown(path, owner, owner)
    if owner is not None:
        os.chown(target, owner, owner)


def enter_worker(config: dict, isolation: list[str]) -> list[str]:
    """In the forked child: drop privileges, set limits, confine, enter the worker's folder.

    Returns the isolation features with what was added here (the uid dropped
    to, Landlock's and seccomp's parts). Never leaves the process as uid 0:
    raises instead.
    """
    signal.pthread_sigmask(signal.SIG_SETMASK, set())
    uid = config.get("uid")
    inside = "user" in isolation
    if inside:  # our uid in the namespace's map: INSIDE_UID, the sandbox's uid outside
        if os.getuid() == 0:  # root's namespace: groups may be set (a plain user's may not)
            os.setgroups([])
        os.setresgid(INSIDE_UID, INSIDE_UID, INSIDE_UID)
        os.setresuid(INSIDE_UID, INSIDE_UID, INSIDE_UID)
        _drop_capabilities()
        if uid is not None:
            isolation = [*isolation, "private-uid"]
    elif uid is not None and ("mount" in isolation or config["reachable"]):
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        isolation = [*isolation, "private-uid"]
    if os.geteuid() == 0 or os.getuid() == 0:
        raise OSError("refusing to run student code as uid 0: no private uid could be used "
                      "(is the interpreter under a folder only root can enter?)")
    # RLIMIT_NPROC counts every process of the real uid: only meaningful for a private one
    limits.apply(config["rlimits"], skip=() if uid is not None else ("RLIMIT_NPROC",))
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # after setuid, which clears it
    os.chdir(config["cwd"])
    isolation = [*isolation, *_confine(config, isolation)]
    return isolation


def _drop_capabilities() -> None:
    """Give up every capability for good (bounding, ambient, effective, permitted, inheritable)."""
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # past the last capability the kernel knows
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()
    _check(libc.capset(header, data), "capset")


def _confine(config: dict, isolation: list[str]) -> list[str]:
    """Landlock and seccomp over whatever else was reached; the features applied."""
    applied: list[str] = []
    private_tmp = "mount" in isolation  # then /tmp and friends are the sandbox's own tmpfs
    read = [*SYSTEM_READ, *config["keep"]]
    write = [config["cwd"], "/dev/null", *(config["temporary"] if private_tmp else [])]
    try:
        applied += confine.apply_landlock(read, write)
    except OSError as exc:
        applied.append(f"no-landlock ({exc.strerror or exc})")
    try:
        applied += confine.apply_seccomp()
    except OSError as exc:
        applied.append(f"no-seccomp ({exc.strerror or exc})")
    return applied


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


def enter_user_namespace(config: dict) -> int:
    """Fork a child into new user, mount, PID, network and IPC namespaces.

    Returns the child's pid in the parent, 0 in the child (now inside, its uid
    mapped), -1 in the parent when the kernel refused. As root the namespace's
    INSIDE_UID maps to the sandbox's private uid and uid 0 to root (whose
    files the child must still reach to set up the mounts; the worker leaves
    uid 0 before any student code); as a plain user INSIDE_UID maps to the
    user's own uid, the only one it may map.
    """
    root = os.geteuid() == 0
    outside = config.get("uid") if root else os.geteuid()
    group = config.get("uid") if root else os.getegid()
    if outside is None:
        return -1
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(go_w)
        ok = libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC) == 0
        os.write(ready_w, b"1" if ok else b"0")
        if not ok or os.read(go_r, 1) != b"1":
            os._exit(SETUP_FAILED)
        os.close(ready_w)
        os.close(go_r)
        if not root:  # /proc/self/*_map belong to root while the process is not dumpable
            _prctl(PR_SET_DUMPABLE, 1)
            _write_map("self", f"{INSIDE_UID} {outside} 1\n", f"{INSIDE_UID} {group} 1\n")
            _prctl(PR_SET_DUMPABLE, 0)
        return 0
    os.close(ready_w)
    os.close(go_r)
    answer = os.read(ready_r, 1)
    os.close(ready_r)
    try:
        if answer != b"1":
            raise OSError("unshare refused")
        if root:
            _write_map(str(pid), f"0 0 1\n{INSIDE_UID} {outside} 1\n", f"0 0 1\n{INSIDE_UID} {group} 1\n")
        os.write(go_w, b"1")
    except OSError:
        os.close(go_w)
        os.waitpid(pid, 0)
        return -1
    os.close(go_w)
    return pid


def _write_map(pid: str, uids: str, gids: str) -> None:
    if pid == "self":
        with open("/proc/self/setgroups", "w") as handle:
            handle.write("deny")
    for name, text in (("uid_map", uids), ("gid_map", gids)):
        with open(f"/proc/{pid}/{name}", "w") as handle:
            handle.write(text)


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
    _prctl(PR_SET_DUMPABLE, 0)  # no process of the sandbox's uid may read this one's memory or fds
    if judge_fd is not None:
        def judge_alive() -> bool:  # a pidfd turns readable when its process ends
            return not select.select([judge_fd], [], [], 0)[0]
    else:
        judge = os.getppid()

        def judge_alive() -> bool:
            return os.getppid() == judge
    private = [fd for fd in (status_fd, judge_fd) if fd is not None]
    isolation: list[str] = []
    owner = config.get("uid")
    if config.get("namespaces") and os.geteuid() == 0:
        isolation = enter_namespaces()
    if config.get("namespaces") and "mount" not in isolation and config.get("user_namespaces", True):
        child = enter_user_namespace(config)
        if child > 0:  # outside: supervise the namespace's tree, as the judge's process
            _prctl(PR_SET_CHILD_SUBREAPER, 1)
            _finish(supervise(child, judge_alive), status_fd)
        if child == 0:
            private, status_fd, judge_alive = _inner(private)
            isolation = ["user", "mount", "pid", "net", "ipc"]
            owner = INSIDE_UID
    if "mount" in isolation:
        try:
            hide_files(config, owner)
        except OSError as exc:
            os.write(2, f"gradecheck launcher: could not hide the grader's files: {exc}\n".encode())
            isolation.remove("mount")
    inside = "pid" in isolation
    if inside:
        # unshare(CLONE_NEWPID) applies to children: fork the namespace's init,
        # stay outside to pass on its status, and take it down if asked to.
        init = os.fork()
        if init:
            _finish(supervise(init, judge_alive, whole_tree=False), status_fd)
        private, status_fd, judge_alive = _inner(private)
        try:  # a /proc showing only the namespace's processes, in a mount namespace
            # of its own so that the launcher outside keeps reading the real one
            _check(libc.unshare(CLONE_NEWNS), "unshare")
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            isolation.append("proc")
        except OSError:
            pass  # the PID namespace still holds; Landlock keeps the outside's /proc entries shut
    else:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
    worker = os.fork()
    if worker == 0:
        for fd in private:
            os.close(fd)
        run_worker(config, isolation, start)
    # As a namespace's init, exiting is enough to end every process in it.
    _finish(supervise(worker, judge_alive, whole_tree=not inside), status_fd)


def _inner(private: list[int]) -> tuple[list[int], None, Callable[[], bool]]:
    """In a child the launcher outside supervises: drop the outside's private descriptors
    and die with that launcher, which alone watches the judge."""
    for fd in private:
        os.close(fd)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    return [], None, lambda: True


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
