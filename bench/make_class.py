"""Generate a class of N submissions (correct, buggy and hostile) for batch benchmarks,
and say what each one must score.

Files come from tests/submissions: per eight students, four correct ones (the
styles of good/), three with one bug (bad/) and one attack (attacks/), each
pool cycled in a fixed order, so every run is the same class. With N = 200
that is 100 correct, 75 buggy and all 25 attacks once, among them the ones
whose cost is a time limit (an endless loop at import waits out the
import limit, one inside a function the call limit).

`check_reports` compares each report with what its source must score:
full marks for good/, exactly the `Loses:` questions for bad/, the
per-question scores tests/test_attacks.py expects for attacks/.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "submissions"
sys.path.insert(0, str(ROOT / "tests"))

from test_attacks import EXPECTED as ATTACKS  # noqa: E402
from test_attacks import STOPPED_IN_LINEAR  # noqa: E402  (anywhere from it to full marks in linear)
from test_attacks import TRAINING  # noqa: E402  (an attack file has no training code: 0 there)
from test_submissions import expected_losses  # noqa: E402

PATTERN = ("good",) * 4 + ("bad",) * 3 + ("attacks",)


# Attacks whose cost is mostly waiting out a limit (a call's, the import's, a memory watch's):
# their time overlaps for free under two jobs, so a scaling figure leaves them out and
# measures them apart.
WAIT_OUT_A_LIMIT = {"infinite_loop", "infinite_loop_at_import", "memory_children", "spinning_children",
                    "fork_bomb", "background_processes", "late_fake_line", "memory_bomb"}


def pools(attacks: str = "all") -> dict[str, list[Path]]:
    """The source files of each kind, sorted; `attacks` is "all", "no-waiting" (without the
    WAIT_OUT_A_LIMIT ones) or "waiting" (only those)."""
    found = sorted((CORPUS / "attacks").glob("*.py"))
    if attacks == "no-waiting":
        found = [p for p in found if p.stem not in WAIT_OUT_A_LIMIT]
    elif attacks == "waiting":
        found = [p for p in found if p.stem in WAIT_OUT_A_LIMIT]
    return {"good": sorted((CORPUS / "softmax_lab" / "good").glob("*.py")),
            "bad": sorted((CORPUS / "softmax_lab" / "bad").glob("*.py")),
            "attacks": found}


def make_class(folder: Path, count: int, attacks: str = "all") -> dict[str, Path]:
    """Write `count` submissions named student000.py ... into `folder`; return student -> source
    (`attacks` chooses the attack pool, see `pools`)."""
    folder.mkdir(parents=True, exist_ok=True)
    sources, used = pools(attacks), {kind: 0 for kind in PATTERN}
    written = {}
    for i in range(count):
        kind = PATTERN[i % len(PATTERN)]
        pool = sources[kind]
        source = pool[used[kind] % len(pool)]
        used[kind] += 1
        student = f"student{i:03d}"
        shutil.copy(source, folder / f"{student}.py")
        written[student] = source
    return written


def attack_class(folder: Path) -> dict[str, Path]:
    """Write each WAIT_OUT_A_LIMIT attack once into `folder`; return student -> source."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for source in pools("waiting")["attacks"]:
        student = f"attack_{source.stem}"
        shutil.copy(source, folder / f"{student}.py")
        written[student] = source
    return written


def expected_scores(source: Path, maxima: dict[str, float]) -> dict[str, float] | set[str]:
    """Per-question scores `source` must get, or (bad/) the set of questions it must lose on."""
    if source.parent.name == "attacks":
        return {q: ATTACKS[source.stem].get(q, 0.0 if q in TRAINING else top) for q, top in maxima.items()}
    if source.parent.name == "bad":
        return expected_losses(source)
    return dict(maxima)


def check_reports(reports: Path, written: dict[str, Path]) -> list[str]:
    """Every way a report differs from what its source must score (empty: all right)."""
    problems = []
    for student, source in written.items():
        try:
            report = json.loads((reports / f"{student}.json").read_text())
        except (OSError, ValueError) as exc:
            problems.append(f"{student} ({source.name}): no readable report ({exc})")
            continue
        got = {q["name"]: q["score"] for q in report["questions"]}
        maxima = {q["name"]: q["max_score"] for q in report["questions"]}
        want = expected_scores(source, maxima)
        if isinstance(want, set):
            lost = {q for q in got if got[q] < maxima[q] - 1e-6}
            if lost != want:
                problems.append(f"{student} ({source.name}): lost {sorted(lost)}, expected {sorted(want)}")
        else:
            wrong = {q: (got[q], want[q]) for q in want if abs(got[q] - want[q]) > 1e-3
                     and not (q == "linear" and source.stem in STOPPED_IN_LINEAR
                              and STOPPED_IN_LINEAR[source.stem] - 1e-3 <= got[q] <= maxima[q] + 1e-3)}
            if wrong:
                problems.append(f"{student} ({source.name}): (got, expected) {wrong}")
    return problems


if __name__ == "__main__":
    make_class(Path(sys.argv[1]), int(sys.argv[2]))
