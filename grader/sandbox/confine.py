"""Confine the current process and all its future children: Landlock and seccomp.

The weakest isolation level (see DESIGN.md, "Isolation levels"): no
namespaces, no private uid, so the kernel's own unprivileged mechanisms fence
student code in before it runs:

* `apply_landlock` limits the filesystem to the folders the caller names,
  denies every TCP bind/connect and keeps signals and abstract unix sockets
  inside the sandbox, as far as the kernel's Landlock ABI allows; since
  ABI 1, Landlock also refuses ptrace-like access (/proc/PID/environ, fd, cwd,
  mem...) to any process outside the sandbox (see apply_landlock for the
  gaps).
* `apply_seccomp` refuses the system calls that reach other processes, the
  kernel's keyrings, BPF, mounts and namespaces, and non-unix sockets.

Both are inherited across fork and exec, and cannot be lifted.

Standard library only (ctypes): this file is copied next to the launcher and
imported as a plain module. Linux x86_64 and aarch64. Everything here is safe
in a freshly forked child of a single-threaded process: no threads, no locks,
no subprocesses.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
import sys
from collections.abc import Iterable

__all__ = ["landlock_abi", "apply_landlock", "apply_seccomp"]

try:
    _libc: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
    _syscall = _libc.syscall
    _syscall.restype = ctypes.c_long
    _prctl = _libc.prctl
    _prctl.restype = ctypes.c_int
except (OSError, AttributeError):  # pragma: no cover - not glibc/musl Linux
    _libc = None

# --- Landlock (include/uapi/linux/landlock.h) --------------------------------

# Same numbers on every architecture (unified syscall table, >= 424).
_NR_LANDLOCK_CREATE_RULESET = 444
_NR_LANDLOCK_ADD_RULE = 445
_NR_LANDLOCK_RESTRICT_SELF = 446

_LANDLOCK_CREATE_RULESET_VERSION = 1 << 0
_LANDLOCK_RULE_PATH_BENEATH = 1

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5

NET_BIND_TCP = 1 << 0  # ABI 4
NET_CONNECT_TCP = 1 << 1  # ABI 4

SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1  # ABI 6

_FS_READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
# The only rights that make sense on a non-directory (the kernel refuses the
# others on a file with EINVAL).
_FS_FILE = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV

_PR_SET_NO_NEW_PRIVS = 38


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),  # ABI >= 4
                ("scoped", ctypes.c_uint64)]  # ABI >= 6


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # __attribute__((packed)): 12 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64),
                ("parent_fd", ctypes.c_int32)]


def _check(result: int, what: str) -> int:
    """Raise OSError(errno) when a libc call returned -1."""
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable (never raises)."""
    try:
        if _libc is None or not sys.platform.startswith("linux"):
            return 0
        version = _syscall(ctypes.c_long(_NR_LANDLOCK_CREATE_RULESET), ctypes.c_void_p(None),
                           ctypes.c_size_t(0), ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
        return max(int(version), 0)
    except Exception:  # noqa: BLE001 - promised never to raise
        return 0


def _fs_rights(abi: int) -> int:
    """Every filesystem right that Landlock ABI `abi` knows (and so can deny)."""
    rights = (1 << 13) - 1  # EXECUTE .. MAKE_SYM, ABI 1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


def _set_no_new_privs() -> None:
    _check(_prctl(ctypes.c_int(_PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0),
                  ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl(PR_SET_NO_NEW_PRIVS)")


def _add_path_rule(ruleset_fd: int, path: str, rights: int) -> bool:
    """Allow `rights` beneath `path`; False when the path is missing or unreachable."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError, PermissionError):
        # Missing, or not even reachable by this uid: nothing to grant.
        return False
    try:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            rights &= _FS_FILE
        if not rights:
            return False
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        _check(_syscall(ctypes.c_long(_NR_LANDLOCK_ADD_RULE), ctypes.c_int(ruleset_fd),
                        ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                        ctypes.c_uint32(0)), f"landlock_add_rule({path!r})")
        return True
    finally:
        os.close(fd)


def apply_landlock(read: Iterable[str | os.PathLike[str]],
                   write: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Restrict this process and its future children: files and folders under `read` may be read
    and executed (read_file, read_dir, execute), under `write` also written, created, removed,
    truncated (everything Landlock knows for the ABI); nothing else of the filesystem is reachable.
    Also, where the ABI has them: deny every TCP bind and connect (ABI >= 4), scope signals and
    abstract unix sockets to the sandbox (ABI >= 6, LANDLOCK_SCOPE_SIGNAL and
    LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET). Sets no_new_privs. Paths that do not exist are skipped;
    a path that is a file (e.g. /dev/null) gets only the file rights. Returns the list of features
    applied, e.g. ["landlock-fs", "landlock-tcp", "landlock-scope"]. Raises OSError if Landlock is
    unavailable or a syscall fails.

    Paths this uid cannot even reach (EACCES on a parent) are skipped like missing ones. A path in
    both lists gets the union of the rights. Landlock also denies, at every ABI, ptrace and the
    ptrace-gated /proc files (environ, maps, mem, cwd, root, fd/N...) of processes outside the
    sandbox.

    What it does NOT cover (measured on 6.18, ABI 7): a caller still holding CAP_PERFMON or
    CAP_SYS_ADMIN keeps reading other processes' /proc/PID/environ, maps and auxv (the kernel's
    mm_access() lets perfmon_capable() tasks past the ptrace check), so never confine a
    privileged process and rely on this; /proc/PID/cmdline, status and the fd/ listing of every
    process stay readable when /proc is in `read`; connecting to a *pathname* unix socket is not
    a filesystem access Landlock checks, wherever the socket lives; UDP is not covered."""
    abi = landlock_abi()
    if abi <= 0:
        raise OSError(errno.EOPNOTSUPP, "Landlock is not available on this kernel")
    fs = _fs_rights(abi)
    attr = _RulesetAttr(handled_access_fs=fs)
    size = 8
    features = ["landlock-fs"]
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP  # no rule: all denied
        size = 16
        features.append("landlock-tcp")
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
        features.append("landlock-scope")

    ruleset_fd = _check(_syscall(ctypes.c_long(_NR_LANDLOCK_CREATE_RULESET), ctypes.byref(attr),
                                 ctypes.c_size_t(size), ctypes.c_uint32(0)),
                        "landlock_create_ruleset")
    try:
        for path in read:
            _add_path_rule(ruleset_fd, os.fspath(path), _FS_READ & fs)
        for path in write:
            _add_path_rule(ruleset_fd, os.fspath(path), fs)
        _set_no_new_privs()
        _check(_syscall(ctypes.c_long(_NR_LANDLOCK_RESTRICT_SELF), ctypes.c_int(ruleset_fd),
                        ctypes.c_uint32(0)), "landlock_restrict_self")
    finally:
        os.close(ruleset_fd)
    return features


# --- seccomp (include/uapi/linux/seccomp.h, filter.h, bpf_common.h) ----------

_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2

_SECCOMP_RET_KILL_PROCESS = 0x80000000
_SECCOMP_RET_ERRNO = 0x00050000
_SECCOMP_RET_ALLOW = 0x7FFF0000

_BPF_LD_W_ABS = 0x00 | 0x00 | 0x20  # BPF_LD | BPF_W | BPF_ABS
_BPF_JEQ_K = 0x05 | 0x10 | 0x00  # BPF_JMP | BPF_JEQ | BPF_K
_BPF_JGE_K = 0x05 | 0x30 | 0x00  # BPF_JMP | BPF_JGE | BPF_K
_BPF_RET_K = 0x06 | 0x00  # BPF_RET | BPF_K

# struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6].
_OFF_NR, _OFF_ARCH, _OFF_ARG0_LOW = 0, 4, 16  # args[0] low half: both arches are little-endian

_AF_UNIX = 1
_X32_SYSCALL_BIT = 0x40000000

# Per-architecture syscall numbers: arch/x86/entry/syscalls/syscall_64.tbl and
# include/uapi/asm-generic/unistd.h (aarch64). From 424 on both share one table.
_ARCHES = {
    "x86_64": {
        "audit_arch": 0xC000003E,
        "x32": True,
        "socket": [41, 53],  # socket, socketpair
        "denied": {
            "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
            "perf_event_open": 298, "bpf": 321,
            "add_key": 248, "request_key": 249, "keyctl": 250,
            "mount": 165, "umount2": 166, "pivot_root": 155, "unshare": 272, "setns": 308,
        },
    },
    "aarch64": {
        "audit_arch": 0xC00000B7,
        "x32": False,
        "socket": [198, 199],  # socket, socketpair
        "denied": {
            "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
            "perf_event_open": 241, "bpf": 280,
            "add_key": 217, "request_key": 218, "keyctl": 219,
            "mount": 40, "umount2": 39, "pivot_root": 41, "unshare": 97, "setns": 268,
        },
    },
}
_DENIED_COMMON = {
    # The new mount API (5.2+; numbers shared by every architecture).
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431, "fsmount": 432,
    "fspick": 433, "mount_setattr": 442, "open_tree_attr": 467,
    # io_uring can create and connect sockets (IORING_OP_SOCKET, 5.19+) without ever
    # calling socket(): deny it, or the socket rule above would be void.
    "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
}


def _uname_machine() -> str:
    return os.uname().machine


def _machine() -> str:
    """'x86_64' or 'aarch64' for a 64-bit process on those, else raise OSError."""
    machine = _uname_machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    bits = 8 * ctypes.sizeof(ctypes.c_void_p)
    if machine not in _ARCHES or bits != 64:
        raise OSError(errno.EOPNOTSUPP, f"no seccomp filter for {machine} ({bits}-bit)")
    return machine


def _filter_program(machine: str) -> list[tuple[int, int, int, int]]:
    """The classic-BPF program as (code, jt, jf, k) instructions."""
    spec = _ARCHES[machine]
    denied = sorted(set(spec["denied"].values()) | set(_DENIED_COMMON.values()))
    sockets = spec["socket"]

    # Labels: jumps hold a label name until resolved (offsets count from the next instruction).
    prog: list[tuple[int, object, object, int]] = [
        (_BPF_LD_W_ABS, 0, 0, _OFF_ARCH),
        (_BPF_JEQ_K, 0, "kill", spec["audit_arch"]),
        (_BPF_LD_W_ABS, 0, 0, _OFF_NR),
    ]
    if spec["x32"]:
        prog.append((_BPF_JGE_K, "kill", 0, _X32_SYSCALL_BIT))
    for nr in denied:
        prog.append((_BPF_JEQ_K, "eperm", 0, nr))
    for nr in sockets:
        prog.append((_BPF_JEQ_K, "socket", 0, nr))
    prog.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW))  # no rule matched
    labels = {"socket": len(prog)}
    prog.append((_BPF_LD_W_ABS, 0, 0, _OFF_ARG0_LOW))  # the family
    prog.append((_BPF_JEQ_K, "allow", "eperm", _AF_UNIX))
    labels["eperm"] = len(prog)
    prog.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_ERRNO | errno.EPERM))
    labels["kill"] = len(prog)
    prog.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_KILL_PROCESS))
    labels["allow"] = len(prog)
    prog.append((_BPF_RET_K, 0, 0, _SECCOMP_RET_ALLOW))

    def resolve(target: object, here: int) -> int:
        if isinstance(target, int):
            return target
        offset = labels[target] - here - 1  # counted from the next instruction, forward only
        if not 0 <= offset <= 255:
            raise AssertionError(f"jump to {target} out of range: {offset}")
        return offset

    out = []
    for i, (code, jt, jf, k) in enumerate(prog):
        out.append((code, resolve(jt, i), resolve(jf, i), k))
    return out


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


def apply_seccomp() -> list[str]:
    """Install a seccomp filter (after no_new_privs) returning EPERM for: ptrace,
    process_vm_readv, process_vm_writev, kcmp, perf_event_open, bpf, keyctl/add_key/request_key,
    socket() with a family other than AF_UNIX (AF_INET, AF_INET6, AF_PACKET, AF_NETLINK...),
    mount/umount2/pivot_root/unshare/setns/open_tree/move_mount/fsopen; SIGKILL-equivalent
    (SECCOMP_RET_KILL_PROCESS) for a foreign architecture (x32 syscalls on x86_64 too).
    Everything else allowed. Returns ["seccomp"]. Raises OSError when it cannot be installed.

    Also EPERM: socketpair() of a non-unix family, the rest of the new mount API (fsconfig,
    fsmount, fspick, mount_setattr, open_tree_attr) and io_uring (which can open sockets without
    socket()). Raises OSError(EOPNOTSUPP) on an architecture other than 64-bit x86_64/aarch64."""
    if _libc is None:
        raise OSError(errno.ENOSYS, "no libc to install a seccomp filter with")
    instructions = _filter_program(_machine())
    filters = (_SockFilter * len(instructions))(*(_SockFilter(*ins) for ins in instructions))
    prog = _SockFprog(len=len(instructions), filter=filters)
    _set_no_new_privs()
    _check(_prctl(ctypes.c_int(_PR_SET_SECCOMP), ctypes.c_ulong(_SECCOMP_MODE_FILTER),
                  ctypes.byref(prog), ctypes.c_ulong(0), ctypes.c_ulong(0)),
           "prctl(PR_SET_SECCOMP)")
    return ["seccomp"]
