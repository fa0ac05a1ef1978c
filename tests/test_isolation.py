"""Isolation without root: the sharpest attacks graded with the grader running as
root, as an unprivileged user, and as root without CAP_SYS_ADMIN.

How Autolab's Tango runs every job and how a TA runs ``grade-all`` is as an
unprivileged user; some containers give root without CAP_SYS_ADMIN. In each of
three modes (a parametrized, module-scoped fixture: one set of gradings per
mode) the grader runs through its command line (``python -m grader``, this
checkout on PYTHONPATH) against a copy of softmax_lab with short limits (a call
may take 3 s, 10 s for memory_children; 5 hypothesis examples per check), as
in tests/test_attacks.py:

- ``root``: as today (skipped when the tests do not run as root);
- ``unprivileged``: as uid/gid 65534 through ``setpriv --reuid=65534
  --regid=65534 --clear-groups --inh-caps=-all``, with HOME, GRADECHECK_CACHE
  and every working folder in a temporary folder owned by 65534 (skipped only
  when not root, who alone can switch users);
- ``no_sys_admin``: root with CAP_SYS_ADMIN dropped from the bounding,
  inheritable and ambient sets (``setpriv``, else ``capsh``; skipped when
  neither exists).

Before any attack, a harmless probe submission reports the uid its code runs
as: when that is root on the host, the mode fails at once and no attack runs
(they kill, write and rewrite whatever their user can reach).

Then every attack of ATTACKS_GRADED is graded (at most two gradings at a time),
the Autolab cases also in ``--format autolab``, a poisoned-bank sequence and a
three-student ``grade-all --jobs 2`` run alone. The tests check, per mode:

- each attack's exact honest score per question (test_attacks.EXPECTED; the
  attacks that are stopped at a limit may lose ``linear``, whose call the stop
  cuts short, and nothing else), and a JSON ``isolation`` field whose level is
  namespaces, userns or landlock;
- in Autolab format, the last line of stdout, read 3 s after the grader exited
  (late daemons included), is the grader's scores line, equal to the JSON's;
- the example bank is byte for byte unchanged after bank_poisoner (the only new
  files are the grader's own shrink traces, private and signed), and a correct and
  a buggy submission graded after it with the same cache keep their honest scores; a report planted beside the judge stays unchanged;
- the scratch filler never reaches 1.4 GiB, nothing named gradecheck-attack-*
  is left in /run/lock, /var/tmp, /dev/shm or /tmp on the host, and no process
  an attack started survives;
- in grade-all, beside a spinning and a report-rewriting classmate, the correct
  student keeps 100 and gradebook.csv holds every honest total; the judges'
  peak resident memory stays under JUDGE_RSS_MB.

Details: the temporary folders go under /tmp (under /var/tmp when other users
cannot enter /tmp); when uid 65534 cannot run this venv's interpreter (a venv
made from a Python under root's 0700 home), the grader runs on a throwaway
venv of a system Python of the same version whose site-packages is this
venv's; each assignment copy carries a course secret (secret.txt), as the
platform bundles do. GRADECHECK_ISOLATION_KEEP=1 keeps the folders to inspect.

Marked ``slow``. These tests hold the sandbox to its design (DESIGN.md,
"Isolation levels"): they fail where a level is missing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from test_attacks import (AUTOMATIC, EXPECTED, LONG_CALLS, REPORTED, STOPPED_IN_LINEAR, TRAINING,
                          _limited_copy)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = ROOT / "tests" / "submissions" / "attacks"
CORPUS = ROOT / "tests" / "submissions" / "softmax_lab"
REFERENCE = ROOT / "reference" / "softmax_lab.py"
GOOD = CORPUS / "good" / "explicit_loops.py"
BUGGY = CORPUS / "bad" / "diagonal_jacobian.py"
BUGGY_EXPECTED = {"softmax_backward": 0.0}  # its honest score under the limited copy: 75
NOBODY = 65534
MODES = ("root", "unprivileged", "no_sys_admin")
NEW_ATTACKS = ("proc_reference_thief", "late_fake_line", "bank_poisoner", "report_rewriter",
               "memory_children", "scratch_filler", "spinning_children", "lock_filler")
ATTACKS_GRADED = NEW_ATTACKS + ("read_reference", "kill_parent", "fake_autolab_lines", "patch_grader")
# Graded in both formats; the next two only in autolab (their scores come from its last line).
AUTOLAB_AND_JSON = ("late_fake_line", "fake_autolab_lines", "kill_parent")
AUTOLAB_ONLY = ("proc_reference_thief", "scratch_filler")
AUTOLAB_CASES = AUTOLAB_AND_JSON + AUTOLAB_ONLY
LEVELS = ("namespaces", "userns", "landlock")
SHARED_FOLDERS = ("/run/lock", "/var/tmp", "/dev/shm", "/tmp")
CLASS = {"ann": ATTACKS / "spinning_children.py", "ben": GOOD, "cat": ATTACKS / "report_rewriter.py"}
PLANTED_REPORT = {"assignment": "softmax_lab", "student": "alice", "score": 100, "max_score": 100,
                  "questions": [{"name": q, "score": 10, "max_score": 10, "checks": []} for q in REPORTED]}
DAEMON_GRACE_S = 3.0  # after the grader exits, for any daemon that would write after it
GRADE_TIMEOUT_S = 900  # a guard against a hung grader, not a timing assertion
JUDGE_RSS_MB = 1536
PROBE = ('import os as _os\n'
         'print("gradecheck-isolation-probe uid=%d euid=%d map=%s;" % (_os.getuid(), _os.geteuid(),\n'
         '      " ".join(open("/proc/self/uid_map").read().split())), flush=True)\n')
PROBE_LINE = re.compile(r"gradecheck-isolation-probe uid=(\d+) euid=(\d+) map=([\d ]*);")
MAX_SCORES = {q["name"]: 0.0 if q.get("manual") else float(q["points"]) for q in yaml.safe_load(
    (ROOT / "assignments" / "softmax_lab" / "assignment.yaml").read_text(encoding="utf-8"))["questions"]}
AS_ROOT = os.geteuid() == 0


# -- one grading ---------------------------------------------------------------

@dataclass
class Run:
    """One grader command and what it left."""

    label: str
    cwd: Path
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    ended: float = 0.0
    peak_rss_kb: int = 0
    out_path: Path | None = None
    err_path: Path | None = None

    def read(self) -> None:
        """Read stdout and stderr (after the daemons' grace period)."""
        for name in ("stdout", "stderr"):
            path = self.out_path if name == "stdout" else self.err_path
            setattr(self, name, path.read_text(encoding="utf-8", errors="replace") if path else "")

    def report(self) -> dict:
        assert self.returncode == 0, f"{self.label}: exit {self.returncode}\n{self.stderr[-3000:]}"
        try:
            return json.loads(self.stdout)
        except ValueError:
            raise AssertionError(f"{self.label}: stdout is not one JSON report: ...{self.stdout[-1500:]!r}")


@dataclass
class Mode:
    """How the grader is started in one mode, and where its files go."""

    name: str
    prefix: list[str]
    python: str
    uid: int | None  # the grader's user when it is not root
    base: Path
    tools: Path | None = None  # root's: the interpreter shim for the unprivileged grader
    assignment: Path | None = None
    roomy: Path | None = None  # the same with 10 s per call (test_attacks.LONG_CALLS)
    seed_cache: Path | None = None
    started: float = field(default_factory=time.time)

    def own(self, path: Path) -> None:
        """Give `path` (recursively) to the grader's user, as that user's own files would be."""
        if self.uid is None:
            return
        os.chown(path, self.uid, self.uid)
        if path.is_dir() and not path.is_symlink():
            for folder, dirs, files in os.walk(path):
                for name in dirs + files:
                    os.lchown(os.path.join(folder, name), self.uid, self.uid)

    def folder(self, label: str, *, cache: bool = True) -> Path:
        """A fresh working folder with home/ and cache/ (a copy of the recorded bank)."""
        folder = self.base / "runs" / label
        folder.mkdir(parents=True)
        (folder / "home").mkdir()
        if cache and self.seed_cache is not None:
            shutil.copytree(self.seed_cache, folder / "cache")
        else:
            (folder / "cache").mkdir()
        self.own(folder)
        return folder

    def environment(self, home: Path, cache: Path) -> dict[str, str]:
        env = {name: os.environ[name] for name in ("PATH", "LANG", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
               if name in os.environ}
        env.update(HOME=str(home), GRADECHECK_CACHE=str(cache), PYTHONPATH=str(ROOT))
        return env

    def run(self, label: str, args: list[str], folder: Path, *, cwd: Path | None = None,
            home: Path | None = None, cache: Path | None = None, judges_share_cmdline: bool = False) -> Run:
        """Run `python -m grader ARGS` in this mode, stdout and stderr to files its user owns."""
        cwd = cwd or folder
        run = Run(label, cwd, out_path=folder / f"{label}.stdout", err_path=folder / f"{label}.stderr")
        for path in (run.out_path, run.err_path):
            path.touch(mode=0o600)
            self.own(path)
        command = [*self.prefix, self.python, "-m", "grader", *args]
        env = self.environment(home or folder / "home", cache or folder / "cache")
        with open(run.out_path, "ab") as out, open(run.err_path, "ab") as err:
            process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=err)
        watcher = _PeakMemory(process, judges_share_cmdline)
        watcher.start()
        try:
            run.returncode = process.wait(timeout=GRADE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            run.returncode = None
        watcher.join()
        run.peak_rss_kb = watcher.peak_kb
        run.ended = time.monotonic()
        return run

    def grade(self, label: str, submission: Path, fmt: str, folder: Path | None = None, **kwargs) -> Run:
        folder = folder or self.folder(label)
        assignment = self.roomy if submission.stem in LONG_CALLS else self.assignment
        return self.run(label, ["grade", str(assignment), str(submission), "--format", fmt], folder, **kwargs)


class _PeakMemory(threading.Thread):
    """Follows the judge's peak resident memory (VmHWM) while it runs; with
    `share_cmdline`, also every process with the same command line (grade-all's
    judges are forks of the batch process)."""

    def __init__(self, process: subprocess.Popen, share_cmdline: bool):
        super().__init__(daemon=True)
        self.process = process
        self.share_cmdline = share_cmdline
        self.peak_kb = 0

    def run(self) -> None:
        cmdline = None
        while self.process.poll() is None:
            pids = [self.process.pid]
            if self.share_cmdline:
                cmdline = cmdline or _read_bytes(f"/proc/{self.process.pid}/cmdline")
                pids += [int(e) for e in os.listdir("/proc") if e.isdigit()
                         and cmdline and _read_bytes(f"/proc/{e}/cmdline") == cmdline]
            for pid in pids:
                for line in _read_bytes(f"/proc/{pid}/status").decode(errors="replace").splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            time.sleep(0.25)


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


# -- the modes -------------------------------------------------------------------

def _temporary_root() -> str:
    """/tmp, unless other users cannot enter it (then /var/tmp, also world-writable)."""
    for folder in ("/tmp", "/var/tmp"):
        mode = os.stat(folder).st_mode
        if mode & stat.S_IXOTH and mode & stat.S_IWOTH:
            return folder
    return tempfile.gettempdir()


def _runs_as_nobody(python: str, cwd: Path) -> bool:
    """Whether uid 65534 can run `python` with the grader's packages, and the grader can
    start its own interpreter again (sys.executable: its zygote, launcher and worker)."""
    check = ("import subprocess, sys, torch, yaml, hypothesis, grader; "
             "subprocess.run([sys.executable, '-c', 'import torch'], check=True)")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all",
                           python, "-c", check], cwd=cwd, env=env, capture_output=True, timeout=300)
    return done.returncode == 0


def _nobody_python(base: Path) -> str:
    """An interpreter uid 65534 can run with this venv's packages: the venv's own if it
    can (a venv may link into root's 0700 home), else a throwaway venv under `base`
    on a system interpreter of the same version, whose site-packages is this venv's."""
    if _runs_as_nobody(sys.executable, base):
        return sys.executable
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [os.path.realpath(sys.executable), f"/usr/local/bin/python{version}", f"/usr/bin/python{version}"]
    for index, candidate in enumerate(dict.fromkeys(candidates)):
        if not os.path.isfile(candidate):
            continue
        venv = base / f"venv-{index}"
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "python").symlink_to(candidate)
        lib = venv / "lib" / f"python{version}"
        lib.mkdir(parents=True)
        (lib / "site-packages").symlink_to(sysconfig.get_paths()["purelib"])
        (venv / "pyvenv.cfg").write_text(f"home = {os.path.dirname(candidate)}\ninclude-system-site-packages = false\n"
                                         f"version = {platform.python_version()}\n")
        if _runs_as_nobody(str(venv / "bin" / "python"), base):
            return str(venv / "bin" / "python")
    pytest.fail(f"no interpreter uid {NOBODY} can run with this venv's packages (tried {candidates}); "
                f"is the checkout or the venv under a folder only root can enter?")


def _drop_sys_admin() -> list[str] | None:
    if shutil.which("setpriv"):
        return ["setpriv", "--bounding-set=-sys_admin", "--inh-caps=-sys_admin", "--ambient-caps=-sys_admin"]
    if shutil.which("capsh"):
        return ["capsh", "--drop=cap_sys_admin", "--", "-c", 'exec "$@"', "capsh"]
    return None


def _make_mode(name: str) -> Mode:
    if not AS_ROOT:
        pytest.skip(f"the {name} mode needs root" + (" (to switch users)" if name == "unprivileged" else ""))
    base = Path(tempfile.mkdtemp(prefix=f"gradecheck-isolation-{name}-", dir=_temporary_root()))
    if name == "root":
        return Mode(name, [], sys.executable, None, base)
    if name == "unprivileged":
        if shutil.which("setpriv") is None:
            pytest.fail("setpriv is needed to run the grader as an unprivileged user")
        os.chown(base, NOBODY, NOBODY)
        tools = Path(tempfile.mkdtemp(prefix="gradecheck-isolation-tools-", dir=_temporary_root()))
        os.chmod(tools, 0o755)  # root's, read-only for the grader's user
        try:
            python = _nobody_python(tools)
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            shutil.rmtree(tools, ignore_errors=True)
            raise
        return Mode(name, ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--inh-caps=-all"],
                    python, NOBODY, base, tools)
    prefix = _drop_sys_admin()
    if prefix is None:
        shutil.rmtree(base, ignore_errors=True)
        pytest.skip("neither setpriv nor capsh is installed")
    caps = subprocess.run([*prefix, "grep", "^Cap", "/proc/self/status"], capture_output=True, text=True)
    effective = int(re.search(r"CapEff:\s*([0-9a-f]+)", caps.stdout).group(1), 16)
    bounding = int(re.search(r"CapBnd:\s*([0-9a-f]+)", caps.stdout).group(1), 16)
    assert not (effective | bounding) & (1 << 21), f"CAP_SYS_ADMIN was not dropped: {caps.stdout}"
    return Mode(name, prefix, sys.executable, None, base)


# -- the probe: who does student code run as? ----------------------------------

def _host_uid(uid: int, uid_map: str) -> int | None:
    numbers = [int(n) for n in uid_map.split()]
    for inside, outside, count in zip(numbers[0::3], numbers[1::3], numbers[2::3]):
        if inside <= uid < inside + count:
            return outside + uid - inside
    return None


def _probe(mode: Mode) -> Run:
    """Grade a harmless submission that prints its uid; fail the mode when student
    code runs as root on the host. Its grading also records the bank the others copy."""
    folder = mode.folder("probe", cache=False)
    probe = folder / "probe.py"
    probe.write_text(PROBE + REFERENCE.read_text(encoding="utf-8"), encoding="utf-8")
    mode.own(probe)
    run = mode.grade("probe", probe, "autolab", folder)
    run.read()
    found = PROBE_LINE.search(run.stdout)
    if run.returncode != 0 or found is None:
        pytest.fail(f"{mode.name}: the probe did not report the uid student code runs as "
                    f"(exit {run.returncode}); no attack was run.\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}")
    uid, euid, uid_map = int(found.group(1)), int(found.group(2)), found.group(3)
    host = {_host_uid(uid, uid_map), _host_uid(euid, uid_map)}
    if host & {0, None}:
        pytest.fail(f"{mode.name}: student code runs as root on the host (uid {uid}, euid {euid}, uid_map "
                    f"{uid_map!r}); no attack was run: they would kill and rewrite whatever root can reach")
    mode.seed_cache = folder / "cache"
    return run


# -- what the attacks may leave behind ---------------------------------------------

def _attack_processes() -> dict[int, str]:
    """Live processes marked by an attack (argv or name): pid -> description."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        cmdline = _read_bytes(f"/proc/{entry}/cmdline").decode(errors="replace")
        comm = _read_bytes(f"/proc/{entry}/comm").decode(errors="replace").strip()
        stat_line = _read_bytes(f"/proc/{entry}/stat").decode(errors="replace")
        state = stat_line.rsplit(")", 1)[1].split()[0] if ")" in stat_line else "X"
        if state not in ("Z", "X") and ("gradecheck-attack" in cmdline or comm.startswith("gcattack")):
            found[int(entry)] = f"{entry}: {comm} {cmdline[:120]!r}"
    return found


def _left_files(since: float) -> list[Path]:
    left = []
    for folder in SHARED_FOLDERS:
        try:
            for path in Path(folder).iterdir():
                if path.name.startswith("gradecheck-attack") and path.lstat().st_mtime >= since - 1:
                    left.append(path)
        except OSError:
            continue
    return sorted(left)


def _kill(pids) -> None:
    for pid in pids:  # only processes our own gradings' attacks started
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _digests(*folders: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.glob("*")) if p.is_file()}


def _assert_signed_shrink_trace(path: Path) -> None:
    """`path` is a shrink-trace file the grader wrote: named so, private, signed with the
    key of its folder for shrink traces (grader.signing, grader.shrinks)."""
    from grader import shrinks, signing

    assert "-shrink-" in path.name and path.suffix == ".json", f"{path} appeared in the cache"
    assert path.stat().st_mode & 0o077 == 0, f"{path} is not private"
    key = (path.parent / signing.KEY_FILE).read_bytes()
    raw = path.read_bytes()
    signed = json.loads(raw)
    data = raw[raw.index(b'"signed":') + len(b'"signed":'):raw.rindex(b"}")]
    assert signing.verifies(key, shrinks.PURPOSE, path.name, data, signed["hmac-sha256"]), \
        f"{path} is not signed by the grader"


def _folder_modes(*folders: Path) -> dict[str, str]:
    return {str(p): oct(p.stat().st_mode & 0o7777) for folder in folders for p in [folder, *sorted(folder.glob("*"))]}


# -- every grading of one mode -------------------------------------------------------

@dataclass
class ModeRuns:
    mode: Mode
    probe: Run
    runs: dict[tuple[str, str], Run]
    bank: dict
    planted: dict
    grade_all: Run
    class_out: Path
    survivors: list[str]
    left: list[str]


def _bank_sequence(mode: Mode) -> dict:
    """bank_poisoner, then a correct and a buggy submission, all with one cache folder."""
    folder = mode.folder("bank")
    cache, home_cache = folder / "cache", folder / "home" / ".cache" / "gradecheck"
    shutil.copytree(cache, home_cache)
    mode.own(folder / "home")
    before, modes_before = _digests(cache, home_cache), _folder_modes(cache, home_cache)
    runs = {}
    for label, submission in (("bank_poisoner", ATTACKS / "bank_poisoner.py"), ("good", GOOD), ("buggy", BUGGY)):
        cwd = folder / label
        cwd.mkdir()
        mode.own(cwd)
        runs[label] = mode.grade(f"bank-{label}", submission, "json", folder, cwd=cwd, home=folder / "home",
                                 cache=cache)
    return {"runs": runs, "before": before, "after": _digests(cache, home_cache),
            "modes_before": modes_before, "modes_after": _folder_modes(cache, home_cache)}


def _rewriter_run(mode: Mode) -> tuple[Run, dict]:
    """report_rewriter with a finished report of another student beside the judge."""
    folder = mode.folder("report_rewriter-json")
    planted = folder / "reports" / "alice.json"
    planted.parent.mkdir()
    text = json.dumps(PLANTED_REPORT, indent=2) + "\n"
    planted.write_text(text, encoding="utf-8")
    mode.own(planted.parent)
    run = mode.grade("report_rewriter-json", ATTACKS / "report_rewriter.py", "json", folder)
    return run, {"path": planted, "before": text}


def _grade_all(mode: Mode) -> tuple[Run, Path]:
    folder = mode.folder("class")
    students = folder / "students"
    students.mkdir()
    for student, source in CLASS.items():
        shutil.copy(source, students / f"{student}.py")
    out = folder / "out"
    mode.own(folder)
    run = mode.run("grade-all", ["grade-all", str(mode.assignment), str(students), "--out", str(out), "--jobs", "2"],
                   folder, judges_share_cmdline=True)
    return run, out


def _assignment_copy(base: Path, call_seconds: float) -> Path:
    """test_attacks' limited copy of softmax_lab, with a course secret in its folder as in
    the platform bundles (the platform formats refuse to grade without one)."""
    folder = _limited_copy(base, call_seconds=call_seconds, import_seconds=30)
    (folder / "secret.txt").write_text(f"gradecheck-isolation-{secrets.token_hex(16)}\n", encoding="utf-8")
    return folder


def _grade_everything(mode: Mode) -> ModeRuns:
    mode.started = time.time()
    before = set(_attack_processes())
    mode.assignment = _assignment_copy(mode.base / "assignment", call_seconds=3)
    mode.roomy = _assignment_copy(mode.base / "roomy", call_seconds=10)
    mode.own(mode.base)
    probe = _probe(mode)
    # The memory attack first, the spinning one last: neither may starve the other into a
    # timeout (a stop at a limit must come from its own submission's usage).
    jobs = [("memory_children", "json"), ("bank", None), ("report_rewriter", "json")]
    jobs += [(name, "json") for name in ATTACKS_GRADED
             if name not in ("memory_children", "spinning_children", "bank_poisoner", "report_rewriter", *AUTOLAB_ONLY)]
    jobs += [(name, "autolab") for name in AUTOLAB_CASES]
    jobs += [("spinning_children", "json")]
    results: dict = {}

    def work(job):
        name, fmt = job
        if name == "bank":
            results["bank"] = _bank_sequence(mode)
        elif name == "report_rewriter":
            results[(name, fmt)], results["planted"] = _rewriter_run(mode)
        else:
            results[(name, fmt)] = mode.grade(f"{name}-{fmt}", ATTACKS / f"{name}.py", fmt)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(work, jobs))
    grade_all, class_out = _grade_all(mode)  # alone: it runs two judges itself
    bank = results.pop("bank")
    runs = {key: run for key, run in results.items() if isinstance(key, tuple)}
    runs[("bank_poisoner", "json")] = bank["runs"]["bank_poisoner"]
    every = [*runs.values(), *bank["runs"].values(), grade_all]
    time.sleep(max(0.0, max(r.ended for r in every) + DAEMON_GRACE_S - time.monotonic()))
    for run in every:
        run.read()
    planted = results["planted"]
    planted["after"] = planted["path"].read_text(encoding="utf-8") if planted["path"].exists() else None
    survivors = {pid: text for pid, text in _attack_processes().items() if pid not in before}
    left = _left_files(mode.started)
    _kill(survivors)
    for path in left:
        try:
            path.unlink()
        except OSError:
            pass
    return ModeRuns(mode, probe, runs, bank, planted, grade_all, class_out, sorted(survivors.values()),
                    [str(p) for p in left])


@pytest.fixture(scope="module", params=MODES)
def graded(request) -> ModeRuns:
    """Every grading of one mode (the modes run one after another)."""
    mode = _make_mode(request.param)
    for folder in (mode.base, mode.tools):
        if folder is not None and not os.environ.get("GRADECHECK_ISOLATION_KEEP"):  # set it to inspect them
            request.addfinalizer(lambda folder=folder: shutil.rmtree(folder, ignore_errors=True))
    try:
        return _grade_everything(mode)
    finally:  # a last sweep, also after a failed setup
        _kill(_attack_processes_started_since(mode.started))
        for path in _left_files(mode.started):
            try:
                path.unlink()
            except OSError:
                pass


def _attack_processes_started_since(since: float) -> list[int]:
    """Marked processes younger than `since` (wall clock): a last sweep after a failed setup."""
    boot = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
    ticks = os.sysconf("SC_CLK_TCK")
    young = []
    for pid in _attack_processes():
        fields = _read_bytes(f"/proc/{pid}/stat").decode(errors="replace").rsplit(")", 1)[-1].split()
        try:
            if boot + int(fields[19]) / ticks >= since - 1:
                young.append(pid)
        except (IndexError, ValueError):
            continue
    return young


# -- checks ---------------------------------------------------------------------------

def _honest(name: str) -> dict[str, float]:
    return {q: EXPECTED[name].get(q, 0.0 if q in TRAINING else MAX_SCORES[q]) for q in REPORTED}


def _messages(report: dict, question: str) -> str:
    return "\n".join(c["message"] for q in report["questions"] if q["name"] == question for c in q["checks"])


def _check_scores(name: str, got: dict[str, float], where: str, report: dict | None = None) -> None:
    assert list(got) in (REPORTED, AUTOMATIC), f"{where}: questions {list(got)}"
    expected = _honest(name)
    wrong = {}
    for question in got:
        if name in STOPPED_IN_LINEAR and question == "linear":
            floor = STOPPED_IN_LINEAR[name]
            if not floor - 1e-3 <= got[question] <= MAX_SCORES[question] + 1e-3:
                wrong[question] = (got[question], f"between {floor} and {MAX_SCORES[question]}")
        elif abs(got[question] - expected[question]) > 1e-3:
            wrong[question] = (got[question], expected[question])
    detail = json.dumps(report, indent=1)[:5000] if report else ""
    assert not wrong, f"{where}: (got, expected) per question: {wrong}\n{detail}"


def _scores_line(run: Run) -> dict:
    assert run.returncode == 0, f"{run.label}: exit {run.returncode}\n{run.stderr[-3000:]}"
    lines = run.stdout.rstrip("\n").split("\n")
    try:
        last = json.loads(lines[-1])
    except ValueError:
        raise AssertionError(f"{run.label}: the last line is not JSON: {lines[-1][:500]!r}")
    assert len(lines) >= 2 and lines[-2] == "", "a blank line must precede the scores line"
    assert not [line for line in lines[:-1] if line.lstrip().startswith('{"scores"')], \
        f"{run.label}: only the grader's own line may look like a score line:\n{run.stdout[-3000:]}"
    return last


@pytest.mark.parametrize("name", [n for n in ATTACKS_GRADED if n not in AUTOLAB_ONLY])
def test_attack_gets_its_honest_score(graded, name):
    report = graded.runs[(name, "json")].report()
    got = {q["name"]: q["score"] for q in report["questions"]}
    _check_scores(name, got, f"{graded.mode.name}/{name}", report)
    if name == "memory_children":
        assert got["linear"] < MAX_SCORES["linear"], "4 x 1.2 GiB against memory_mb 2048 was not stopped"
        assert "memory" in _messages(report, "linear").lower(), _messages(report, "linear")[:2000]


@pytest.mark.parametrize("name", AUTOLAB_ONLY)
def test_attack_graded_in_autolab_gets_its_honest_score(graded, name):
    last = _scores_line(graded.runs[(name, "autolab")])
    _check_scores(name, last["scores"], f"{graded.mode.name}/{name} (autolab)")


def test_reports_record_the_isolation_level(graded):
    reports = []
    for run in [*[r for (_n, fmt), r in graded.runs.items() if fmt == "json"], *graded.bank["runs"].values()]:
        try:
            reports.append(run.report())
        except AssertionError:
            continue  # a failed grading is reported by its own test
    for path in sorted((graded.class_out / "reports").glob("*.json")):
        reports.append(json.loads(path.read_text()))
    levels = [r.get("isolation", {}).get("level") if isinstance(r.get("isolation"), dict) else None
              for r in reports]
    assert levels and all(level in LEVELS for level in levels), \
        f"{graded.mode.name}: isolation levels {sorted(set(map(str, levels)))}, expected one of {LEVELS}"


@pytest.mark.parametrize("name", AUTOLAB_CASES)
def test_autolab_last_line_is_the_graders(graded, name):
    run = graded.runs[(name, "autolab")]
    last = _scores_line(run)
    assert list(last["scores"]) == AUTOMATIC
    if name in AUTOLAB_AND_JSON:
        report = graded.runs[(name, "json")].report()
        assert last["scores"] == {q["name"]: q["score"] for q in report["questions"] if not q.get("manual")}, run.stdout[-2000:]
        assert abs(last["scoreboard"][0] - report["score"]) < 1e-6
    else:
        assert abs(last["scoreboard"][0] - sum(last["scores"].values())) < 1e-3


def test_reference_stays_out_of_reach(graded):
    output = graded.runs[("proc_reference_thief", "autolab")].stdout
    assert "gradecheck-attack proc thief" in output, output[-2000:]
    assert "stole []" in output and "BEGIN SOLUTION" not in output, output[-3000:]


def test_example_bank_cannot_be_poisoned(graded):
    bank = graded.bank
    assert bank["before"], "no example bank was recorded to attack"
    runs = bank["runs"]
    _check_scores("bank_poisoner", {q["name"]: q["score"] for q in runs["bank_poisoner"].report()["questions"]},
                  f"{graded.mode.name}/bank_poisoner")
    # what was there is byte for byte the same; what is new is the grader's own shrink traces
    # (grader.shrinks, kept by the buggy grade), private and signed under the cache's key
    after = dict(bank["after"])
    for path in set(after) - set(bank["before"]):
        _assert_signed_shrink_trace(Path(path))
        del after[path]
    assert after == bank["before"], "the example bank changed"
    modes_after = {p: m for p, m in bank["modes_after"].items() if p in bank["modes_before"]}
    assert modes_after == bank["modes_before"], "the cache's permissions changed"
    good = runs["good"].report()
    assert {q["name"]: q["score"] for q in good["questions"]} == MAX_SCORES, json.dumps(good)[:4000]
    buggy = runs["buggy"].report()
    expected = {q: BUGGY_EXPECTED.get(q, MAX_SCORES[q]) for q in REPORTED}
    got = {q["name"]: q["score"] for q in buggy["questions"]}
    assert all(abs(got[q] - expected[q]) < 1e-3 for q in REPORTED), f"buggy: got {got}, expected {expected}"


def test_finished_reports_stay_untouched(graded):
    planted = graded.planted
    assert planted["after"] == planted["before"], f"{planted['path']} was rewritten:\n{planted['after']}"


def test_scratch_space_is_limited(graded):
    output = graded.runs[("scratch_filler", "autolab")].stdout
    assert "gradecheck-attack scratch filled" not in output, \
        [line for line in output.splitlines() if "gradecheck-attack scratch" in line]


def test_nothing_is_left_in_shared_folders(graded):
    assert not graded.left, f"{graded.mode.name}: left on the host after grading: {graded.left}"


def test_no_process_started_by_an_attack_survives(graded):
    assert not graded.survivors, "processes outlived grading:\n" + "\n".join(graded.survivors)


def test_grade_all_keeps_every_honest_grade(graded):
    run = graded.grade_all
    assert run.returncode == 0, f"grade-all: exit {run.returncode}\n{run.stderr[-3000:]}"
    reports = {p.stem: json.loads(p.read_text()) for p in (graded.class_out / "reports").glob("*.json")}
    assert sorted(reports) == sorted(CLASS)
    scores = {student: {q["name"]: q["score"] for q in r["questions"]} for student, r in reports.items()}
    assert scores["ben"] == MAX_SCORES, f"the correct neighbour lost points: {json.dumps(reports['ben'])[:4000]}"
    _check_scores("report_rewriter", scores["cat"], f"{graded.mode.name}/grade-all cat")
    _check_scores("spinning_children", scores["ann"], f"{graded.mode.name}/grade-all ann", reports["ann"])
    rows = {row["student"]: row for row in csv.DictReader((graded.class_out / "gradebook.csv").open())}
    assert sorted(rows) == sorted(CLASS)
    for student, report in reports.items():
        assert abs(float(rows[student]["total"]) - sum(scores[student].values())) < 1e-3, rows[student]
        for question in AUTOMATIC:
            assert abs(float(rows[student][question]) - scores[student][question]) < 1e-3, (student, question)
    assert float(rows["ben"]["total"]) == 140 and float(rows["cat"]["total"]) == 100


def test_judges_memory_stays_reasonable(graded):
    peaks = {run.label: run.peak_rss_kb // 1024 for run in [graded.grade_all, *graded.runs.values()]}
    assert any(peaks.values()), f"no peak memory was measured: {peaks}"
    too_big = {label: mb for label, mb in peaks.items() if mb > JUDGE_RSS_MB}
    assert not too_big, f"judges above {JUDGE_RSS_MB} MiB: {too_big}"


def test_a_package_handin_with_drivers_and_data_grades_in_every_mode(graded):
    """mytorch_hw1 on its solution: a package handin, harness drivers and a staged data
    fixture (MNIST trained inside the sandbox), graded in this mode to full marks."""
    mode = graded.mode
    folder = mode.folder("mytorch-solution")
    handin = folder / "handin"
    reference = ROOT / "reference" / "mytorch_hw1"
    for path in reference.rglob("*.py"):
        if "__pycache__" in path.parts:
            continue
        target = handin / path.relative_to(reference)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(line for line in path.read_text().splitlines(keepends=True)
                                  if "SOLUTION" not in line))
    # a copy of the assignment, whatever course secret this checkout's folder may hold
    assignment = folder / "mytorch_hw1"
    shutil.copytree(ROOT / "assignments" / "mytorch_hw1", assignment,
                    ignore=shutil.ignore_patterns("secret.txt", "__pycache__"))
    mode.own(handin)
    mode.own(assignment)
    run = mode.run("mytorch-solution", ["grade", str(assignment), str(handin), "--format", "json"], folder)
    run.read()
    report = run.report()
    assert report["score"] == report["max_score"] == 100.0, report
    assert report["isolation"]["level"] in LEVELS
