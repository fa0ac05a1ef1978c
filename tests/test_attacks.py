"""The attack suite: hostile submissions graded for real, in every report format.

Each file in tests/submissions/attacks/ is the reference solution plus one
attack (see its docstring). Each is graded through the command line three
times -- ``--format json``, ``--format autolab`` and ``--format gradescope
--output FILE`` -- against a copy of softmax_lab with short limits (a call
may take 3 s) and 5 hypothesis examples per check, two gradings at a time,
in a module-scoped fixture. The tests then check the
exact score of every question (EXPECTED lists the questions an attack must
cost and what is left of them; every other question keeps full marks), that
each format is well formed, and that no process an attack started is still
running afterwards.

Marked ``slow``; the grader runs as root on the platforms (and on the
machines these tests run on), where the worker is an unprivileged user that
cannot see the grader's files. Attacks that only make sense against that
isolation are skipped for a plain user.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
ATTACKS = Path(__file__).resolve().parent / "submissions" / "attacks"
LAB = ROOT / "assignments" / "softmax_lab"
# the lab's function questions, which the attacks aim at
QUESTIONS = ["softmax", "linear", "loss", "loss_backward", "softmax_backward", "color_histogram", "max_margin"]
# the training part: no attack file defines its functions, so each scores 0 there
TRAINING = ["sgd", "momentum", "minibatch", "training", "histogram_training"]
# Stopped at one of the sandbox's limits from inside linear: whether the stop cuts
# linear's calls short depends on the level (a size-limited tmpfs refuses a write, the
# attack carries on; a watch ends the submission), so linear may lose at most what its
# two checks that call it are worth (2.5 + 2 of 10); every other question keeps full marks.
STOPPED_IN_LINEAR = {"memory_children": 5.5, "scratch_filler": 5.5, "spinning_children": 5.5}
AUTOMATIC = QUESTIONS + TRAINING  # Autolab's scores line
REPORTED = AUTOMATIC + ["softmax_gradient_derivation"]  # a report's questions (the last graded by hand)
AS_ROOT = os.geteuid() == 0
FORMATS = ("json", "autolab", "gradescope")
# Every attack is graded in json; these, the ones aimed at the platforms' own
# channels (stdout, results.json, output size, the process tree), in all formats.
PLATFORM_CASES = ("fake_autolab_lines", "results_json_writer", "print_flood", "close_stdio",
                  "garbage_fds", "kill_parent", "os_exit_at_import", "syntax_error", "infinite_loop",
                  "read_reference", "patch_grader", "late_fake_line")
GRADE_TIMEOUT_S = 900  # a guard against a hung grader, not a timing assertion
ALL_LOST = {question: 0.0 for question in QUESTIONS}

# attack -> {question: score left}; questions not named keep full marks.
EXPECTED: dict[str, dict[str, float]] = {
    "background_processes": {},
    "bank_poisoner": {},  # tests/test_isolation.py grades after it with the same cache
    "close_stdio": {},
    "exit_in_functions": {"loss_backward": 0.0, "color_histogram": 0.0},
    "fake_autolab_lines": {"loss_backward": 0.0},
    "fork_bomb": {},
    "garbage_channel": {"color_histogram": 0.0},
    "garbage_fds": {},
    "huge_result": {"softmax_backward": 0.0},
    "infinite_loop": {"softmax_backward": 0.0},
    "infinite_loop_at_import": ALL_LOST,
    "kill_parent": {"loss_backward": 0.0},
    "late_fake_line": {"loss_backward": 0.0},
    "lock_filler": {},
    # linear_matches_reference keeps its 2.5; linear_contract (calls linear_backward) deducts 2
    "memory_bomb": {"linear": 0.5},
    # 4 x 1.2 GiB against memory_mb 2048: ending the submission cuts short the first call
    # of linear in each worker, in linear_matches_reference (2.5) and linear_contract (2)
    "memory_children": {"linear": 5.5},
    # max_margin_loss keeps 3.3333; the properties check (needs the backward) deducts 2
    "missing_functions": {"softmax_backward": 0.0, "max_margin": 1.3333},
    "mutates_inputs": {"loss": 8.0},  # loss_contract deducts 20%
    "os_exit_at_import": ALL_LOST,
    "patch_grader": {"color_histogram": 0.0},
    "patch_libraries": {"loss_backward": 0.0, "color_histogram": 0.0},
    "print_flood": {},
    "proc_reference_thief": {"color_histogram": 0.0},
    "read_reference": {"color_histogram": 0.0},
    "report_rewriter": {},
    "results_json_writer": {"loss_backward": 0.0},
    "returns_nan_and_wrong_shapes": {"linear": 8.0, "max_margin": 1.3333},
    "returns_none_and_lists": {"loss_backward": 0.0, "color_histogram": 0.0},
    # as root the student's folder is a size-limited tmpfs: writes fail, linear carries on
    "scratch_filler": {},
    # 60 spinning children: the CPU limit ends the submission during linear's first call
    # in each worker (linear_matches_reference's 2.5, linear_contract's 2)
    "spinning_children": {"linear": 5.5},
    "syntax_error": ALL_LOST,
    "sys_exit_at_import": ALL_LOST,
    "wrong_signatures": {"linear": 5.5, "loss_backward": 0.0, "max_margin": 2.6667},
}
# Meaningful only against the root-mode isolation (as a plain user a submission
# can signal the grader and read whatever the grader's user can read).
ROOT_ONLY = {"kill_parent", "read_reference"}
# Graded with a short import limit: nothing can be graded anyway.
SHORT_IMPORT = {"infinite_loop_at_import"}
# Graded with a call limit of 10 s: its children need time to touch the memory they hold,
# and the memory limit, not the time limit, must be what stops them.
LONG_CALLS = {"memory_children"}
NAMES = sorted(EXPECTED)


@dataclass
class Run:
    """One grading of one attack in one format."""

    returncode: int | None
    stdout: str
    stderr: str
    results: str | None  # the gradescope --output file
    cwd: Path


def _limited_copy(base: Path, **limits: float) -> Path:
    """A copy of softmax_lab (spec and checks) with some limits changed and fewer
    hypothesis examples: every attack is blatant, and the suite tests the sandbox."""
    folder = base / "softmax_lab"
    shutil.copytree(LAB, folder, ignore=shutil.ignore_patterns("__pycache__", "secret.txt", "samples"))
    data = yaml.safe_load((LAB / "assignment.yaml").read_text(encoding="utf-8"))
    data.setdefault("limits", {}).update(limits)
    data.setdefault("hypothesis", {})["max_examples"] = 5
    (folder / "assignment.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return folder


def _grade(assignment: Path, attack: str, fmt: str, workdir: Path) -> Run:
    cwd = workdir / f"{attack}-{fmt}"
    cwd.mkdir()
    target = cwd / "results" / "results.json"
    command = [sys.executable, "-m", "grader", "grade", str(assignment), str(ATTACKS / f"{attack}.py"),
               "--format", fmt]
    if fmt == "gradescope":
        command += ["--output", str(target)]
    try:
        done = subprocess.run(command, check=False, cwd=cwd, capture_output=True, text=True, errors="replace",
                              timeout=GRADE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        return Run(None, str(exc.stdout or ""), f"timed out after {GRADE_TIMEOUT_S} s", None, cwd)
    results = target.read_text(encoding="utf-8") if target.exists() else None
    return Run(done.returncode, done.stdout, done.stderr, results, cwd)


@pytest.fixture(scope="module")
def gradescope_dir_existed() -> bool:
    return Path("/autograder").exists()


@pytest.fixture(scope="module")
def runs(tmp_path_factory, gradescope_dir_existed) -> dict[tuple[str, str], Run]:
    """Every selected attack graded in every format, two at a time."""
    base = tmp_path_factory.mktemp("attack-assignments")
    limited = _limited_copy(base / "limited", call_seconds=3, import_seconds=30)
    short = _limited_copy(base / "short", call_seconds=3, import_seconds=6)
    roomy = _limited_copy(base / "roomy", call_seconds=10, import_seconds=30)
    workdir = tmp_path_factory.mktemp("attack-runs")
    names = [n for n in NAMES if AS_ROOT or n not in ROOT_ONLY]
    slow_first = sorted(names, key=lambda n: n not in ("infinite_loop_at_import", "infinite_loop",
                                                       "huge_result", "memory_bomb"))
    jobs = [(n, fmt) for n in slow_first for fmt in FORMATS if fmt == "json" or n in PLATFORM_CASES]
    with ThreadPoolExecutor(max_workers=2) as pool:
        done = pool.map(lambda job: _grade(short if job[0] in SHORT_IMPORT else roomy if job[0] in LONG_CALLS
                                           else limited, *job, workdir), jobs)
        return dict(zip(jobs, done))


def _run(runs: dict, name: str, fmt: str) -> Run:
    if not AS_ROOT and name in ROOT_ONLY:
        pytest.skip("this attack is graded only when the grader runs as root")
    run = runs[(name, fmt)]
    assert run.returncode == 0, f"{name} --format {fmt}: exit {run.returncode}\n{run.stderr[-3000:]}"
    return run


def _json_report(runs: dict, name: str) -> dict:
    return json.loads(_run(runs, name, "json").stdout)


def _expected_scores(report: dict, name: str) -> dict[str, float]:
    return {q["name"]: EXPECTED[name].get(q["name"], 0.0 if q["name"] in TRAINING else q["max_score"])
            for q in report["questions"]}


def _planted(cwd: Path) -> list[Path]:
    """What appeared in the grader's working folder (hypothesis keeps a cache there)."""
    return sorted(path for path in cwd.iterdir() if path.name != ".hypothesis")


def _messages(report: dict, question: str) -> str:
    return "\n".join(c["message"] for q in report["questions"] if q["name"] == question for c in q["checks"])


def test_every_attack_file_has_an_expectation():
    files = {path.stem for path in ATTACKS.glob("*.py")}
    assert files == set(EXPECTED)
    assert len(files) >= 20


@pytest.mark.parametrize("name", NAMES)
def test_attack_costs_exactly_its_questions(runs, name):
    report = _json_report(runs, name)
    assert [q["name"] for q in report["questions"]] == REPORTED
    got = {q["name"]: q["score"] for q in report["questions"]}
    expected = _expected_scores(report, name)
    wrong = {q: (got[q], expected[q]) for q in REPORTED if abs(got[q] - expected[q]) > 1e-3}
    assert not wrong, f"{name}: (got, expected) per question: {wrong}\n" + json.dumps(report, indent=1)[:6000]
    for question in report["questions"]:
        for check in question["checks"]:
            assert check["passed"] or check["message"].strip(), f"{name}: {check['name']} failed silently"


@pytest.mark.parametrize("name", PLATFORM_CASES)
def test_autolab_report_is_well_formed(runs, name):
    run = _run(runs, name, "autolab")
    assert len(run.stdout.encode()) < 1000 * 1024, "Autolab cuts output above 1000 KiB"
    lines = run.stdout.rstrip("\n").split("\n")
    last = json.loads(lines[-1])
    assert list(last["scores"]) == AUTOMATIC
    report = _json_report(runs, name)
    assert last["scores"] == {q["name"]: q["score"] for q in report["questions"] if not q.get("manual")}
    assert abs(last["scoreboard"][0] - report["score"]) < 1e-6
    assert lines[-2] == "", "a blank line must precede the scores line"
    assert not [line for line in lines[:-1] if line.lstrip().startswith('{"scores"')], \
        "only the grader's own line may look like a score line"


@pytest.mark.parametrize("name", PLATFORM_CASES)
def test_gradescope_report_is_well_formed(runs, name):
    run = _run(runs, name, "gradescope")
    assert run.stdout == ""
    assert run.results is not None, "results.json was not written"
    results = json.loads(run.results)
    report = _json_report(runs, name)
    tests = results["tests"]
    assert tests and len({t["number"] for t in tests}) == len(tests)
    for test in tests:
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
        assert isinstance(test["output"], str) and isinstance(test["name"], str)
    assert abs(results["score"] - sum(t["score"] for t in tests)) < 1e-6
    assert abs(results["score"] - report["score"]) < 1e-3
    assert isinstance(results["execution_time"], int) and len(results["output"]) < 100_000
    if AS_ROOT:  # as a plain user the student's code may write where the grader's user can
        assert _planted(run.cwd) == [run.cwd / "results"], "nothing else appears where the grader runs"


def test_fake_score_lines_stay_quoted_student_output(runs):
    run = _run(runs, "fake_autolab_lines", "autolab")
    assert '"loss_backward": 1000' in run.stdout, "the fake line shows up as the student's output"
    assert json.loads(run.stdout.rstrip("\n").split("\n")[-1])["scores"]["loss_backward"] == 0


def test_planted_results_json_is_ignored(runs, gradescope_dir_existed):
    run = _run(runs, "results_json_writer", "gradescope")
    results = json.loads(run.results)
    assert results["score"] == 80 and results["tests"], "the planted results.json won"
    if AS_ROOT:
        for fmt in ("json", "autolab"):
            assert _planted(_run(runs, "results_json_writer", fmt).cwd) == []
        if not gradescope_dir_existed:
            assert not Path("/autograder").exists(), "the submission created /autograder"


@pytest.mark.skipif(not AS_ROOT, reason="the reference is hidden only when the grader runs as root")
def test_reference_and_checks_stay_out_of_reach(runs):
    run = _run(runs, "read_reference", "gradescope")
    output = json.loads(run.results)["output"]
    assert "gradecheck-attack hunted" in output and "stole []" in output
    assert "BEGIN SOLUTION" not in output and "STOLEN" not in output


@pytest.mark.skipif(not AS_ROOT, reason="the grader is hidden only when the grader runs as root")
def test_grader_modules_stay_out_of_reach(runs):
    output = json.loads(_run(runs, "patch_grader", "gradescope").results)["output"]
    assert "gradecheck-attack patched: []" in output


def test_floods_are_trimmed(runs):
    output = json.loads(_run(runs, "print_flood", "gradescope").results)["output"]
    assert "gradecheck-attack flood" in output and len(output) < 50_000
    table = _run(runs, "print_flood", "autolab").stdout
    assert "gradecheck-attack flood" in table and len(table) < 50_000


def test_failures_say_what_happened(runs):
    assert "did not finish within 3 s" in _messages(_json_report(runs, "infinite_loop"), "softmax_backward")
    # on a loaded machine the ever-growing list may hit the call's time limit first
    bomb = _messages(_json_report(runs, "memory_bomb"), "linear")
    assert "MemoryError" in bomb or "memory" in bomb or "did not finish within 3 s" in bomb
    exits = _json_report(runs, "exit_in_functions")
    assert "SystemExit" in _messages(exits, "loss_backward")
    assert "exited with status 0" in _messages(exits, "color_histogram")
    syntax = _messages(_json_report(runs, "syntax_error"), "softmax")
    assert "SyntaxError" in syntax and "line" in syntax
    assert "cannot be called with 2 arguments" in _messages(_json_report(runs, "wrong_signatures"), "loss_backward")
    assert "does not define softmax_backward()" in _messages(_json_report(runs, "missing_functions"),
                                                             "softmax_backward")
    assert "did not finish within 6 s" in _messages(_json_report(runs, "infinite_loop_at_import"), "softmax")


def test_memory_held_by_children_counts_for_the_submission(runs):
    """4 children of 1.2 GiB each, under a 2048 MB limit meant per submission."""
    assert "memory" in _messages(_json_report(runs, "memory_children"), "linear").lower()


def test_no_process_started_by_an_attack_survives(runs):
    survivors = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="replace")
            comm = Path(f"/proc/{entry}/comm").read_text(errors="replace")
            state = Path(f"/proc/{entry}/stat").read_text(errors="replace").rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X") and ("gradecheck-attack" in cmdline or comm.startswith("gcattack")):
            survivors.append(f"{entry}: {comm.strip()} {cmdline[:120]!r}")
    assert not survivors, "processes outlived grading:\n" + "\n".join(survivors)
