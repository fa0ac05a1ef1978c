"""`make demo`: grade the sample submissions shipped with an assignment.

Shows each sample's table and writes its Autolab and Gradescope reports (and
the student handout and platform bundles) into the folder given by --out.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import spec as spec_module
from .commands.handout import build as build_handout
from .output import write_atomically
from .reporters import REPORTERS
from .runner import grade


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.demo")
    parser.add_argument("--assignment", default="softmax_lab")
    parser.add_argument("--out", default="demo-output")
    args = parser.parse_args(argv)
    assignment = spec_module.load(args.assignment)
    out = Path(args.out).resolve()
    samples = sorted((assignment.folder / "samples").glob("*.py"))
    if not samples:
        print(f"no samples in {assignment.folder / 'samples'}", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(lambda path: grade(assignment, path), samples))
    for path, report in zip(samples, reports):
        print(f"=== sample {path.name} " + "=" * max(0, 60 - len(path.name)))
        print(REPORTERS["table"](report))
        write_atomically(out / f"{path.stem}.table.txt", REPORTERS["table"](report))
        write_atomically(out / f"{path.stem}.autolab.txt", REPORTERS["autolab"](report))
        write_atomically(out / f"{path.stem}.results.json", REPORTERS["gradescope"](report))
    print(f"Autolab and Gradescope reports of the samples are in {out}/")
    for path, report in zip(samples, reports):
        print(f"  {path.stem}: {report.score:g} / {report.max_score:g}")
    if importlib.util.find_spec("handout") is None:  # a copy of the engine without the builder
        return 0
    # a throwaway secret for the demo's bundles, rather than a secret.txt in the checkout
    os.environ.setdefault("GRADECHECK_SECRET", "the demo's own secret: make a course's with `grader handout`")
    built = build_handout(assignment, out / "handout")
    print(f"The handout and the Autolab / Gradescope bundles are in {out / 'handout' / assignment.name}/")
    for name, location in built.items():
        print(f"  {name}: {location}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
