"""How long `nbgrader autograde` takes per submission on this machine, and for a class of 200.

Writes a course with tools/make_assignments.py into a temporary folder (one assignment per
chapter, all five), hands in copies of the instructor's solutions (each answer runs every public
and hidden case; chapter 3's train and discriminator steps run models in the clean child),
autogrades 1 and then N submissions of each assignment with stock nbgrader, and prints, per
chapter, the fixed start-up time, the seconds per submission and the projected time for 200
students. Target: at most 15 minutes per chapter for 200 students.

Usage: python bench/grading_speed.py [--submissions 8]
"""

from __future__ import annotations

import argparse
import os
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=8)
    n = parser.parse_args().submissions
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        subprocess.run([sys.executable, str(ROOT / "tools" / "make_assignments.py"),
                        "--out", str(course), "--src", str(ROOT / "book"), "--seed", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        assignments = sorted(p.name for p in (course / "source").iterdir())
        print(f"nbgrader autograde, {n} submissions per assignment ({os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f})")
        print(f"{'assignment':28} {'start-up s':>10} {'s/submission':>13} "
              f"{f'{CLASS_SIZE} students':>13} {'vs target':>10}")
        for assignment in assignments:
            _nbgrader(course, "generate_assignment", assignment)
            _hand_in(course, assignment, range(1))
            one = _nbgrader(course, "autograde", assignment)
            _hand_in(course, assignment, range(1, n))
            many = _nbgrader(course, "autograde", assignment, "--force")   # all n
            per = max(many - one, 0.0) / (n - 1)     # the n-1 extra submissions
            startup = max(one - per, 0.0)
            projected = startup + CLASS_SIZE * per
            print(f"{assignment:28} {startup:10.1f} {per:13.2f} {projected / 60:11.1f} min "
                  f"{projected / (TARGET_MINUTES * 60):9.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
