"""The sandbox on its own: wire format, worker lifecycle, limits, isolation, clean-up.

Student files here use the numpy library so that a worker starts in a
fraction of a second (no torch import); the end-to-end attack suite is in
test_attacks.py.
"""

from __future__ import annotations

import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import jail, protocol, reaper
from grader.sandbox.client import CallOutcome, Sandbox, student_time
from grader.sandbox.environment import PASSED_THROUGH
from grader.sandbox.limits import Limits
from grader.sandbox.outcomes import describe_exit
from grader.sandbox.values import Opaque, decode_value

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "softmax_lab.py"
AS_ROOT = os.geteuid() == 0
FAST = Limits(call_seconds=3, import_seconds=20, total_seconds=60)


def processes_with(marker: str) -> list[int]:
    """Live processes whose command line or name contains `marker`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
            with open(f"/proc/{entry}/comm", encoding="utf-8", errors="replace") as handle:
                comm = handle.read()
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X") and (marker in cmdline or marker in comm):
            found.append(int(entry))
    return found


@pytest.fixture
def sandbox_for(tmp_path):
    """Make a numpy sandbox for a student source; every sandbox is closed after the test."""
    made: list[Sandbox] = []

    def make(source: str, limits: Limits = FAST, isolate: bool = True) -> Sandbox:
        path = tmp_path / f"student_{len(made)}.py"
        path.write_text(textwrap.dedent(source))
        box = Sandbox(path, module="student", library="numpy", limits=limits, isolate=isolate)
        made.append(box)
        return box

    yield make
    for box in made:
        box.close()


# -- wire format ---------------------------------------------------------------

def test_arrays_round_trip_exactly():
    for array in (np.arange(12, dtype=np.float32).reshape(3, 4), np.array(True), np.zeros((0, 3)),
                  np.array([np.nan, np.inf, -0.0]), np.arange(5, dtype=np.int64)[::2]):
        back = protocol.decode_array(protocol.encode_array(array, "numpy"))
        assert back.dtype == array.dtype and back.shape == array.shape
        assert np.array_equal(back, array, equal_nan=True)


@pytest.mark.parametrize("bad", [
    {"t": "array", "dtype": "object", "shape": [1], "data": ""},
    {"t": "array", "dtype": "float32", "shape": [2], "data": "AAAA"},
    {"t": "array", "dtype": "float32", "shape": [-1], "data": ""},
    {"t": "array", "dtype": "float32", "shape": [1], "data": "!!!!"},
    {"t": "pickle", "data": "gASV"},
    {"t": "tuple"},
])
def test_malformed_values_are_protocol_errors(bad):
    with pytest.raises(protocol.ProtocolError):
        decode_value(bad)


def test_deep_nesting_is_refused():
    value = 1.0
    for _ in range(20):
        value = {"t": "list", "items": [value]}
    with pytest.raises(protocol.ProtocolError):
        decode_value(value)


def test_opaque_values_are_described_not_rebuilt():
    assert decode_value({"t": "opaque", "type": "generator", "repr": "<gen>"}) == Opaque("generator", "<gen>")


def _frame_reader(data: bytes, deadline: float):
    read, write = os.pipe()
    try:
        os.write(write, data)
        return protocol.receive(read, time.monotonic() + deadline)
    finally:
        os.close(read)
        os.close(write)


@pytest.mark.parametrize("data, error", [
    (struct.pack(">I", 2**31) + b"junk", protocol.ProtocolError),
    (struct.pack(">I", 10) + b"[1, 2, 3] ", protocol.ProtocolError),
    (struct.pack(">I", 4) + b"\xff\xfe{}", protocol.ProtocolError),
    (struct.pack(">I", 100) + b"{", protocol.ChannelTimeout),  # the rest never comes
    (b"\x00\x00", protocol.ChannelTimeout),
])
def test_garbage_and_truncated_frames_fail_cleanly(data, error):
    with pytest.raises(error):
        _frame_reader(data, 0.2)


# -- calls -----------------------------------------------------------------------

def test_calls_return_values_and_report_mutation(sandbox_for):
    box = sandbox_for("""
        import numpy as np
        def double(a):
            return a * 2
        def scale_in_place(a):
            a *= 3
            return a
        def pair(a):
            return a.sum(), [1, None, "x"]
    """)
    out = box.call("double", np.ones(3, dtype=np.float32))
    assert out.ok and out.value.tolist() == [2, 2, 2] and out.value.lib == "numpy"
    out = box.call("scale_in_place", np.ones(2))
    assert out.ok and out.mutated == [0]
    out = box.call("pair", np.ones(2))
    assert out.ok and out.value[0] == 2.0 and out.value[1] == [1, None, "x"]


ENVIRONMENT_PROBE = """
    import os, sys
    def facts(a):
        return [os.environ.get("HOME", ""), os.environ.get("GRADECHECK_SANDBOX_TOKEN", ""),
                os.environ.get("OPENBLAS_NUM_THREADS", ""), sys.flags.dont_write_bytecode,
                sorted(k for k in os.environ if not k.startswith(("GRADECHECK_", "LC_")))]
"""


@pytest.mark.parametrize("zygote", ["1", "0"], ids=["zygote", "fresh-interpreter"])
def test_forked_and_exec_workers_look_the_same(sandbox_for, monkeypatch, zygote):
    """A worker forked by the zygote sees what a freshly started one sees."""
    monkeypatch.setenv("GRADECHECK_ZYGOTE", zygote)
    box = sandbox_for(ENVIRONMENT_PROBE)
    out = box.call("facts", 1)
    assert out.ok, out.message
    home, token, blas, no_bytecode, names = out.value
    assert home == str(box.work) and token == box.token and blas == "1" and no_bytecode
    # the machine's OpenBLAS core settings pass through when set (they keep it from crashing)
    passed = sorted(name for name in PASSED_THROUGH if name in os.environ)
    assert names == sorted(["HOME", "LANG", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PATH",
                            "PYTHONDONTWRITEBYTECODE", "PYTHONHASHSEED", "TMPDIR", *passed])
    assert (box._spawned is not None) == (zygote == "1")


@pytest.mark.parametrize("zygote", ["1", "0"], ids=["zygote", "fresh-interpreter"])
def test_worker_holds_no_descriptor_of_the_judge_or_zygote(sandbox_for, monkeypatch, zygote):
    """Only stdio, the worker's own two channel ends and the arguments arena, moved above 100."""
    monkeypatch.setenv("GRADECHECK_ZYGOTE", zygote)
    box = sandbox_for("""
        import os
        def fds(a):
            found = []
            for entry in os.listdir("/proc/self/fd"):
                try:
                    found.append([int(entry), os.readlink(f"/proc/self/fd/{entry}")])
                except OSError:
                    pass  # the listing's own descriptor, closed by now
            return sorted(found)
    """)
    out = box.call("fds", 1)
    assert out.ok, out.message
    numbers = [fd for fd, _ in out.value]
    assert numbers[:3] == [0, 1, 2], out.value
    pipes = [fd for fd, target in out.value[3:] if target.startswith("pipe:")]
    assert len(pipes) == 2 and all(fd >= 100 for fd in pipes), out.value  # request and response
    # the rest is the arguments arena only (Python's mmap keeps a descriptor of its own)
    assert all("gradecheck-arguments" in target for fd, target in out.value[3:] if fd not in pipes), out.value


def test_a_dead_zygote_is_replaced_and_its_workers_carry_on(sandbox_for):
    from grader.sandbox import spawner

    first = sandbox_for("import os\ndef f(a):\n    return [a, os.getpid()]\n")
    before = first.call("f", 1).value
    zygote = spawner._ZYGOTES[(os.getpid(), "numpy")]
    zygote.process.kill()
    zygote.process.wait()
    assert first.call("f", 2).value == [2, before[1]]  # the same worker, still answering
    second = sandbox_for("def f(a):\n    return a + 1\n")
    assert second.call("f", 1).value == 2
    assert spawner._ZYGOTES[(os.getpid(), "numpy")] is not zygote
    first.close()
    assert first.process is None


def test_huge_results_are_refused_before_they_are_sent(sandbox_for):
    box = sandbox_for("""
        import numpy as np
        def huge(a):
            return np.zeros(3_000_000)
        def small(a):
            return a
    """, limits=Limits(call_seconds=3, import_seconds=20, total_seconds=60, result_mb=16))
    out = box.call("huge", 1)
    assert out.kind == "too_large" and "16 MB" in out.message and "22.9 MB" in out.message
    assert box.call("small", 3).value == 3


def test_missing_functions_and_wrong_signatures_are_named(sandbox_for):
    box = sandbox_for("""
        def one(a):
            return a
        def two(a, b, *, c=1):
            return a
        def flexible(a, b=2):
            return a
    """)
    assert box.call("absent", 1).kind == "missing"
    wrong = box.call("two", 1)
    assert wrong.kind == "signature" and "two(a, b)" in wrong.message
    assert box.call("one", 1, 2).kind == "signature"
    assert box.call("flexible", 1).ok and box.call("flexible", 1, 2).ok


def test_import_failure_fails_every_call(sandbox_for):
    box = sandbox_for("import sys\nsys.exit(4)\n")
    first = box.call("anything", 1)
    assert first.kind == "import" and "SystemExit" in first.message
    assert box.call("other") is first


def test_hang_times_out_and_next_call_gets_a_fresh_worker(sandbox_for):
    box = sandbox_for("""
        def spin(a):
            while True:
                pass
        def fine(a):
            return a + 1
    """, Limits(call_seconds=1, import_seconds=20, total_seconds=60))
    hung = box.call("spin", 1)
    assert hung.kind == "timeout" and "did not finish within 1 s" in hung.message
    assert box.call("fine", 1).value == 2
    assert box.restarts == 1


def test_exits_and_crashes_are_failed_calls(sandbox_for):
    box = sandbox_for("""
        import os, sys, signal
        def leave(a):
            sys.exit(5)
        def vanish(a):
            os._exit(7)
        def die(a):
            os.kill(os.getpid(), signal.SIGSEGV)
        def fine(a):
            return a
    """)
    left = box.call("leave", 1)
    assert left.kind == "exception" and "SystemExit" in left.message
    vanished = box.call("vanish", 1)
    assert vanished.kind == "crash" and "exited with status 7" in vanished.message
    died = box.call("die", 1)
    assert died.kind == "crash" and "SIGSEGV" in died.message
    assert box.call("fine", 3).value == 3


SEQUENCE_STUDENT = """
    import os
    calls = []
    def step(a):
        calls.append(a)
        if a == "hang":
            while True:
                pass
        if a == "raise":
            raise ValueError("no")
        if a == "vanish":
            os._exit(7)
        return len(calls)
    def scale_in_place(a):
        a *= 3
        return a
"""


def test_a_call_sequence_answers_each_call_as_call_would(sandbox_for):
    """One request, many calls: each answer is what `call` gives at that point, and the
    sequence stops after the first call that fails."""
    box = sandbox_for(SEQUENCE_STUDENT, Limits(call_seconds=1, import_seconds=20, total_seconds=60))
    answers = box.call_sequence([("step", (1,), False), ("scale_in_place", (np.ones(2),), False),
                                 ("step", (2,), False)])
    assert [o.value if n != 1 else o.value.tolist() for n, (o, _) in enumerate(answers)] == [1, [3, 3], 2]
    assert [o.mutated for o, _ in answers] == [[], [0], []]  # each call judged on its own inputs
    answers = box.call_sequence([("step", ("raise",), False), ("step", (3,), False)])
    assert [o.kind for o, _ in answers] == ["exception"] and "ValueError: no" in answers[0][0].message
    assert box.call("step", 4).value == 4  # the call after the failure never ran
    answers = box.call_sequence([("step", (5,), False), ("step", ("hang",), False), ("step", (6,), False)])
    assert [o.kind for o, _ in answers] == ["ok", "timeout"]
    assert "did not finish within 1 s" in answers[1][0].message  # its own limit, not the sequence's
    answers = box.call_sequence([("step", (7,), False), ("step", ("vanish",), False), ("step", (8,), False)])
    assert [o.kind for o, _ in answers] == ["ok", "crash"] and "status 7" in answers[1][0].message
    assert box.restarts == 1  # a fresh worker after the timeout, as after a hanging `call`
    # a call `call` would refuse ends the sequence before it, unsent
    answers = box.call_sequence([("step", (9,), False), ("absent", (1,), False), ("step", (10,), False)])
    assert [o.kind for o, _ in answers] == ["ok"]
    assert box.call_sequence([("step", (1, 2), False)]) == []


def test_the_students_time_is_what_the_worker_says_within_the_calls_wall_time():
    assert student_time(0.25, 0.5) == 0.25
    assert student_time(9e9, 0.5) == 0.5  # a worker cannot claim more than the call lasted
    for lie in (-1.0, float("nan"), "0.2", 3, None, True):
        assert student_time(lie, 0.5) == 0.0


def test_memory_limit_turns_a_blow_up_into_an_exception(sandbox_for):
    box = sandbox_for("""
        import numpy as np
        def hoard(a):
            return np.ones(2**31).sum()
        def fine(a):
            return a
    """, Limits(call_seconds=5, import_seconds=20, memory_mb=512))
    out = box.call("hoard", 1)
    assert out.kind == "exception" and "MemoryError" in out.message
    assert box.call("fine", 1).value == 1


def test_whole_submission_budget(sandbox_for):
    box = sandbox_for("""
        import time
        def nap(a):
            time.sleep(a)
            return a
    """, Limits(call_seconds=5, import_seconds=5, total_seconds=2))
    outcomes = [box.call("nap", 0.8) for _ in range(4)]
    assert outcomes[-1].kind == "timeout" and "budget" in outcomes[-1].message


# -- the private channel -----------------------------------------------------------

def test_closing_stdio_and_scribbling_on_low_fds_change_nothing(sandbox_for):
    box = sandbox_for("""
        import os, sys
        for fd in range(0, 21):
            try:
                os.write(fd, b"\\x00\\x00\\x00\\x05garbage")
            except OSError:
                pass
        for fd in range(0, 21):
            try:
                os.close(fd)
            except OSError:
                pass
        sys.stdout = None
        def fine(a):
            print("still here")
            for fd in range(0, 21):
                try:
                    os.write(fd, b"junk")
                except OSError:
                    pass
            return a * 2
    """)
    assert box.call("fine", 2).value == 4
    assert box.call("fine", 3).value == 6


def test_garbage_on_the_channel_fails_that_call_only(sandbox_for):
    box = sandbox_for("""
        import os
        def scribble(a):
            for entry in os.listdir("/proc/self/fd"):
                try:
                    os.write(int(entry), b"\\xff\\xff\\xff\\xffnot a message")
                except OSError:
                    pass
            return a
        def fine(a):
            return a
    """)
    assert box.call("scribble", 1).kind in ("protocol", "crash", "timeout")
    assert box.call("fine", 5).value == 5


def test_output_is_captured_and_truncated(sandbox_for):
    box = sandbox_for("""
        import sys
        print("HEAD-MARK")
        sys.stdout.write("x" * 3_000_000)
        print("TAIL-MARK")
        def fine(a):
            print('{"scores": {"softmax": 1000}}')
            return a
    """, Limits(output_kb=4, call_seconds=3, import_seconds=20))
    assert box.call("fine", 1).ok
    box.close()
    text = box.output()
    assert text.startswith("HEAD-MARK") and "bytes of output dropped" in text
    assert '{"scores"' in text and len(text) < 20_000


# -- processes ---------------------------------------------------------------------

@pytest.mark.parametrize("isolate", [True, False], ids=["isolated", "plain-user-mode"])
def test_no_process_outlives_the_sandbox(sandbox_for, isolate, tmp_path):
    if not isolate and AS_ROOT and not jail.reachable(jail.needed_paths(tmp_path)):
        pytest.skip("without namespaces, root's private uid cannot reach this interpreter (the sandbox refuses)")
    marker = f"gradecheck-test-{uuid.uuid4().hex[:12]}"
    box = sandbox_for(f"""
        import os, signal, subprocess, sys
        SLEEPER = "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\nwhile True: time.sleep(1)"
        def spawn(a):
            subprocess.Popen([sys.executable, "-c", SLEEPER, "{marker}"], start_new_session=True, env={{}})
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execve(sys.executable, [sys.executable, "-c", SLEEPER, "{marker}"], {{}})
                os._exit(0)
            return a
    """, isolate=isolate)
    assert box.call("spawn", 1).ok
    deadline = time.monotonic() + 10
    while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(processes_with(marker)) == 2
    box.close()
    assert processes_with(marker) == []


def test_reaper_kills_marked_processes():
    token = uuid.uuid4().hex
    env = {"PATH": "/usr/bin:/bin", "GRADECHECK_TEST_MARK": token}
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], env=env,
                             start_new_session=True)
    try:
        # Popen returns as the exec begins, a moment before the kernel shows
        # the new environment in /proc: wait for it, then kill.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open(f"/proc/{child.pid}/environ", "rb") as handle:
                if token.encode() in handle.read():
                    break
            time.sleep(0.01)
        assert reaper.kill_marked_processes("GRADECHECK_TEST_MARK", token) == 1
        assert child.wait(timeout=10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()


def test_killing_the_parent_does_not_reach_the_judge(sandbox_for):
    box = sandbox_for("""
        import os, signal
        def kill_parent(a):
            parent = os.getppid()
            try:
                os.kill(parent, signal.SIGKILL)
            except OSError as exc:
                return [parent, type(exc).__name__]
            return [parent, "killed"]
        def fine(a):
            return a
    """)
    out = box.call("kill_parent", 1)
    if out.ok:
        assert out.value[0] != os.getpid()
        if AS_ROOT:
            assert out.value[1] == "PermissionError"
    assert box.call("fine", 2).value == 2


# -- isolation (root only) -----------------------------------------------------------

@pytest.mark.skipif(not AS_ROOT, reason="isolation needs the grader to run as root")
def test_worker_is_unprivileged_and_sees_no_grader_files(sandbox_for):
    box = sandbox_for(f"""
        import os
        def probe(a):
            seen = []
            for path in [{str(REFERENCE)!r}, {str(ROOT / "assignments" / "softmax_lab" / "checks.py")!r},
                         "/root", {str(ROOT / "grader")!r}]:
                try:
                    seen.append(open(path).read(20) if os.path.isfile(path) else os.listdir(path))
                except OSError:
                    seen.append(None)
            return [os.getuid(), os.getgid(), os.getppid(), *[repr(s) for s in seen]]
    """)
    out = box.call("probe", 1)
    assert out.ok, out.message
    uid, gid, parent, *seen = out.value
    assert uid != 0 and gid != 0 and uid == box.uid
    assert parent != os.getpid()
    assert "uid" in box.isolation
    assert all("BEGIN" not in s and "Reference" not in s and "registry" not in s for s in seen)
    if "mount" in box.isolation:
        assert seen[0] == "None" and seen[1] == "None"


@pytest.mark.skipif(not AS_ROOT, reason="isolation needs the grader to run as root")
def test_worker_imports_torch_as_the_sandbox_user(tmp_path):
    path = tmp_path / "student.py"
    path.write_text("import os, torch\ndef who(a):\n    return [os.getuid(), torch.__version__]\n")
    box = Sandbox(path, module="student", library="torch", limits=Limits(import_seconds=60))
    try:
        out = box.call("who", 1)
        assert out.ok, out.message or box.output()
        assert out.value[0] == box.uid != 0
    finally:
        box.close()


@pytest.mark.skipif(not AS_ROOT, reason="uids are leased only as root")
def test_uid_leases_are_exclusive():
    first, second = jail.lease_uid(), jail.lease_uid()
    try:
        assert first and second and first.uid != second.uid
    finally:
        first.release()
        second.release()


def test_cover_planning_keeps_only_outermost_and_skips_the_system():
    keep = ["/opt/py", "/tmp/gradecheck-x"]
    planned = jail.covers([Path("/srv/course"), Path("/srv/course/reference"), Path("/usr/lib"),
                           Path("/")], keep)
    assert "/" not in planned and "/usr/lib" not in planned
    assert "/srv/course" in planned or not os.path.isdir("/srv/course")
    assert not any(p.startswith("/srv/course/") for p in planned)


def test_limits_become_rlimits():
    limits = Limits(memory_mb=1024, max_processes=16, file_mb=8)
    rl = limits.rlimits()
    assert "RLIMIT_AS" not in rl, "the worker sets its address space once the library is loaded"
    assert rl["RLIMIT_NPROC"] == (16, 16)
    assert rl["RLIMIT_FSIZE"] == (8 * 2**20, 8 * 2**20)


MEMORY = """
    import os, time
    def block(megabytes):
        held = bytearray(int(megabytes) * 2**20)
        held[::4096] = b"x" * len(held[::4096])  # touch every page
        return held
    def grab(megabytes):
        return len(block(megabytes)) // 2**20
    def children(megabytes):
        for _ in range(3):
            if os.fork() == 0:
                held = block(megabytes)
                time.sleep(60)
                os._exit(0)
        time.sleep(8)
        return 0
"""


def test_memory_counts_on_top_of_the_library_and_for_the_whole_submission(sandbox_for):
    box = sandbox_for(MEMORY, limits=Limits(call_seconds=10, memory_mb=300))
    assert box.call("grab", 100).value == 100, "a modest allocation on top of the library is allowed"
    many = box.call("children", 150)  # 3 x 150 MB: each process is under the limit, together not
    assert not many.ok and "memory" in many.message and "processes" in many.message, many.message
    one = box.call("grab", 900)
    assert not one.ok and ("MemoryError" in one.message or "memory" in one.message), one.message
    assert box.call("grab", 10).value == 10, "a fresh worker takes over"


def test_spinning_children_are_stopped_and_strays_do_not_outlive_a_call(sandbox_for):
    box = sandbox_for("""
        import os
        def spin(n):
            for _ in range(int(n)):
                if os.fork() == 0:
                    os.setsid()
                    while True:
                        pass
            while True:
                pass
        def leave(n):
            for _ in range(int(n)):
                if os.fork() == 0:
                    os.setsid()
                    while True:
                        pass
            return n
        def pid(a):
            return os.getpid()
    """, limits=Limits(call_seconds=8))
    spun = box.call("spin", 6)
    assert not spun.ok and "cores busy" in spun.message, spun.message
    first = box.call("pid", 0).value
    assert box.call("leave", 3).value == 3
    guard = time.monotonic() + 60  # the watch ends what a call left running, at its next look
    while box.watcher is not None and box.watcher.strays < 3 and time.monotonic() < guard:
        time.sleep(0.05)
    assert box.watcher is not None and box.watcher.strays >= 3
    assert box.call("pid", 0).value == first, "the worker itself carries on"


def test_the_report_names_the_level_and_a_minimum_above_it_refuses(sandbox_for, tmp_path):
    box = sandbox_for("def f(a):\n    return a\n")
    assert box.call("f", 1).value == 1
    assert box.level in ("namespaces", "userns", "landlock") and "seccomp" in box.isolation.split(",")
    marker = tmp_path / "ran"
    path = tmp_path / "refused.py"
    path.write_text(f"open({str(marker)!r}, 'w').write('x')\ndef f(a):\n    return a\n")
    strictest = Sandbox(path, module="refused", library="numpy", limits=FAST, isolate=False,
                        minimum="namespaces")
    try:
        out = strictest.call("f", 1)
    finally:
        strictest.close()
    assert out.kind in ("refused", "sandbox"), out
    assert "no student code ran" in out.message and not marker.exists()


def test_call_outcome_is_plain_data():
    assert CallOutcome("ok", value=1).ok and not CallOutcome("timeout").ok


def test_exit_statuses_are_described():
    assert describe_exit(3).endswith("exited with status 3")
    assert "SIGKILL" in describe_exit(128 + 9) and "memory" in describe_exit(-9)
    assert "SIGXCPU" in describe_exit(128 + 24)


def test_removing_a_scratch_folder_never_touches_its_parent(tmp_path):
    """The clean-up once made /tmp 0700 for everybody when a scratch folder was already gone."""
    from grader.sandbox.client import _remove_tree

    parent = tmp_path / "shared"
    parent.mkdir(mode=0o1777)
    os.chmod(parent, 0o1777)
    _remove_tree(parent / "gradecheck-gone")  # already removed
    scratch = parent / "gradecheck-x"
    (scratch / "locked" / "deep").mkdir(parents=True)
    os.chmod(scratch / "locked", 0o500)
    _remove_tree(scratch)
    assert not scratch.exists()
    assert parent.stat().st_mode & 0o7777 == 0o1777
