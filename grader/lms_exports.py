"""Gradebook files in the layouts the course's systems import.

- Canvas (Grades > Import): a header row `Student, ID, SIS User ID, SIS Login ID,
  Section, <assignment>`, a "Points Possible" row, then one row per student.
  Canvas matches a row by its ID, SIS User ID or SIS Login ID; an export of a
  platform gives the SID (SIS User ID) and the email (SIS Login ID, which is how
  most schools log in). A new assignment column creates the assignment.
- Autolab (an assessment's "Import grades" as scores): no header; each row is a
  student's email, then one score per problem in the assessment's order (the
  questions' order, as the Autolab README lists them), blank where the grader
  has no score (a question graded by hand): Autolab leaves blanks unchanged.

Only students the platform identified can be matched: a plain folder's students
(no email, no SID) are left out of both files, and `write_lms_gradebooks` says
how many were.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .output import write_atomically
from .spec import Assignment

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]


def people(report: dict) -> list[dict]:
    """The identified people a report is for: one dict (name, email, sid, version) per
    member of the submission's group; none for a plain folder's student."""
    identity = report.get("identity") or {}
    version = identity.get("version", "")
    found = []
    for member in identity.get("members") or []:
        if isinstance(member, dict) and (member.get("email") or member.get("sid")):
            found.append({"name": str(member.get("name", "")), "email": str(member.get("email", "")),
                          "sid": str(member.get("sid", "")), "version": version})
    return found


def latest_per_person(reports: list[dict]) -> list[tuple[dict, dict]]:
    """(person, report) for each identified person, their highest version only (one row
    per student even when --all-versions graded several), in the reports' order."""
    chosen: dict[str, tuple[dict, dict]] = {}
    for report in reports:
        for person in people(report):
            key = (person["email"] or person["sid"]).lower()
            held = chosen.get(key)
            if held is None or _version(person) >= _version(held[0]):
                chosen[key] = (person, report)
    return list(chosen.values())


def _version(person: dict) -> int:
    try:
        return int(person.get("version") or 0)
    except (TypeError, ValueError):
        return 0


def canvas_csv(assignment: Assignment, reports: list[dict]) -> str:
    """The Canvas import file's text: each identified student's automatic total."""
    column = assignment.title or assignment.name
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CANVAS_HEADER + [column])
    writer.writerow(["Points Possible", "", "", "", "", f"{assignment.automatic_points:g}"])
    for person, report in latest_per_person(reports):
        writer.writerow([person["name"], "", person["sid"], person["email"], "",
                         f"{float(report.get('score', 0)):g}"])
    return buffer.getvalue()


def autolab_csv(assignment: Assignment, reports: list[dict]) -> str:
    """The Autolab scores import file's text: email, then each problem's score."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for person, report in latest_per_person(reports):
        if not person["email"]:
            continue  # Autolab matches by email alone
        by_name = {q.get("name"): q.get("score") for q in report.get("questions", [])}
        scores = ["" if q.manual or by_name.get(q.name) is None else f"{float(by_name[q.name]):g}"
                  for q in assignment.questions]
        writer.writerow([person["email"], *scores])
    return buffer.getvalue()


def write_lms_gradebooks(assignment: Assignment, reports: list[dict], out: Path) -> dict[str, Path]:
    """Write OUT/gradebook_canvas.csv and OUT/gradebook_autolab.csv; return their paths by
    system ("canvas", "autolab")."""
    written = {"canvas": out / "gradebook_canvas.csv", "autolab": out / "gradebook_autolab.csv"}
    write_atomically(written["canvas"], canvas_csv(assignment, reports))
    write_atomically(written["autolab"], autolab_csv(assignment, reports))
    return written


def unidentified(reports: list[dict]) -> int:
    """How many reports name nobody the platforms know (no email, no SID)."""
    return sum(1 for report in reports if not people(report))
