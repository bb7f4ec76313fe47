"""How long `nbgrader autograde` takes per submission on this machine, and for a class of 200.

Writes a course with tools/make_assignments.py into a temporary folder (one assignment per
chapter, all five), hands in copies of the instructor's solutions (each answer runs every public
and hidden case; chapter 3's train and discriminator steps run models in the clean child),
autogrades 1 and then N submissions of each assignment with stock nbgrader (paired, in rounds
that visit the assignments in a rotating order), and prints, per chapter, minimum, median and
spread of the fixed start-up time and of the seconds per submission, and the projected time for
200 students. Target: at most 15 minutes per chapter for 200 students; the verdict is stated on
the median projected time over the target.

Usage: python bench/grading_speed.py [--submissions 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLASS_SIZE = 200
TARGET_MINUTES = 15


def _nbgrader(course: Path, *args: str) -> float:
    """Run one nbgrader command in the course folder; its wall-clock seconds."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _solved(course: Path, assignment: str) -> nbformat.NotebookNode:
    """The released notebook with the instructor's answers filled in."""
    source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]:
               "".join(line for line in c.source.splitlines(keepends=True)
                       if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
               for c in source.cells if c.metadata["nbgrader"].get("solution")}
    released = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in released.cells:
        cell.source = answers.get(cell.metadata["nbgrader"]["grade_id"], cell.source)
    return released


def _hand_in(course: Path, assignment: str, students: range) -> None:
    notebook = _solved(course, assignment)
    for n in students:
        target = course / "submitted" / f"student{n:03d}" / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)


def stats(values: list[float]) -> str:
    """min, median and spread (max/min) of ``values``."""
    low = min(values)
    spread = f"{max(values) / low:5.2f}x" if low > 0 else "    -"
    return f"{low:7.2f} {statistics.median(values):7.2f} {spread}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds over the assignments (default 3)")
    args = parser.parse_args()
    n = args.submissions
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        subprocess.run([sys.executable, str(ROOT / "tools" / "make_assignments.py"),
                        "--out", str(course), "--src", str(ROOT / "book"), "--seed", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        assignments = sorted(p.name for p in (course / "source").iterdir())
        for assignment in assignments:
            _nbgrader(course, "generate_assignment", assignment)
            _hand_in(course, assignment, range(n))
        # Per round and assignment: autograde one submission, then all n (paired); the
        # assignments are visited in a rotating order, so load falls on all of them alike.
        startup: dict[str, list[float]] = {a: [] for a in assignments}
        per: dict[str, list[float]] = {a: [] for a in assignments}
        for r in range(args.rounds):
            for i in range(len(assignments)):
                assignment = assignments[(r + i) % len(assignments)]
                one = _nbgrader(course, "autograde", assignment, "--student=student000",
                                "--force")
                many = _nbgrader(course, "autograde", assignment, "--force")   # all n
                each = max(many - one, 0.0) / (n - 1)     # the n-1 extra submissions
                per[assignment].append(each)
                startup[assignment].append(max(one - each, 0.0))
        print(f"nbgrader autograde, {n} submissions per assignment, {args.rounds} interleaved "
              f"rounds ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
        print(f"{'assignment':28} {'start-up s: min  median spread':>30} "
              f"{'s/submission: min  median spread':>33} {f'{CLASS_SIZE} students':>13} "
              f"{'/ target':>9}  verdict (median)")
        for assignment in assignments:
            projected = [s + CLASS_SIZE * p for s, p in
                         zip(startup[assignment], per[assignment], strict=True)]
            ratio = statistics.median(projected) / (TARGET_MINUTES * 60)
            print(f"{assignment:28} {stats(startup[assignment]):>30} "
                  f"{stats(per[assignment]):>33} {statistics.median(projected) / 60:9.1f} min "
                  f"{ratio:8.2f}x  {'met' if ratio <= 1 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
