"""Plan a worker's isolation: its scratch folder, its user id, what it may see.

When the grader runs as root (platform containers), each sandbox gets a
private user id nobody else runs as, leased through a lock file, so that
the worker cannot read root's files, cannot signal the judge, and every
process it starts can be found by uid. The launcher additionally hides the
grader's own files (reference, checks, other submissions) behind empty
mounts in a private mount namespace when the kernel lets it.

As a plain user nothing of this is possible; the sandbox then relies on the
launcher's subreaper and the environment marker alone.
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
import site
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

try:  # POSIX only; the judge also imports this module where a plain sandbox is all there is
    import fcntl
    import pwd
except ImportError:
    fcntl = pwd = None  # type: ignore[assignment]

# Top-level folders never covered: the system the worker's Python runs on.
SYSTEM = {"/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/nix",
          "/opt", "/proc", "/run", "/sbin", "/snap", "/sys", "/usr", "/var"}
# Covered with a private, empty, writable folder so submissions cannot leave
# files for each other or read the judge's temporary files.
TEMPORARY = ("/tmp", "/var/tmp", "/dev/shm")
# Covered as a matter of course: users' homes hold course material and keys.
PRIVATE = ("/root", "/home")
SKIPPED_NAMES = {"__pycache__", "__MACOSX", ".git", ".ipynb_checkpoints", ".hypothesis"}
MAX_FILES = 200
MAX_BYTES = 50 * 2**20


@dataclass
class Lease:
    """A user id reserved for one sandbox until `release` (a flock on a lock file)."""

    uid: int
    handle: int = -1
    path: Path | None = None

    def release(self) -> None:
        """Give the uid back: remove the lock file, then drop the lock."""
        if self.handle >= 0 and self.path is not None:
            try:
                self.path.unlink()
            except OSError:
                pass
            os.close(self.handle)
            self.handle = -1


def _candidate_uids() -> range:
    """A block of ids mapped in this user namespace and unlikely to be anybody's."""
    try:
        with open("/proc/self/uid_map", encoding="ascii") as handle:
            spans = [tuple(int(x) for x in line.split()) for line in handle if line.strip()]
    except (OSError, ValueError):
        spans = []
    for inside, _outside, count in spans:
        if inside <= 200_000 and inside + count >= 300_000:
            return range(200_000, 300_000)
    return range(45_000, 55_000)


def lease_uid() -> Lease | None:
    """Reserve an unused uid for a sandbox; None when not root.

    Student code must never run as root, so when the lock folder is unusable
    the uid is still picked at random among unused ones, just not locked.
    """
    if os.geteuid() != 0:
        return None
    lock_dir = Path(tempfile.gettempdir()) / "gradecheck-uids"
    try:
        lock_dir.mkdir(mode=0o700, exist_ok=True)
        usable = lock_dir.stat().st_uid == 0 and not lock_dir.is_symlink()
    except OSError:
        usable = False
    busy = _uids_in_use()
    block, pick = _candidate_uids(), random.SystemRandom()
    uid = block.start
    for _ in range(200):
        uid = pick.randrange(block.start, block.stop)
        if uid in busy:
            continue
        try:
            pwd.getpwuid(uid)
            continue  # somebody's account
        except KeyError:
            pass
        if not usable:
            return Lease(uid)
        path = lock_dir / f"{uid}.lock"
        handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # the holder may have removed the file between our open and flock
            if os.stat(path).st_ino != os.fstat(handle).st_ino:
                raise OSError("lock file replaced")
        except OSError:
            os.close(handle)
            continue
        return Lease(uid, handle, path)
    return Lease(uid)  # 200 draws all taken: share one rather than run as root


def _uids_in_use() -> set[int]:
    busy = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                busy.add(os.stat(f"/proc/{entry}").st_uid)
            except OSError:
                pass
    return busy


def make_scratch(runtime_files: list[Path], student_file: Path, target_name: str,
                 support: Path | None, uid: int | None) -> tuple[Path, Path, Path]:
    """Create scratch/{runtime,work}; return (scratch, runtime, work).

    runtime/ holds the worker's own scripts (root's, read-only); work/ holds
    a copy of the student's file as `target_name` plus the other files of
    their submission folder, owned by `uid` when given. Only these copies are
    visible to the worker, never the originals.
    """
    scratch = Path(tempfile.mkdtemp(prefix="gradecheck-"))
    os.chmod(scratch, 0o711)
    runtime, work = scratch / "runtime", scratch / "work"
    runtime.mkdir(mode=0o755)
    work.mkdir(mode=0o700)
    for file in runtime_files:
        shutil.copyfile(file, runtime / file.name)
        os.chmod(runtime / file.name, 0o444)
    if Path(student_file).is_dir():  # a package handin: its folder's files are the work folder
        _copy_support(Path(student_file), work, skip=None)
    else:
        if support is not None:
            _copy_support(support, work, skip=Path(student_file).resolve())
        shutil.copyfile(student_file, work / target_name)
    if uid is not None:
        for folder, dirs, files in os.walk(work):
            for name in [*dirs, *files]:
                os.lchown(os.path.join(folder, name), uid, uid)
        os.chown(work, uid, uid)
    return scratch, runtime, work


def _copy_support(folder: Path, work: Path, *, skip: Path | None) -> None:
    """Copy the regular files of a submission folder (no links, capped in number and size)."""
    count = size = 0
    for current, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_NAMES and not d.startswith("."))
        relative = Path(current).relative_to(folder)
        for name in sorted(files):
            source = Path(current) / name
            info = source.lstat()
            if not stat.S_ISREG(info.st_mode) or source.resolve() == skip:
                continue
            count, size = count + 1, size + info.st_size
            if count > MAX_FILES or size > MAX_BYTES:
                return
            (work / relative).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, work / relative / name)


def needed_paths(scratch: Path, libraries: tuple[str, ...] = ("numpy",)) -> list[str]:
    """Folders the worker must see: the interpreter, its libraries (wherever the
    array libraries were installed from), the scratch folder."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), str(scratch)}
    paths.update(site.getsitepackages())
    for name in {"numpy", *libraries}:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.origin:  # .../site-packages/NAME/__init__.py
            paths.add(os.path.dirname(os.path.dirname(spec.origin)))
    paths = {os.path.realpath(p) for p in paths if p and os.path.isdir(p)}
    return _outermost(paths)


def temporary_folders() -> list[str]:
    """Folders anyone may write to: /tmp and friends, and every world-writable folder
    two levels into /run, /var and /dev (/run/lock, /var/crash...). Each is covered
    with a private, size-limited tmpfs that disappears with the sandbox."""
    found = {os.path.realpath(p) for p in TEMPORARY if os.path.isdir(p)}
    for top in ("/run", "/var", "/dev"):
        for depth_one in _subfolders(top):
            for folder in [depth_one, *_subfolders(depth_one)]:
                try:
                    info = os.stat(folder, follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISDIR(info.st_mode) and info.st_mode & stat.S_IWOTH:
                    found.add(folder)
    return sorted(found)


def _subfolders(folder: str) -> list[str]:
    try:
        with os.scandir(folder) as entries:
            return [e.path for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def covers(hide: list[Path], needed: list[str], temporary: list[str] = ()) -> list[str]:
    """Folders to cover with an empty mount: secrets, homes, temporary folders, and
    the closed ancestors of needed folders (re-exposed one by one by the launcher)."""
    temporary = list(temporary) or [os.path.realpath(p) for p in TEMPORARY]
    wanted = {os.path.realpath(p) for p in [*hide, *PRIVATE, *temporary] if os.path.isdir(p)}
    # Every other top-level folder too (/work, /autograder, /srv...): other
    # checkouts of the course material may sit anywhere outside the system.
    for entry in os.listdir("/"):
        top = "/" + entry
        if top not in SYSTEM and os.path.isdir(top) and not os.path.islink(top):
            wanted.add(top)
    for path in needed:  # a needed folder behind a 0700 folder must be reachable
        parts = Path(path).parts
        for depth in range(2, len(parts) + 1):
            ancestor = os.path.join(*parts[:depth])
            try:
                if not os.stat(ancestor).st_mode & stat.S_IXOTH:
                    wanted.add(ancestor)
                    break
            except OSError:
                break
    allowed = {p for p in wanted if p in temporary or not _inside_system(p)}
    return _outermost(allowed)


def _inside_system(path: str) -> bool:
    """Whether covering `path` could hide what the interpreter itself runs on."""
    return path in SYSTEM or any(path.startswith(s + "/") for s in SYSTEM if s != "/")


def reachable(paths: list[str]) -> bool:
    """Whether an unprivileged user can open every path (others' x bits all the way down)."""
    for path in paths:
        parts = Path(path).parts
        for depth in range(2, len(parts) + 1):
            try:
                if not os.stat(os.path.join(*parts[:depth])).st_mode & stat.S_IXOTH:
                    return False
            except OSError:
                return False
    return True


def _outermost(paths: set[str]) -> list[str]:
    """Drop every path that lies inside another one of the set."""
    kept: list[str] = []
    for path in sorted(paths, key=lambda p: (p.count("/"), p)):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(path)
    return kept
