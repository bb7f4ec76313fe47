"""Write an nbgrader course folder with one graded assignment per chapter.

Usage: python tools/make_assignments.py [--src book] [--out _build/course] [--seed N] [--lang L]

For every chapter ``<src>/0*.md`` with an exercise that :mod:`convlab.grading` can grade, this
writes ``<out>/source/<chapter>/<chapter>.ipynb`` (the instructor version, for
``nbgrader generate_assignment``) and ``<out>/nbgrader_config.py``. An assignment holds only
the chapter's exercises (not the whole chapter, so that grading a submission takes seconds):

* a read-only first cell with the imports (:data:`convlab.grading.SETUP`);
* per code exercise: its text and the chapter's cells between the text and the stub (the
  model to count, the buggy loop to fix: read-only), an answer cell with the solution between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``, a test cell with the chapter's checker cells
  (1 point for a function, 2 for an answer made of values — a count, shapes, a prediction;
  the grade is the share of the public cases or parts correct) and, for a function, a
  **hidden** test cell (2 points) on new cases drawn from ``--seed`` (random by default), which
  only this source version contains (a prediction has one right answer: no hidden test);
* per conceptual exercise: its text and a manually graded answer cell (2 points) holding, in the
  instructor version only, the chapter's model answer and a rubric.

With ``--lang zh_CN`` the course is written in that language into ``<out>-zh_CN`` (a course
folder of its own, with the same assignment names): the chapters are translated by
``tools/translate_notebook.py`` first, the setup cell sets ``LANG = "zh_CN"``. By default every
language with notebook texts (``locales/<lang>/notebooks.po``) is written.

The test cells are graded by :mod:`convlab.autograde` in clean processes, not in the learner's
kernel (``nbgrader_config.py`` sets this up). Exercises ConvLab cannot grade yet are left out.
"""

from __future__ import annotations

import argparse
import ast
import re
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import translate_notebook  # noqa: E402
from make_student import DIRECTIVE, _closing, _exercise_heading, languages  # noqa: E402

from convlab import grading  # noqa: E402
from convlab.autograde import answer_id  # noqa: E402

PUBLIC_POINTS = 1
VALUE_POINTS = 2
HIDDEN_POINTS = 2
WRITTEN_POINTS = 2
RUBRIC = ("**Rubric (2 points).** 2: gives the model answer's reasons, in the learner's own words, "
          "with no wrong statement. 1: the right idea with a gap or one wrong statement. "
          "0: missing, or the reasoning is wrong.")
CHAPTER_IMPORTS = {
    "04_receptive_fields":
        "from convlab.reference import gradient_receptive_field, nonzero_extent\n",
}
"""Imports a chapter's checker cells need beyond :data:`convlab.grading.SETUP` and ``checks``."""
CONFIG = '''\
# nbgrader configuration of the ConvLab course; written by `make assignments`
# (tools/make_assignments.py). Run nbgrader's commands in this folder.
c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "convlab"

# Autograding never runs a submission's notebook: convlab.autograde grades each test cell by
# running the learner's answer cell in a clean child process (replacing nbgrader's Execute).
c.Autograde.autograde_preprocessors = [
    "convlab.autograde.CleanProcessGrading",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.CleanProcessGrading.time_limit = {time_limit}  # seconds per exercise and submission
'''


@dataclass
class Exercise:
    """One exercise as the chapter states it."""

    label: str
    title: str
    text: list[str]
    stub: str = ""
    solution: str = ""
    checker: str = ""
    model_answer: str = ""
    context: list[tuple[str, str]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def _plain_markdown(text: str) -> str:
    """MyST roles, which Jupyter does not render, as text: {doc}`Chapter 5 <05_x>` → Chapter 5."""
    return re.sub(r"\{\w+\}`([^`<]*?)\s*(?:<[^>]*>)?`", lambda m: m[1] or "", text)


def _shown(source: str) -> str:
    """A checker cell followed by another one in the same cell: its result printed (only a
    cell's last expression is shown)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return source
    if len(body) == 1 and isinstance(body[0], ast.Expr):
        return f"print({source.strip()})"
    return source


def read_exercises(chapter: Path, lang: str = "en") -> list[Exercise]:
    """The exercises of one chapter, in order, with their stub, solution and checker cells (in
    ``lang``: the chapter translated by ``tools/translate_notebook.py``)."""
    exercises: list[Exercise] = []
    current: Exercise | None = None
    for cell in translate_notebook.read_chapter(chapter, lang).cells:
        if cell.cell_type == "markdown":
            lines = cell.source.splitlines(keepends=True)
            if (current is not None and not current.stub and cell.source.strip()
                    and not any(DIRECTIVE.match(line.rstrip("\n")) for line in lines)):
                current.context.append(("markdown", cell.source))   # text between the exercise
                continue                                             # and its stub
            i = 0
            while i < len(lines):
                match = DIRECTIVE.match(lines[i].rstrip("\n"))
                if match and match["name"] in ("exercise", "solution"):
                    end = _closing(lines, i, match["fence"], str(chapter))
                    body = lines[i + 1:end]
                    if match["name"] == "exercise":
                        label = next((line.split(":", 2)[2].strip() for line in body
                                      if line.startswith(":label:")), "")
                        current = Exercise(label, match["arg"].strip(),
                                           _exercise_heading(body, match["arg"]))
                        exercises.append(current)
                    elif current is not None and match["arg"].strip() == current.label:
                        current.model_answer = "".join(
                            line for line in body if not re.match(r"^:[\w-]+:", line)).strip()
                    i = end + 1
                    continue
                i += 1
        elif current is not None:
            tags = cell.metadata.get("tags", [])
            if "exercise-stub" in tags:
                current.stub = cell.source
            elif "solution" in tags:
                current.solution = cell.source
            elif not current.stub:
                current.context.append(("code", cell.source))
            elif "checks.check_" in cell.source:
                current.checker = "\n\n".join(filter(None, (_shown(current.checker),
                                                              cell.source)))
    return exercises


def _meta(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
          points: int | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def solution_region(stub: str, solution: str) -> str:
    """The solution inside nbgrader's markers; a function keeps its ``def`` line (from the stub)."""
    first = solution.splitlines()[0] if solution else ""
    if first.startswith("def ") and stub.startswith(first):
        body = solution.splitlines()[1:]
        return "\n".join([first, "    ### BEGIN SOLUTION", *body, "    ### END SOLUTION"])
    return f"### BEGIN SOLUTION\n{solution.strip()}\n### END SOLUTION"


def _code_cells(ex: Exercise, seed: int, lang: str = "en") -> list[nbformat.NotebookNode]:
    spec = grading.EXERCISES[ex.label]
    new_code, new_md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [(new_code if kind == "code" else new_md)(
                 _plain_markdown(source) if kind == "markdown" else source,
                 metadata=_meta(f"{ex.label}-context-{n}", locked=True))
             for n, (kind, source) in enumerate(ex.context)]
    single = spec.kind in ("value", "parts")
    if single:
        cells.append(new_md(f"Your answer cell starts from:\n\n```python\n{ex.stub.strip()}\n```",
                            metadata=_meta(f"{ex.label}-template", locked=True)))
    cells.append(new_code(solution_region(ex.stub, ex.solution),
                          metadata=_meta(answer_id(ex.label), solution=True)))
    public_points = VALUE_POINTS if single else PUBLIC_POINTS
    cells.append(new_code(
        f"{grading.spec_line(ex.label, 'public', lang=lang)}\n"
        "# Run this cell for the checker's feedback; "
        f"graded on fixed public cases.\n{ex.checker.strip()}",
        metadata=_meta(f"{ex.label}-public", grade=True, locked=True, points=public_points)))
    if not single:
        cells.append(new_code(
            "# Hidden tests: new cases, graded in a clean process when your work is collected.\n"
            f"### BEGIN HIDDEN TESTS\n{grading.spec_line(ex.label, 'hidden', seed, lang=lang)}\n"
            "### END HIDDEN TESTS",
            metadata=_meta(f"{ex.label}-hidden", grade=True, locked=True, points=HIDDEN_POINTS)))
    return cells


def assignment(chapter: Path, exercises: list[Exercise], seed: int,
               lang: str = "en") -> nbformat.NotebookNode:
    """The instructor (source) version of one chapter's assignment (its test cells ask the
    autograder for reports in ``lang``)."""
    new_code, new_md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        new_md(f"# Assignment: {chapter.stem.split('_', 1)[1].replace('_', ' ').capitalize()}\n\n"
               "Write each answer in its answer cell (replace `raise NotImplementedError()`), "
               "then run the test cell below it for feedback. Written questions are graded by "
               "your instructor. Do not add code to other cells: only the answer cells are "
               "graded, each on its own, on cases you have not seen.",
               metadata=_meta("intro", locked=True)),
        new_code(grading.SETUP + "from convlab import checks, i18n\n"
                 + CHAPTER_IMPORTS.get(chapter.stem, "")
                 + "\nLANG = i18n.book_language()  # the feedback's language, as in the chapters\n",
                 metadata=_meta("setup", locked=True)),
    ]
    for ex in exercises:
        cells.append(new_md(_plain_markdown("".join(ex.text)).strip(),
                            metadata=_meta(f"{ex.label}-text", locked=True)))
        if ex.label in grading.EXERCISES:
            cells += _code_cells(ex, seed, lang)
        else:
            cells.append(new_md(
                f"**Model answer.**\n\n{_plain_markdown(ex.model_answer)}\n\n{RUBRIC}",
                metadata=_meta(answer_id(ex.label), solution=True, grade=True,
                               points=WRITTEN_POINTS)))
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def gradable(exercises: list[Exercise]) -> list[Exercise]:
    """The exercises an assignment can hold: auto-graded ones and written ones (model answer)."""
    return [ex for ex in exercises
            if (ex.label in grading.EXERCISES and ex.solution and ex.checker)
            or (not ex.stub and ex.model_answer)]


def make(src: Path, out: Path, seed: int,
         time_limit: float = grading.DEFAULT_TIME_LIMIT, lang: str = "en") -> list[Path]:
    """Write the course folder (in ``lang``); returns the source notebooks written."""
    written = []
    for chapter in sorted(src.glob("0*.md")):
        exercises = gradable(read_exercises(chapter, lang))
        if not any(ex.label in grading.EXERCISES for ex in exercises):
            continue
        target = out / "source" / chapter.stem / f"{chapter.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nb = assignment(chapter, exercises, seed, lang)
        nbformat.write(translate_notebook.translate_assignment(nb, lang), target)
        written.append(target)
    config = CONFIG.format(time_limit=time_limit)
    if lang != "en":  # a course of its own: its own id in nbgrader's exchange and gradebook
        config += f'c.CourseDirectory.course_id = "convlab-{lang}"\n'
    (out / "nbgrader_config.py").write_text(config, encoding="utf-8")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("book"))
    parser.add_argument("--out", type=Path, default=Path("_build/course"))
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the hidden tests (default: a new random one)")
    parser.add_argument("--time-limit", type=float, default=grading.DEFAULT_TIME_LIMIT)
    parser.add_argument("--lang", nargs="+", default=None,
                        help="languages (default: English and every translation)")
    args = parser.parse_args()
    seed = secrets.randbelow(2**31) if args.seed is None else args.seed
    for lang in args.lang or languages():
        out = args.out if lang == "en" else args.out.with_name(f"{args.out.name}-{lang}")
        try:
            written = make(args.src, out, seed, args.time_limit, lang)
        except (ValueError, FileNotFoundError) as err:
            print(f"make_assignments: {err}", file=sys.stderr)
            return 1
        print(f"wrote {len(written)} assignments ({lang}) and nbgrader_config.py to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
