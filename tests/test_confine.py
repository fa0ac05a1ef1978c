"""grader/sandbox/confine.py: Landlock and seccomp confinement of the current process.

Confinement cannot be undone, so every check runs in a child interpreter. The
child script (PRELUDE below) forks once: the original process P stays
unconfined and is the "parent" the confined child C attacks; C records each
attempt's outcome and prints them as one JSON object. Each test runs as the
current user and, when that is root, again as nobody (uid 65534, via setpriv),
with the child's working directory in tmp_path so that relative paths work
even though pytest's base temp folder is private to root.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SANDBOX = ROOT / "grader" / "sandbox"
CONFINE = SANDBOX / "confine.py"


def load_confine():
    """confine.py as a standalone module (as the launcher imports it); confines nothing."""
    spec = importlib.util.spec_from_file_location("confine_under_test", CONFINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


confine = load_confine()
ABI = confine.landlock_abi()
MACHINE = platform.machine()

needs_landlock = pytest.mark.skipif(ABI == 0, reason="Landlock is not available on this kernel")

# Syscall numbers, looked up independently of confine.py: arch/x86/entry/syscalls/syscall_64.tbl
# and include/uapi/asm-generic/unistd.h (aarch64).
SYSCALLS = {
    "x86_64": {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
               "perf_event_open": 298, "bpf": 321, "add_key": 248, "request_key": 249,
               "keyctl": 250, "mount": 165, "umount2": 166, "pivot_root": 155, "unshare": 272,
               "setns": 308, "open_tree": 428, "move_mount": 429, "fsopen": 430,
               "io_uring_setup": 425, "getpid": 39, "socket": 41, "socketpair": 53},
    "aarch64": {"ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
                "perf_event_open": 241, "bpf": 280, "add_key": 217, "request_key": 218,
                "keyctl": 219, "mount": 40, "umount2": 39, "pivot_root": 41, "unshare": 97,
                "setns": 268, "open_tree": 428, "move_mount": 429, "fsopen": 430,
                "io_uring_setup": 425, "getpid": 172, "socket": 198, "socketpair": 199},
}
# What the filter answers EPERM to, whatever the arguments.
FILTERED = ("ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "perf_event_open", "bpf",
            "add_key", "request_key", "keyctl", "mount", "umount2", "pivot_root", "unshare",
            "setns", "open_tree", "move_mount", "fsopen", "io_uring_setup")
needs_seccomp_arch = pytest.mark.skipif(
    MACHINE not in SYSCALLS or sys.maxsize < 2**32,
    reason=f"seccomp filter only for 64-bit x86_64/aarch64, not {MACHINE}")

EPERM, EACCES = 1, 13
DENIED = ["PermissionError", EACCES]  # what Landlock answers for files, signals, sockets
EXPECTED_FEATURES = ["landlock-fs"] + (["landlock-tcp"] if ABI >= 4 else []) + (
    ["landlock-scope"] if ABI >= 6 else [])

PRELUDE = r'''
import ctypes, errno, json, os, signal, site, socket, subprocess, sys, sysconfig
PARAMS = json.loads(sys.argv[1])
sys.path.insert(0, PARAMS["sandbox"])
import confine

SYSTEM = ["/usr", "/lib", "/lib64", "/etc", "/bin", "/proc", "/sys", "/dev"]


def interpreter_paths():
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(sysconfig.get_paths().values())
    paths.update(site.getsitepackages())
    return sorted(paths)


READ = interpreter_paths() + SYSTEM
# For exec'ed grandchildren: as nobody the venv's interpreter may be unreachable by path (it links
# into root's home); the running one was exec'd by setpriv while it still held root's capabilities.
PY = sys.executable if os.access(sys.executable, os.X_OK) else "/usr/bin/python3"
R = {}


def attempt(name, fn):
    try:
        value = fn()
        R[name] = ["ok", value if isinstance(value, (bool, int, float, str, list)) else None]
    except OSError as exc:
        R[name] = [type(exc).__name__, exc.errno]
    except Exception as exc:
        R[name] = [type(exc).__name__, str(exc)]


LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long


def raw_syscall(nr, *args):
    """[return value, errno or 0]"""
    ctypes.set_errno(0)
    result = LIBC.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
    return [result, ctypes.get_errno() if result < 0 else 0]


def read(path, mode="r"):
    with open(path, mode) as handle:
        return len(handle.read())


def write(path, text="x", mode="w"):
    with open(path, mode) as handle:
        return handle.write(text)


signal.signal(signal.SIGUSR1, signal.SIG_IGN)
_child = os.fork()
if _child:
    _, _status = os.waitpid(_child, 0)
    _code = os.waitstatus_to_exitcode(_status)
    os._exit(128 - _code if _code < 0 else _code)
signal.signal(signal.SIGUSR1, signal.SIG_DFL)
'''

EPILOGUE = r'''
print(json.dumps(R))
sys.stdout.flush()
os._exit(0)
'''


def nobody_can_run() -> str | None:
    """None when the venv's interpreter runs as uid 65534, else why not."""
    if os.geteuid() != 0:
        return "not root: cannot switch to nobody"
    if shutil.which("setpriv") is None:
        return "setpriv is not installed"
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           sys.executable, "-I", "-c", "import numpy"],
                          capture_output=True, timeout=60)
    if done.returncode:
        return f"the venv does not run as nobody: {done.stderr[-300:]!r}"
    return None


_NOBODY_PROBLEM: list[str | None] = []


@pytest.fixture(params=["self", "nobody"])
def user(request) -> str:
    """Run the child as the current user, then (when root) as nobody."""
    if request.param == "nobody":
        if not _NOBODY_PROBLEM:
            _NOBODY_PROBLEM.append(nobody_can_run())
        if _NOBODY_PROBLEM[0]:
            pytest.skip(_NOBODY_PROBLEM[0])
    return request.param


@pytest.fixture
def run_child(tmp_path, user):
    """Run PRELUDE + body in a child interpreter (cwd tmp_path) and return its R."""
    tmp_path.chmod(0o755)

    def run(body: str, **params) -> dict:
        script = PRELUDE + textwrap.dedent(body) + EPILOGUE
        params = {"sandbox": str(SANDBOX), "test_pid": os.getpid(), **params}
        command = [sys.executable, "-I", "-c", script, json.dumps(params)]
        if user == "nobody":
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        return json.loads(done.stdout.strip().splitlines()[-1])

    return run


def make_tree(tmp_path: Path) -> None:
    """inside/ (read rule), outside/ (no rule), scratch/ (write rule); DAC lets nobody do all."""
    for name in ("inside", "outside", "scratch"):
        (tmp_path / name).mkdir()
        (tmp_path / name).chmod(0o777)
    for name, text in (("inside/data.txt", "inside data"), ("outside/secret.txt", "the secret")):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o666)


# --- in-process checks (nothing here confines the test process) -----------------------------


def test_confine_imports_only_the_standard_library():
    tree = ast.parse(CONFINE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            imported.add(node.module.split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
    done = subprocess.run([sys.executable, "-I", "-c",
                           "import sys; sys.path.insert(0, sys.argv[1]); import confine; "
                           "print(sorted(m for m in sys.modules"
                           " if m.split('.')[0] in ('grader', 'numpy')))",
                           str(SANDBOX)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_landlock_abi_is_an_int_and_never_raises(monkeypatch):
    assert isinstance(ABI, int) and ABI >= 0
    module = load_confine()

    def broken(*args):
        raise OSError("no syscall")

    monkeypatch.setattr(module, "_syscall", broken)
    assert module.landlock_abi() == 0
    monkeypatch.setattr(module, "_libc", None)
    assert module.landlock_abi() == 0


def test_apply_landlock_raises_when_unavailable(monkeypatch):
    module = load_confine()
    monkeypatch.setattr(module, "landlock_abi", lambda: 0)
    with pytest.raises(OSError):
        module.apply_landlock(["/usr"], [])


def test_apply_seccomp_raises_on_a_foreign_architecture(monkeypatch):
    module = load_confine()
    monkeypatch.setattr(module, "_uname_machine", lambda: "riscv64")
    with pytest.raises(OSError):
        module.apply_seccomp()


# A tiny classic-BPF interpreter, to check the filter for both architectures (aarch64 cannot
# run here) against the syscall numbers above.
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7, "i386": 0x40000003, "arm": 0x40000028}
RET_ALLOW, RET_EPERM, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000 | EPERM, 0x80000000


def run_filter(program, nr: int, arch: int, arg0: int = 0) -> int:
    data = {0: nr & 0xFFFFFFFF, 4: arch, 16: arg0 & 0xFFFFFFFF}
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        if code == 0x20:  # ld [k]
            acc = data[k]
            pc += 1
        elif code == 0x06:  # ret k
            return k
        elif code == 0x15:  # jeq k
            pc += 1 + (jt if acc == k else jf)
        elif code == 0x35:  # jge k
            pc += 1 + (jt if acc >= k else jf)
        else:
            raise AssertionError(f"unexpected BPF opcode {code:#x}")


@pytest.mark.parametrize("machine", sorted(SYSCALLS))
def test_seccomp_filter_program(machine):
    program = confine._filter_program(machine)
    assert len(program) < 256
    for code, jt, jf, k in program:
        assert 0 <= jt <= 255 and 0 <= jf <= 255
    numbers = SYSCALLS[machine]
    arch = AUDIT_ARCH[machine]
    for name in FILTERED:
        assert run_filter(program, numbers[name], arch) == RET_EPERM, name
    for family in (2, 10, 16, 17):  # AF_INET, AF_INET6, AF_NETLINK, AF_PACKET
        assert run_filter(program, numbers["socket"], arch, family) == RET_EPERM
        assert run_filter(program, numbers["socketpair"], arch, family) == RET_EPERM
    assert run_filter(program, numbers["socket"], arch, 1) == RET_ALLOW  # AF_UNIX
    assert run_filter(program, numbers["socketpair"], arch, 1) == RET_ALLOW
    for nr in (0, 1, 2, 3, numbers["getpid"], 56, 57, 59, 220, 221, 435, 444, 445, 446):
        if nr not in numbers.values() and nr not in (425, 426, 427, 428, 429, 430):
            assert run_filter(program, nr, arch) == RET_ALLOW, nr
    for foreign in set(AUDIT_ARCH.values()) - {arch}:
        assert run_filter(program, numbers["getpid"], foreign) == RET_KILL_PROCESS
    if machine == "x86_64":
        assert run_filter(program, 0x40000000 | 39, arch) == RET_KILL_PROCESS  # x32 getpid


# --- Landlock in a child ----------------------------------------------------------------------


@needs_landlock
def test_filesystem(run_child, tmp_path):
    make_tree(tmp_path)
    result = run_child('''
        attempt("control_outside_read", lambda: read("outside/secret.txt"))
        R["features"] = confine.apply_landlock(READ + ["inside", "no/such/folder"],
                                               ["scratch", "/dev/null", "no/such/scratch"])
        attempt("inside_read", lambda: read("inside/data.txt"))
        attempt("inside_list", lambda: sorted(os.listdir("inside")))
        attempt("outside_read", lambda: read("outside/secret.txt"))
        attempt("outside_list", lambda: os.listdir("outside"))
        attempt("cwd_list", lambda: os.listdir("."))
        attempt("repo_read", lambda: read(PARAMS["repo_file"]))
        attempt("stdlib", lambda: [__import__(m).__name__
                                   for m in ("decimal", "sqlite3", "email.mime.text")])
        attempt("numpy", lambda: float(__import__("numpy").arange(5).sum()))
        attempt("scratch_write", lambda: write("scratch/out.txt", "hello"))
        attempt("scratch_read_back", lambda: read("scratch/out.txt"))
        attempt("scratch_truncate", lambda: os.truncate("scratch/out.txt", 1))
        attempt("scratch_mkdir_rmdir", lambda: (os.mkdir("scratch/d"), os.rmdir("scratch/d"))[1])
        attempt("scratch_unlink",
                lambda: (write("scratch/gone.txt"), os.unlink("scratch/gone.txt"))[1])
        attempt("scratch_symlink", lambda: os.symlink("out.txt", "scratch/link"))
        attempt("outside_create", lambda: write("outside/new.txt"))
        attempt("outside_append", lambda: write("outside/secret.txt", mode="a"))
        attempt("outside_unlink", lambda: os.unlink("outside/secret.txt"))
        attempt("inside_append", lambda: write("inside/data.txt", mode="a"))
        attempt("inside_create", lambda: write("inside/new.txt"))
        attempt("inside_truncate", lambda: os.truncate("inside/data.txt", 0))
        attempt("move_out", lambda: os.rename("scratch/out.txt", "outside/moved.txt"))
        attempt("devnull_write", lambda: write("/dev/null"))
        attempt("devzero_write", lambda: write("/dev/zero"))
        attempt("no_new_privs", lambda: [l.split()[1] for l in open("/proc/self/status")
                                         if l.startswith("NoNewPrivs")][0])
        child = subprocess.run([PY, "-I", "-c",
                                "import os\\ntry:\\n"
                                " open('outside/secret.txt').read(); print('read')\\n"
                                "except PermissionError: print('denied')\\n"
                                "open('scratch/from-child.txt', 'w').write('x'); print('wrote')"],
                               capture_output=True, text=True)
        R["grandchild"] = [child.returncode, child.stdout.split(), child.stderr[-500:]]
    ''', repo_file=str(ROOT / "pyproject.toml"))
    assert result["features"] == EXPECTED_FEATURES
    assert result["control_outside_read"] == ["ok", len("the secret")]
    assert result["inside_read"] == ["ok", len("inside data")]
    assert result["inside_list"] == ["ok", ["data.txt"]]
    for name in ("outside_read", "outside_list", "cwd_list", "repo_read", "outside_create",
                 "outside_append", "outside_unlink", "inside_append", "inside_create",
                 "inside_truncate", "devzero_write"):
        assert result[name] == DENIED, (name, result[name])
    # EACCES, or EXDEV for a move that Landlock's "refer" right forbids
    assert result["move_out"] in (DENIED, ["OSError", 18]), result["move_out"]
    for name in ("stdlib", "numpy", "scratch_write", "scratch_read_back", "scratch_truncate",
                 "scratch_mkdir_rmdir", "scratch_unlink", "scratch_symlink", "devnull_write"):
        assert result[name][0] == "ok", (name, result[name])
    assert result["numpy"] == ["ok", 10.0]
    assert result["no_new_privs"] == ["ok", "1"]
    assert result["grandchild"][:2] == [0, ["denied", "wrote"]], result["grandchild"]
    assert (tmp_path / "outside" / "secret.txt").read_text() == "the secret"
    assert not (tmp_path / "outside" / "new.txt").exists()
    assert (tmp_path / "scratch" / "from-child.txt").exists()


@needs_landlock
def test_parent_process_is_out_of_reach(run_child):
    """Landlock's ptrace scoping: a sandboxed process cannot inspect one outside its domain.

    Kernel exception (mm_access): a process with CAP_PERFMON or CAP_SYS_ADMIN may still open
    the PTRACE_MODE_READ files (environ, maps, auxv) of any process, Landlock or not. So a
    confined root keeps that, and loses it once those two capabilities are dropped.
    """
    result = run_child('''
        ppid = os.getppid()
        attempt("control_environ", lambda: read(f"/proc/{ppid}/environ", "rb"))
        attempt("control_cwd", lambda: len(os.listdir(f"/proc/{ppid}/cwd")))
        attempt("control_fd1", lambda: os.readlink(f"/proc/{ppid}/fd/1"))
        confine.apply_landlock(READ, [])
        cap_eff = int([line for line in open("/proc/self/status")
                       if line.startswith("CapEff")][0].split()[1], 16)
        R["perfmon_capable"] = bool(cap_eff & (1 << 21 | 1 << 38))  # CAP_SYS_ADMIN, CAP_PERFMON

        def probe(prefix, target):
            attempt(prefix + "environ", lambda: read(f"/proc/{target}/environ", "rb"))
            attempt(prefix + "maps", lambda: read(f"/proc/{target}/maps", "rb"))
            attempt(prefix + "cwd", lambda: os.listdir(f"/proc/{target}/cwd"))
            attempt(prefix + "fd1", lambda: os.close(os.open(f"/proc/{target}/fd/1", os.O_WRONLY)))
            attempt(prefix + "fd1_link", lambda: os.readlink(f"/proc/{target}/fd/1"))
            attempt(prefix + "mem", lambda: read(f"/proc/{target}/mem", "rb"))
            attempt(prefix + "root", lambda: os.listdir(f"/proc/{target}/root"))

        probe("", ppid)
        probe("test_", PARAMS["test_pid"])
        attempt("own_environ", lambda: read("/proc/self/environ", "rb"))
        attempt("own_fds", lambda: len(os.listdir("/proc/self/fd")))

        class CapHeader(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class CapData(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]

        def without_perfmon():  # in a grandchild: drop CAP_SYS_ADMIN and CAP_PERFMON, probe again
            reader, writer = os.pipe()
            pid = os.fork()
            if pid == 0:
                header, data = CapHeader(0x20080522, 0), (CapData * 2)()
                assert LIBC.capget(ctypes.byref(header), data) == 0
                for bit in (21, 38):
                    data[bit // 32].effective &= ~(1 << bit % 32)
                    data[bit // 32].permitted &= ~(1 << bit % 32)
                assert LIBC.capset(ctypes.byref(header), data) == 0
                R.clear()
                probe("", ppid)
                os.write(writer, json.dumps(R).encode())
                os._exit(0)
            os.close(writer)
            with os.fdopen(reader) as pipe:
                text = pipe.read()
            os.waitpid(pid, 0)
            return json.loads(text)

        R["dropped"] = without_perfmon()
    ''')
    assert result["control_environ"][0] == "ok"
    assert result["control_cwd"] == ["ok", 0]
    assert result["control_fd1"][0] == "ok"
    always = ("cwd", "fd1", "fd1_link", "mem", "root")
    mm_read = ("environ", "maps")
    for prefix in ("", "test_"):
        for name in always + (() if result["perfmon_capable"] else mm_read):
            assert result[prefix + name] == DENIED, (prefix + name, result[prefix + name])
    for name in always + mm_read:
        assert result["dropped"][name] == DENIED, (name, result["dropped"][name])
    assert result["own_environ"][0] == "ok"
    assert result["own_fds"][0] == "ok"


@needs_landlock
@pytest.mark.skipif(ABI < 6, reason=f"signal scoping needs Landlock ABI 6 (kernel has {ABI})")
def test_signals_are_scoped_to_the_sandbox(run_child):
    result = run_child('''
        ppid = os.getppid()
        attempt("control_kill_parent", lambda: os.kill(ppid, signal.SIGUSR1))
        R["features"] = confine.apply_landlock(READ, [])
        attempt("kill_parent", lambda: os.kill(ppid, signal.SIGUSR1))
        attempt("probe_parent", lambda: os.kill(ppid, 0))
        attempt("kill_test", lambda: os.kill(PARAMS["test_pid"], 0))  # 0: never harm pytest
        attempt("kill_self", lambda: os.kill(os.getpid(), 0))

        def own_child():
            pid = os.fork()
            if pid == 0:
                while True:
                    signal.pause()
            os.kill(pid, signal.SIGTERM)
            _, status = os.waitpid(pid, 0)
            return os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1

        attempt("kill_own_child", own_child)
        child = subprocess.Popen([PY, "-I", "-c", "import time; time.sleep(60)"])
        attempt("kill_own_exec_child", lambda: os.kill(child.pid, signal.SIGKILL))
        R["exec_child_status"] = child.wait()
    ''')
    assert "landlock-scope" in result["features"]
    assert result["control_kill_parent"] == ["ok", None]
    for name in ("kill_parent", "probe_parent", "kill_test"):
        assert result[name][0] == "PermissionError", (name, result[name])
    assert result["kill_self"] == ["ok", None]
    assert result["kill_own_child"] == ["ok", signal.SIGTERM]
    assert result["kill_own_exec_child"] == ["ok", None]
    assert result["exec_child_status"] == -signal.SIGKILL


@needs_landlock
@pytest.mark.skipif(ABI < 6,
                    reason=f"abstract unix socket scoping needs Landlock ABI 6 (kernel has {ABI})")
def test_abstract_unix_sockets_outside_are_unreachable(run_child):
    name = f"gradecheck-confine-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
        listener.bind("\0" + name)
        listener.listen(8)
        result = run_child('''
            def connect():
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect("\\0" + PARAMS["name"])
            attempt("control", connect)
            confine.apply_landlock(READ, [])
            attempt("connect", connect)

            def own():  # an abstract socket made inside the sandbox stays usable
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
                    server.bind("\\0" + PARAMS["name"] + "-inner")
                    server.listen(1)
                    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                        s.connect("\\0" + PARAMS["name"] + "-inner")
            attempt("own", own)
        ''', name=name)
    assert result["control"] == ["ok", None]
    assert result["connect"][0] == "PermissionError", result["connect"]
    assert result["own"] == ["ok", None]


@needs_landlock
@pytest.mark.skipif(ABI < 4, reason=f"TCP rules need Landlock ABI 4 (kernel has {ABI})")
def test_tcp_bind_and_connect_are_denied(run_child):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        result = run_child('''
            def connect():
                with socket.create_connection(("127.0.0.1", PARAMS["port"]), timeout=5):
                    pass

            def bind():
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                    s.bind(("127.0.0.1", 0))
                    s.listen(1)
            attempt("control_connect", connect)
            attempt("control_bind", bind)
            R["features"] = confine.apply_landlock(READ, [])
            attempt("connect", connect)
            attempt("bind", bind)
        ''', port=port)
    assert "landlock-tcp" in result["features"]
    assert result["control_connect"] == ["ok", None]
    assert result["control_bind"] == ["ok", None]
    assert result["connect"] == DENIED
    assert result["bind"] == DENIED


@needs_landlock
@pytest.mark.parametrize("abi", range(1, 8))
def test_lower_abis_degrade(tmp_path, abi):
    """Pretend the kernel has an older ABI: the smaller ruleset is accepted and still confines."""
    if abi > ABI:
        pytest.skip(f"kernel has Landlock ABI {ABI}")
    make_tree(tmp_path)
    script = PRELUDE + textwrap.dedent('''
        confine.landlock_abi = lambda: PARAMS["abi"]
        R["features"] = confine.apply_landlock(READ + ["inside"], ["scratch"])
        attempt("inside_read", lambda: read("inside/data.txt"))
        attempt("outside_read", lambda: read("outside/secret.txt"))
        attempt("scratch_write", lambda: write("scratch/a.txt", "abc"))
        attempt("scratch_rewrite", lambda: write("scratch/a.txt", "d"))
        attempt("numpy", lambda: float(__import__("numpy").ones(3).sum()))
    ''') + EPILOGUE
    params = json.dumps({"sandbox": str(SANDBOX), "abi": abi})
    done = subprocess.run([sys.executable, "-I", "-c", script, params], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["features"] == ["landlock-fs"] + (["landlock-tcp"] if abi >= 4 else []) + (
        ["landlock-scope"] if abi >= 6 else [])
    assert result["inside_read"][0] == "ok"
    assert result["outside_read"] == DENIED
    assert result["scratch_write"] == ["ok", 3]
    assert result["scratch_rewrite"] == ["ok", 1]
    assert result["numpy"] == ["ok", 3.0]


@needs_landlock
def test_torch_imports_under_landlock(run_child):
    """torch needs /dev/urandom at import (std::random_device); the usual read list has it."""
    if importlib.util.find_spec("torch") is None:
        pytest.skip("torch is not installed")
    result = run_child('''
        confine.apply_landlock(READ, ["/dev/null"])
        confine.apply_seccomp()
        attempt("torch", lambda: float(__import__("torch").ones(4).sum()))
    ''')
    assert result["torch"] == ["ok", 4.0]


# --- seccomp in a child -----------------------------------------------------------------------


def yama_scope() -> int:
    try:
        return int(Path("/proc/sys/kernel/yama/ptrace_scope").read_text())
    except (OSError, ValueError):
        return 0


@needs_seccomp_arch
def test_seccomp(run_child):
    result = run_child('''
        N = PARAMS["nr"]
        PTRACE_ATTACH = 16

        def attach_own_child():
            pid = os.fork()
            if pid == 0:
                while True:
                    signal.pause()
            try:
                return raw_syscall(N["ptrace"], PTRACE_ATTACH, pid, 0, 0)
            finally:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)

        def vm_readv():  # nothing to copy: 0 when allowed
            return raw_syscall(N["process_vm_readv"], os.getpid(), 0, 0, 0, 0, 0)

        def new_socket(family, kind=socket.SOCK_STREAM, proto=0):
            socket.socket(family, kind, proto).close()

        R["control_vm_readv"] = vm_readv()
        R["control_attach_child"] = attach_own_child()
        R["control_unshare0"] = raw_syscall(N["unshare"], 0)
        attempt("control_netlink", lambda: new_socket(socket.AF_NETLINK, socket.SOCK_RAW))
        R["features"] = confine.apply_seccomp()
        R["vm_readv"] = vm_readv()
        R["vm_writev"] = raw_syscall(N["process_vm_writev"], os.getpid(), 0, 0, 0, 0, 0)
        R["attach_parent"] = raw_syscall(N["ptrace"], PTRACE_ATTACH, os.getppid(), 0, 0)
        R["attach_child"] = attach_own_child()
        R["kcmp"] = raw_syscall(N["kcmp"], os.getpid(), os.getpid(), 0, 0, 0)
        R["perf_event_open"] = raw_syscall(N["perf_event_open"], 0, 0, -1, -1, 0)
        R["bpf"] = raw_syscall(N["bpf"], 0, 0, 0)
        R["keyctl"] = raw_syscall(N["keyctl"], 0, -3, 0, 0, 0)  # KEYCTL_GET_KEYRING_ID, session
        R["add_key"] = raw_syscall(N["add_key"], 0, 0, 0, 0, -3)
        R["request_key"] = raw_syscall(N["request_key"], 0, 0, 0, 0)
        R["mount"] = raw_syscall(N["mount"], 0, 0, 0, 0, 0)
        R["umount2"] = raw_syscall(N["umount2"], 0, 0)
        R["pivot_root"] = raw_syscall(N["pivot_root"], 0, 0)
        R["unshare0"] = raw_syscall(N["unshare"], 0)
        R["setns"] = raw_syscall(N["setns"], -1, 0)
        R["open_tree"] = raw_syscall(N["open_tree"], -1, 0, 0)
        R["move_mount"] = raw_syscall(N["move_mount"], -1, 0, -1, 0, 0)
        R["fsopen"] = raw_syscall(N["fsopen"], 0, 0)
        R["io_uring_setup"] = raw_syscall(N["io_uring_setup"], 1, 0)
        attempt("inet", lambda: new_socket(socket.AF_INET))
        attempt("inet_udp", lambda: new_socket(socket.AF_INET, socket.SOCK_DGRAM))
        attempt("inet6", lambda: new_socket(socket.AF_INET6))
        attempt("netlink", lambda: new_socket(socket.AF_NETLINK, socket.SOCK_RAW))
        attempt("packet", lambda: new_socket(socket.AF_PACKET, socket.SOCK_RAW))
        attempt("unix", lambda: new_socket(socket.AF_UNIX))
        attempt("unix_dgram", lambda: new_socket(socket.AF_UNIX, socket.SOCK_DGRAM))
        attempt("unix_pair", lambda: [s.close() for s in socket.socketpair()] and None)
        attempt("getpid", lambda: raw_syscall(N["getpid"]) == [os.getpid(), 0])
        attempt("numpy", lambda: float(__import__("numpy").arange(4).sum()))
        child = subprocess.run([PY, "-I", "-c", "import socket\\ntry:\\n socket.socket()\\n"
                                "except PermissionError as e: print(e.errno)"],
                               capture_output=True, text=True)
        R["grandchild"] = [child.returncode, child.stdout.strip()]
    ''', nr=SYSCALLS[MACHINE])
    eperm = [-1, EPERM]
    assert result["features"] == ["seccomp"]
    assert result["control_vm_readv"] == [0, 0]
    if yama_scope() < 2:
        assert result["control_attach_child"] == [0, 0]
    assert result["control_unshare0"] == [0, 0]
    assert result["control_netlink"] == ["ok", None]
    for name in ("vm_readv", "vm_writev", "attach_parent", "attach_child", "kcmp",
                 "perf_event_open", "bpf", "keyctl", "add_key", "request_key", "mount", "umount2",
                 "pivot_root", "unshare0", "setns", "open_tree", "move_mount", "fsopen",
                 "io_uring_setup"):
        assert result[name] == eperm, (name, result[name])
    for name in ("inet", "inet_udp", "inet6", "netlink", "packet"):
        assert result[name] == ["PermissionError", EPERM], (name, result[name])
    for name in ("unix", "unix_dgram", "unix_pair"):
        assert result[name] == ["ok", None], (name, result[name])
    assert result["getpid"] == ["ok", True]
    assert result["numpy"] == ["ok", 6.0]
    assert result["grandchild"] == [0, str(EPERM)]


@needs_seccomp_arch
@pytest.mark.skipif(MACHINE != "x86_64", reason="x32 and i386 system calls exist on x86_64 only")
def test_seccomp_kills_foreign_architecture_calls(run_child):
    result = run_child('''
        import mmap

        def in_grandchild(fn, filtered):
            pid = os.fork()
            if pid == 0:
                if filtered:
                    confine.apply_seccomp()
                fn()
                os._exit(0)
            _, status = os.waitpid(pid, 0)
            return os.waitstatus_to_exitcode(status)

        def x32_getpid():
            LIBC.syscall(ctypes.c_long(0x40000000 | 39))

        # mov eax, 20 (i386 getpid); int 0x80; ret
        code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        code.write(bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3]))
        address = ctypes.addressof(ctypes.c_char.from_buffer(code))
        i386_getpid = ctypes.CFUNCTYPE(ctypes.c_int)(address)

        R["control_x32"] = in_grandchild(x32_getpid, False)
        R["control_i386"] = in_grandchild(i386_getpid, False)
        R["native"] = in_grandchild(lambda: raw_syscall(39), True)
        R["x32"] = in_grandchild(x32_getpid, True)
        R["i386"] = in_grandchild(i386_getpid, True)
    ''')
    assert result["control_x32"] == 0
    assert result["native"] == 0
    assert result["x32"] == -signal.SIGSYS
    if result["control_i386"] == 0:  # else the kernel has no 32-bit emulation (int 0x80 faults)
        assert result["i386"] == -signal.SIGSYS


@needs_landlock
@needs_seccomp_arch
def test_landlock_and_seccomp_together(run_child, tmp_path):
    """The launcher's order: Landlock, then seccomp; both hold in exec'ed children."""
    make_tree(tmp_path)
    result = run_child('''
        R["features"] = confine.apply_landlock(READ + ["inside"], ["scratch", "/dev/null"])
        R["features"] += confine.apply_seccomp()
        attempt("numpy", lambda: float(__import__("numpy").arange(3).sum()))
        probe = ("import os, socket\\n"
                 "try: open('outside/secret.txt').read(); print('read')\\n"
                 "except PermissionError: print('no-read')\\n"
                 "try: socket.socket(); print('socket')\\n"
                 "except PermissionError: print('no-socket')\\n"
                 "try: os.kill(os.getppid(), 0); print('signal')\\n"
                 "except PermissionError: print('no-signal')\\n")
        child = subprocess.run([PY, "-I", "-c", probe], capture_output=True, text=True)
        R["grandchild"] = [child.returncode, child.stdout.split(), child.stderr[-300:]]
    ''')
    assert result["features"] == EXPECTED_FEATURES + ["seccomp"]
    assert result["numpy"] == ["ok", 3.0]
    assert result["grandchild"][0] == 0, result["grandchild"]
    # The grandchild's parent is the confined child itself: same domain, so it may signal it.
    assert result["grandchild"][1] == ["no-read", "no-socket", "signal"]
