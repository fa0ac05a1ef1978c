"""Grade every submission in a folder, N at a time, resumably.

Each submission is one entry of the folder (a .py, .ipynb, .tar or a
sub-folder). This process imports the engine, the checks, torch and the
example bank once, then forks N judges, which share that preload; each
judge grades the submissions this process hands it one at a time (each
still in its own sandboxed worker), so that its sandbox zygote, started
once per judge, serves them all.

Nothing a judge leaves on disk is read back. A judge sends each finished
report (the dict, as JSON after its length) to this process over a pipe;
this process writes OUT/reports/<student>.json itself, atomically, signed
with an HMAC-SHA256 under the grader's private key (grader.signing), and
builds the gradebook and summary from the dicts it holds. A run that is
interrupted and started again trusts a report left by an earlier run only
if its signature verifies for that student; anything else (a rewritten
report, an unsigned one, a grader error) is graded again.

A judge that dies (the OOM killer's SIGKILL, a segfault, os._exit), sends
a malformed or oversized report, or outlives a generous deadline costs the
submission it was grading a grader-error report; a fresh judge takes over
the rest. Judges die with this process (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import select
import signal
import struct
import sys
import time
import traceback
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from . import signing
from .digests import assignment_digest, submission_digest
from .exports import read_export
from .output import write_atomically
from .spec import Assignment

SUFFIXES = (".tar.gz", ".tgz", ".tar", ".ipynb", ".py")
MESSAGE_LIMIT = 8 * 2**20        # bytes of one report sent by a judge; more is a grader error
REPORT_FILE_LIMIT = 32 * 2**20   # bytes of a report file read back (indented, so larger)
NAME_BYTES = 200                 # longest student name, in UTF-8 bytes (file names stop at 255)
JUDGE_SLACK_SECONDS = 300        # a judge's deadline: twice its submission's time limits, plus this
IDLE_JUDGE_SECONDS = 60          # a judge told there is no more work has this long to exit
# Test hook, read only in a forked judge: "alice" or "alice:11,bob:9" makes the judge of
# each named student kill itself with that signal (default SIGKILL) at its first check.
TEST_KILL_JUDGE = "GRADECHECK_TEST_KILL_JUDGE"
_HEADER = struct.Struct(">Q")  # before each report a judge sends: its length
_TASK = struct.Struct(">I")     # what the batch sends a judge: the number of a submission


@dataclass(frozen=True)
class Submission:
    """One student's entry in the batch folder (with the platform's identity of whom it
    is for, when the folder is a platform's export: grader.exports)."""

    student: str
    path: Path
    identity: dict | None = None


# -- students and their reports ------------------------------------------------------

def safe_name(name: str) -> str:
    """`name` as a student name that is a plain file name inside OUT/reports: no path
    separators, control or invisible characters, leading dots (no "." or ".."), and
    at most NAME_BYTES bytes."""
    cleaned = "".join("_" if ch in "/\\" or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")
                      else ch for ch in name)
    cleaned = cleaned.lstrip(". ").rstrip() or "student"
    encoded = cleaned.encode("utf-8")
    if len(encoded) > NAME_BYTES:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
        cleaned = encoded[:NAME_BYTES - 13].decode("utf-8", "ignore") + "-" + digest
    return cleaned


def discover(folder: Path, all_versions: bool = False) -> list[Submission]:
    """Every gradable entry of `folder`, sorted, with a unique, safe student name each.
    A platform's export (grader.exports) gives its submissions, named by the
    platform's identity (Autolab: the latest version of each, or all)."""
    exported = read_export(folder, all_versions)
    if exported is not None:
        names = _unique([e.key for e in exported])
        return [Submission(name, e.path, e.identity()) for name, e in zip(names, exported)]
    entries = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")
               and (p.is_dir() or p.name.endswith(SUFFIXES))]
    names = []
    for entry in entries:
        stem = entry.name
        for suffix in SUFFIXES:
            if stem.endswith(suffix) and not entry.is_dir():
                stem = stem[: -len(suffix)]
                break
        names.append(stem)
    wanted = [name if names.count(name) == 1 else entry.name for name, entry in zip(names, entries)]
    return [Submission(student, entry) for student, entry in zip(_unique(wanted), entries)]


def _unique(wanted: list[str]) -> list[str]:
    """Safe file names for `wanted`, each unique: a name that needed no change and is
    nobody else's is kept, any other gets a ~N suffix."""
    chosen = [safe_name(name) for name in wanted]
    # a name that needed no change, and is nobody else's, is kept; any other gets a suffix
    kept = [name == raw and wanted.count(raw) == 1 for name, raw in zip(chosen, wanted)]
    taken = {name for name, keep in zip(chosen, kept) if keep}
    students = []
    for name, keep in zip(chosen, kept):
        unique, number = name, 1
        while not keep and unique in taken:
            number += 1
            unique = f"{name}~{number}"
        taken.add(unique)
        students.append(unique)
    return students


def report_path(out: Path, student: str) -> Path:
    return out / "reports" / f"{student}.json"


def _canonical(report: dict) -> bytes:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def grader_key(*, create: bool) -> bytes | None:
    """The key that signs reports: the one of the example cache folder (grader.signing)."""
    from .examples import cache_folder

    return signing.key_in(cache_folder(), create=create)


def key_problem() -> str | None:
    """Why reports cannot be signed or trusted in this process, if they cannot."""
    from .examples import cache_folder

    return signing.refusal(cache_folder())


def sign_report(report: dict, student: str, key: bytes) -> dict:
    """`report` with a "signature": the MAC of the canonical JSON of the rest, for `student`."""
    rest = {k: v for k, v in report.items() if k != "signature"}
    return {**rest, "signature": signing.mac(key, signing.REPORT, student, _canonical(rest))}


def read_report(out: Path, student: str, assignment: Assignment, key: bytes | None) -> dict | None:
    """The report of `student` under OUT/reports if this grader signed it for this
    student and assignment (signature removed); else None."""
    if key is None:
        return None
    try:
        folder = os.open(out / "reports", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = json.loads(signing.read_at(folder, f"{student}.json", REPORT_FILE_LIMIT, private=False))
    except (OSError, signing.Refused, ValueError, RecursionError):
        return None
    finally:
        os.close(folder)
    if not isinstance(data, dict):
        return None
    claimed = data.pop("signature", None)
    try:
        if not signing.verifies(key, signing.REPORT, student, _canonical(data), claimed):
            return None
    except (TypeError, ValueError):
        return None
    if data.get("student") != student or data.get("assignment") != assignment.name or not _well_formed(data):
        return None
    return data


def finished_reports(assignment: Assignment, out: Path, submissions: list[Submission],
                     key: bytes | None, digests: dict[str, dict[str, str]] | None = None) -> dict[str, dict]:
    """The signed reports of `submissions` under OUT/reports that need no grading again,
    by student: grader errors are retried, and with `digests` (per student, what
    `current_digests` gives) a report whose submission or assignment changed since is
    graded again."""
    finished = {}
    for submission in submissions:
        report = read_report(out, submission.student, assignment, key)
        if report is None or "error" in report:
            continue
        if digests is not None and report.get("digests") != digests[submission.student]:
            continue
        finished[submission.student] = report
    return finished


def current_digests(assignment: Assignment, submissions: list[Submission]) -> dict[str, dict[str, str]]:
    """Per student, the digests a report must record to be current (grader.digests)."""
    of_assignment = assignment_digest(assignment)
    return {s.student: {"submission": submission_digest(s.path), "assignment": of_assignment}
            for s in submissions}


def is_done(out: Path, student: str, assignment: Assignment) -> bool:
    """A report signed by this grader exists for `student` and records no grader failure."""
    report = read_report(out, student, assignment, grader_key(create=False))
    return report is not None and "error" not in report


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _well_formed(report: object) -> bool:
    """Whether `report` has the shape the gradebook and summary read."""
    if not isinstance(report, dict) or not _number(report.get("score")) or not _number(report.get("max_score")):
        return False
    questions = report.get("questions")
    if not isinstance(questions, list):
        return False
    for question in questions:
        if not (isinstance(question, dict) and isinstance(question.get("name"), str)
                and _number(question.get("score")) and _number(question.get("max_score"))
                and isinstance(question.get("checks"), list)):
            return False
        if not all(isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("passed"), bool)
                   for c in question["checks"]):
            return False
    return True


def error_report(assignment: Assignment, student: str, error: str, trace: str | None = None) -> dict:
    """A grader-error report: scores 0, is listed under grader errors, is graded again next run."""
    data = {"assignment": assignment.name, "score": 0, "max_score": assignment.total_points,
            "questions": [], "error": error, "student": student}
    if trace:
        data["traceback"] = trace[-4000:]
    return data


# -- the judges -----------------------------------------------------------------------

def preload(assignment: Assignment) -> None:
    """Import everything a judge needs, once, before forking the judges."""
    from .lazy import imported
    from .loaded import load
    from .secret import course_secret, salt_of

    if assignment.library == "torch":
        import torch

        torch.set_num_threads(1)
    salt = salt_of(course_secret(assignment.folder))  # the judges' own (runner.grade looks it up too)
    loaded = load(assignment)
    loaded.bank(salt)  # loaded, and the bank recorded or read, once: shared by every judge
    imported(loaded.judge_reference)  # what every judge's checks call, imported before they fork


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this judge if the batch process dies (no orphans grading on)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the batch died before the request took effect
        os._exit(1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _test_kill_hook(student: str) -> None:
    """TEST_KILL_JUDGE, for tests only: make this judge die at its first check."""
    wanted = {}
    for item in os.environ.get(TEST_KILL_JUDGE, "").split(","):
        name, _, number = item.strip().partition(":")
        if name:
            wanted[name] = int(number) if number.strip().isdigit() else int(signal.SIGKILL)
    if student not in wanted:
        return
    from . import runner

    def dies(*args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), wanted[student])
        time.sleep(5)
        os._exit(99)

    runner.run_check = dies  # type: ignore[assignment]


def _judge_report(assignment: Assignment, submission: Submission) -> bytes:
    """Grade one submission (in a forked judge) and return its report as JSON bytes."""
    from .runner import grade

    from .reporters import markdown

    try:
        report = grade(assignment, submission.path)
        data = report.to_dict()
        data["student"] = submission.student
        # what a TA may send the student: their view of the report after the due date
        data["feedback"] = markdown.render(report.shown_to_students("after_due_date"))
        body = json.dumps(data).encode("utf-8")
    except Exception as exc:  # a grader failure must not stop the batch
        data = error_report(assignment, submission.student, f"{type(exc).__name__}: {exc}",
                            traceback.format_exc())
        body = json.dumps(data).encode("utf-8")
    if len(body) > MESSAGE_LIMIT:
        body = json.dumps(error_report(assignment, submission.student,
                                       f"the report of this submission is larger than {_mb(MESSAGE_LIMIT)}")
                          ).encode("utf-8")
    return body


def _read_exactly(fd: int, size: int) -> bytes | None:
    """`size` bytes from `fd`, or None at the end of the data."""
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _judge(assignment: Assignment, submissions: list[Submission], parent: int, task_fd: int,
           result_fd: int, inherited: list[int]) -> None:
    """A forked judge: grade the submissions the batch names on `task_fd` (an index
    into `submissions`) one after the other, sending each report on `result_fd`, until
    `task_fd` ends. Never returns. A judge grades many submissions so that its
    sandbox zygote (grader/sandbox/spawner.py) serves them all."""
    code = 70
    try:
        for fd in inherited:  # other judges' pipes and pidfds, the reports folder
            try:
                os.close(fd)
            except OSError:
                pass
        _die_with_parent(parent)
        while True:
            task = _read_exactly(task_fd, _TASK.size)
            if task is None:
                code = 0
                break
            submission = submissions[_TASK.unpack(task)[0]]
            _test_kill_hook(submission.student)
            body = _judge_report(assignment, submission)
            view = memoryview(_HEADER.pack(len(body)) + body)
            while view:
                view = view[os.write(result_fd, view):]
    except BaseException:  # noqa: BLE001 - whatever happened, the batch reports it
        code = 70
    finally:
        os._exit(code)


def _mb(size: int) -> str:
    return f"{size / 2**20:g} MB"


@dataclass
class _Judge:
    """The batch's view of one judge process."""

    pid: int
    pidfd: int | None
    task_fd: int | None      # the batch writes submission numbers here; closed: no more work
    result_fd: int | None    # the judge's reports come from here
    current: Submission | None = None
    started: float = 0.0
    deadline: float = float("inf")
    received: bytearray = field(default_factory=bytearray)
    status: int | None = None  # wait status once reaped
    oversized: bool = False
    late: bool = False


class Batch:
    """One grade-all run: the submissions of a folder, the reports already finished
    (signed by this grader), and `run` to grade the rest."""

    def __init__(self, assignment: Assignment, folder: Path, out: Path, *,
                 only: list[str] | tuple[str, ...] = (), force: bool = False, all_versions: bool = False):
        """`only` names the students to grade (the others keep the reports they have);
        `force` grades them even when their reports are current. ValueError names a
        student of `only` the folder does not hold."""
        self.assignment = assignment
        self.folder = Path(folder)
        self.out = Path(out)
        self.submissions = discover(self.folder, all_versions)
        self.identities = {s.student: s.identity for s in self.submissions if s.identity}
        unknown = sorted(set(only) - {s.student for s in self.submissions})
        if unknown:
            raise ValueError(f"no submission of {', '.join(unknown)} in {self.folder} (students: "
                             f"{', '.join(s.student for s in self.submissions) or 'none'})")
        self.key = grader_key(create=True)
        self.key_problem = key_problem() if self.key is None else None
        self.digests = current_digests(assignment, self.submissions)
        signed = finished_reports(assignment, self.out, self.submissions, self.key)
        current = finished_reports(assignment, self.out, self.submissions, self.key, self.digests)
        chosen = set(only) if only else {s.student for s in self.submissions}
        finished = {student: report for student, report in (signed if only else current).items()
                    if student not in chosen or (student in current and not force)}
        self.skipped = len([s for s in finished if s in chosen])
        self.stale = len([s for s in signed if s in chosen and s not in finished])  # changed since, or forced
        self.reports: dict[str, dict] = dict(finished)
        self.pending = [s for s in self.submissions if s.student in chosen and s.student not in finished]

    def ordered_reports(self) -> list[dict]:
        """Every report of this folder's students this run holds, sorted by student."""
        return [self.reports[s] for s in sorted(self.reports)]

    def run(self, jobs: int = 1) -> Iterator[tuple[str, float, float, str | None]]:
        """Grade the pending submissions with `jobs` judges; yield (student, score,
        seconds, error) as each finishes, once its report is written and kept in
        `reports`. A judge that dies costs the submission it was grading (a grader
        error) and is replaced by a fresh one for the rest."""
        if not self.pending:
            return
        reports_folder = self.out / "reports"
        reports_folder.mkdir(parents=True, exist_ok=True)
        preload(self.assignment)
        self._folder_fd = os.open(reports_folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        limits = self.assignment.limits
        self._allowed = 2 * (limits.total_seconds + limits.import_seconds) + JUDGE_SLACK_SECONDS
        self._queue = deque(range(len(self.pending)))
        self._judges: dict[int, _Judge] = {}  # by pid
        self._by_fd: dict[int, _Judge] = {}
        self._poller = select.poll()
        try:
            while self._queue or self._judges:
                while self._queue and len(self._judges) < max(1, jobs):
                    try:
                        judge = self._fork()
                    except OSError as exc:  # no process or pipe to be had now
                        if self._judges:  # try again once a judge has finished
                            break
                        student = self.pending[self._queue.popleft()].student
                        yield self._record(student, error_report(
                            self.assignment, student, f"no judge could be started: {exc}"), 0.0)
                        continue
                    self._next_task(judge)
                if not self._judges:
                    continue
                now = time.monotonic()
                wait = min([j.deadline for j in self._judges.values()] + [now + 60]) - now
                if any(j.pidfd is None for j in self._judges.values()):
                    wait = min(wait, 0.2)  # no pidfd: look for dead judges with waitpid
                for fd, _ in self._poller.poll(max(0, int(wait * 1000)) + 1):
                    judge = self._by_fd.get(fd)
                    if judge is None:
                        continue
                    if fd == judge.result_fd:
                        yield from self._receive(judge, once=True)
                    else:
                        self._reap(judge)
                now = time.monotonic()
                for judge in list(self._judges.values()):
                    if judge.status is None and judge.pidfd is None:
                        self._reap(judge)
                    if judge.status is None and now > judge.deadline:  # grading, or leaving, too long
                        judge.late = judge.current is not None
                        _kill(judge.pid)
                        judge.deadline = float("inf")
                    if judge.status is not None:
                        yield from self._receive(judge, once=False)  # whatever it sent before it ended
                        yield from self._ended(judge)
        finally:
            for judge in self._judges.values():
                if judge.status is None:  # not reaped, so its pid is still its own
                    _kill(judge.pid)
            for judge in self._judges.values():
                if judge.status is None:
                    try:
                        os.waitpid(judge.pid, 0)
                    except ChildProcessError:
                        pass
            for fd in list(self._by_fd):
                os.close(fd)
            for judge in self._judges.values():
                if judge.task_fd is not None:
                    os.close(judge.task_fd)
            os.close(self._folder_fd)

    # -- judges: start, give work, hear from, bury ----------------------------------------

    def _fork(self) -> _Judge:
        inherited = [self._folder_fd, *self._by_fd,
                     *(j.task_fd for j in self._judges.values() if j.task_fd is not None)]
        task_read, task_write = os.pipe()
        try:
            result_read, result_write = os.pipe()
        except OSError:
            os.close(task_read)
            os.close(task_write)
            raise
        sys.stdout.flush()
        sys.stderr.flush()
        parent = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            for fd in (task_read, task_write, result_read, result_write):
                os.close(fd)
            raise
        if pid == 0:
            os.close(task_write)
            os.close(result_read)
            _judge(self.assignment, self.pending, parent, task_read, result_write, inherited)
        os.close(task_read)
        os.close(result_write)
        os.set_blocking(result_read, False)
        try:
            pidfd: int | None = os.pidfd_open(pid)
        except (AttributeError, OSError):
            pidfd = None
        judge = _Judge(pid, pidfd, task_write, result_read)
        self._judges[pid] = judge
        self._by_fd[result_read] = judge
        self._poller.register(result_read, select.POLLIN)
        if pidfd is not None:
            self._by_fd[pidfd] = judge
            self._poller.register(pidfd, select.POLLIN)
        return judge

    def _next_task(self, judge: _Judge) -> None:
        """Give an idle judge the next submission, or tell it there is none (it exits)."""
        if judge.task_fd is None or judge.status is not None:
            return
        if not self._queue:
            os.close(judge.task_fd)
            judge.task_fd = None
            judge.deadline = time.monotonic() + IDLE_JUDGE_SECONDS  # to exit in
            return
        index = self._queue.popleft()
        try:
            os.write(judge.task_fd, _TASK.pack(index))
        except OSError:  # the judge is gone; it will be buried, its task given to another
            self._queue.appendleft(index)
            os.close(judge.task_fd)
            judge.task_fd = None
            return
        judge.current = self.pending[index]
        judge.started = time.monotonic()
        judge.deadline = judge.started + self._allowed

    def _close_result(self, judge: _Judge) -> None:
        if judge.result_fd is not None:
            self._poller.unregister(judge.result_fd)
            del self._by_fd[judge.result_fd]
            os.close(judge.result_fd)
            judge.result_fd = None

    def _receive(self, judge: _Judge, *, once: bool) -> Iterator[tuple[str, float, float, str | None]]:
        """Read what the judge sent (one chunk if `once`, else all there is now) and
        report each submission whose report is complete."""
        while judge.result_fd is not None:
            try:
                chunk = os.read(judge.result_fd, 1 << 20)
            except BlockingIOError:
                break
            except OSError:
                chunk = b""
            if not chunk:
                self._close_result(judge)
                break
            judge.received += chunk
            yield from self._complete_reports(judge)
            if once:
                break

    def _complete_reports(self, judge: _Judge) -> Iterator[tuple[str, float, float, str | None]]:
        while len(judge.received) >= _HEADER.size and not judge.oversized:
            (length,) = _HEADER.unpack_from(judge.received)
            if length > MESSAGE_LIMIT or judge.current is None:  # too much, or nothing was asked
                judge.oversized = length > MESSAGE_LIMIT
                judge.received.clear()
                self._close_result(judge)
                if judge.status is None:
                    _kill(judge.pid)
                return
            if len(judge.received) < _HEADER.size + length:
                return
            message = bytes(judge.received[_HEADER.size:_HEADER.size + length])
            del judge.received[:_HEADER.size + length]
            report = _parse_report(message)
            student = judge.current.student
            if report is None:
                report = error_report(self.assignment, student,
                                      "the judge grading this submission sent a malformed report")
            seconds = time.monotonic() - judge.started
            judge.current, judge.deadline = None, float("inf")
            yield self._record(student, report, seconds)
            self._next_task(judge)

    @staticmethod
    def _reap(judge: _Judge) -> None:
        try:
            pid, status = os.waitpid(judge.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = judge.pid, 255 << 8
        if pid == judge.pid:
            judge.status = status

    def _ended(self, judge: _Judge) -> Iterator[tuple[str, float, float, str | None]]:
        """Bury a judge that ended; the submission it was grading gets a grader error
        saying how it ended."""
        self._close_result(judge)
        if judge.pidfd is not None:
            self._poller.unregister(judge.pidfd)
            del self._by_fd[judge.pidfd]
            os.close(judge.pidfd)
            judge.pidfd = None
        if judge.task_fd is not None:
            os.close(judge.task_fd)
            judge.task_fd = None
        del self._judges[judge.pid]
        if judge.current is None:
            return
        status = judge.status or 0
        if judge.oversized:
            error = f"the judge grading this submission sent a report larger than {_mb(MESSAGE_LIMIT)}"
        elif judge.late:
            error = (f"the judge grading this submission was still running after {self._allowed:.0f} s "
                     "and was stopped; rerun grade-all to grade it again")
        elif os.WIFSIGNALED(status):
            number = os.WTERMSIG(status)
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = "unknown signal"
            error = (f"the judge grading this submission died (signal {number}, {name}): it may have run "
                     "out of memory (the OOM killer sends SIGKILL) or crashed; rerun grade-all to grade it again")
        elif len(judge.received):
            error = "the judge grading this submission ended in the middle of its report"
        else:
            error = (f"the judge grading this submission exited with status {os.WEXITSTATUS(status)} "
                     "before sending its report; rerun grade-all to grade it again")
        student = judge.current.student
        yield self._record(student, error_report(self.assignment, student, error),
                           time.monotonic() - judge.started)

    def _record(self, student: str, report: dict, seconds: float) -> tuple[str, float, float, str | None]:
        """Keep `report` as `student`'s, write it, and say how it went."""
        report["student"] = student
        feedback = report.pop("feedback", None)
        if isinstance(feedback, str):
            write_atomically(self.out / "feedback" / f"{student}.md", feedback[:MESSAGE_LIMIT])
        report["digests"] = self.digests[student]  # signed with the rest: what it was graded from
        if student in self.identities:
            report["identity"] = self.identities[student]
        error = report.get("error") if isinstance(report.get("error"), str) else None
        self._write(student, report)
        self.reports[student] = report
        return student, float(report["score"]), seconds, error

    def _write(self, student: str, report: dict) -> None:
        """OUT/reports/<student>.json, atomically, signed when there is a key."""
        signed = sign_report(report, student, self.key) if self.key is not None else report
        signing.write_at(self._folder_fd, f"{student}.json",
                         (json.dumps(signed, indent=2) + "\n").encode("utf-8"))


def _parse_report(message: bytes) -> dict | None:
    """A judge's report: JSON of the shape the gradebook reads, else None."""
    try:
        report = json.loads(message.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    return report if _well_formed(report) else None


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def grade_all(assignment: Assignment, folder: Path, out: Path, *, jobs: int = 1,
              progress: Callable[[int, int, str, float], None] | None = None,
              reports: dict[str, dict] | None = None) -> Iterator[tuple[str, float, float, str | None]]:
    """Grade every not-yet-graded submission of `folder`; yield (student, score, seconds, error).

    Reports are written as each finishes; students with a signed, error-free report
    are skipped. `reports`, when given, receives every report of the folder's
    students (kept and new), by student.
    """
    batch = Batch(assignment, folder, out)
    if reports is not None:
        reports.update(batch.reports)
    for result in batch.run(jobs):
        if reports is not None:
            reports[result[0]] = batch.reports[result[0]]
        yield result
