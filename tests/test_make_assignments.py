"""tools/make_assignments.py and convlab.grading / convlab.autograde, without running nbgrader's
commands (tests/test_nbgrader_e2e.py does that): the course folder's layout, what the student
version keeps and loses, the hidden cases, and grades of known answers."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from nbgrader.utils import determine_grade

from convlab import autograde, grading

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_assignments",
                                              ROOT / "tools" / "make_assignments.py")
make_assignments = importlib.util.module_from_spec(spec)
sys.modules["make_assignments"] = make_assignments   # its dataclass looks itself up there
spec.loader.exec_module(make_assignments)
SEED = 123456789


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("course")
    make_assignments.make(ROOT / "book", out, SEED)
    return out


def _source(course: Path, chapter: str) -> nbformat.NotebookNode:
    return nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)


def _student(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What `nbgrader generate_assignment` releases: solutions and hidden tests removed."""
    nb, _ = ClearSolutions(enforce_metadata=True).preprocess(nb, {})
    nb, _ = ClearHiddenTests(enforce_metadata=True).preprocess(nb, {})
    return nb


def _solutions(chapter: str) -> dict[str, str]:
    exercises = make_assignments.read_exercises(ROOT / "book" / f"{chapter}.md")
    return {ex.label: ex.solution for ex in exercises if ex.solution}


def test_course_has_config_and_one_assignment_per_gradable_chapter(course: Path) -> None:
    assignments = sorted(p.name for p in (course / "source").iterdir())
    chapters = {label.split("-")[0] for label in grading.EXERCISES}
    assert len(assignments) == len(chapters) == 2
    assert assignments == ["01_convolution", "05_transposed_convolution"]
    config = (course / "nbgrader_config.py").read_text()
    assert "convlab.autograde.CleanProcessGrading" in config
    assert "nbgrader.preprocessors.Execute" not in config


def test_every_gradable_exercise_has_answer_public_and_hidden_cells(course: Path) -> None:
    ids: dict[str, nbformat.NotebookNode] = {}
    for chapter in ("01_convolution", "05_transposed_convolution"):
        nb = _source(course, chapter)
        nbformat.validate(nb)
        ids |= {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells}
    for label, exercise in grading.EXERCISES.items():
        answer = ids[f"{label}-answer"].source
        assert "### BEGIN SOLUTION" in answer and "### END SOLUTION" in answer
        public = ids[f"{label}-public"]
        assert grading.read_spec(public.source) == {"label": label, "cases": "public"}
        assert public.metadata["nbgrader"]["points"] > 0
        if exercise.kind != "value":
            hidden = ids[f"{label}-hidden"].source
            assert re.search(r"### BEGIN HIDDEN TESTS\n.*\n### END HIDDEN TESTS", hidden)
            assert grading.read_spec(hidden) == {"label": label, "cases": "hidden", "seed": SEED}


def test_written_questions_are_manually_graded_with_a_rubric(course: Path) -> None:
    nb = _source(course, "01_convolution")
    written = [c for c in nb.cells if c.metadata["nbgrader"]["grade_id"] ==
               "ch1-ex-same-output-answer"]
    assert len(written) == 1
    cell = written[0]
    assert cell.cell_type == "markdown"
    assert cell.metadata["nbgrader"]["solution"] and cell.metadata["nbgrader"]["grade"]
    assert "Rubric" in cell.source and "window" in cell.source


def test_student_version_has_no_solution_hidden_case_or_model_answer(course: Path) -> None:
    for chapter in ("01_convolution", "05_transposed_convolution"):
        student = _student(_source(course, chapter))
        text = "\n".join(c.source for c in student.cells)
        for solution in _solutions(chapter).values():
            for line in solution.splitlines()[1:]:
                if len(line.strip()) > 12:   # short lines such as `return out` may recur
                    assert line.strip() not in text, line
        assert str(SEED) not in text and "hidden" not in text.replace("Hidden tests", "")
        assert "Rubric" not in text and "Model answer" not in text
        assert text.count("raise NotImplementedError()\n") == sum(
            1 for label in grading.EXERCISES if label.startswith(f"ch{int(chapter[:2])}-"))


def test_a_function_answer_keeps_its_signature_for_the_learner() -> None:
    region = make_assignments.solution_region("def f(x):\n    raise NotImplementedError\n",
                                              "def f(x):\n    return x\n")
    assert region.splitlines()[0] == "def f(x):"
    student = _student(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        region, metadata=make_assignments._meta("a", solution=True))]))
    assert student.cells[0].source.startswith("def f(x):\n    # YOUR CODE HERE")


def test_hidden_cases_are_new_and_depend_on_the_seed() -> None:
    for label, exercise in grading.EXERCISES.items():
        public = exercise.public()
        first = grading.cases_for({"label": label, "cases": "hidden", "seed": 1})
        second = grading.cases_for({"label": label, "cases": "hidden", "seed": 2})
        assert not [case for case in first if case in public], label
        if exercise.kind != "value":
            assert first and first != second, label


def test_chapter_solutions_earn_every_point_and_stubs_none() -> None:
    for chapter in ("01_convolution", "05_transposed_convolution"):
        exercises = make_assignments.read_exercises(ROOT / "book" / f"{chapter}.md")
        for ex in exercises:
            if ex.label not in grading.EXERCISES:
                continue
            for cases in ("public", "hidden"):
                spec = {"label": ex.label, "cases": cases,
                        **({"seed": 7} if cases == "hidden" else {})}
                if cases == "hidden" and not grading.cases_for(spec):
                    continue
                assert grading.grade(spec, ex.solution).score == 1.0, (ex.label, cases)
                assert grading.grade(spec, ex.stub).score == 0.0, (ex.label, cases)


def test_forbidden_convolution_is_refused_even_when_disguised() -> None:
    spec = {"label": "ch1-ex-conv2d", "cases": "public"}
    direct = "def my_conv2d(x, w, b=None, stride=1, padding=0):\n    return F.conv2d(x, w, b)\n"
    assert grading.forbidden_names(direct) == ["conv2d"]
    disguised = ("def my_conv2d(x, w, b=None, stride=1, padding=0):\n"
                 "    f = getattr(torch.nn.functional, 'con' + 'v2d')\n"
                 "    return f(x, w, b, stride=stride, padding=padding)\n")
    assert grading.forbidden_names(disguised) == []
    report = grading.grade(spec, disguised, time_limit=30)
    assert report.score == 0.0 and "forbids" in report.text()


def test_bad_specs_are_not_graded_and_score_zero_in_nbgrader() -> None:
    assert grading.read_spec('# convlab-grade: {"label": "nope", "cases": "public"}') is None
    assert grading.read_spec('# convlab-grade: {"label": "ch1-ex-conv2d", "cases": "hidden"}') \
        is None
    assert grading.read_spec("# convlab-grade: {not json") is None
    with pytest.raises(ValueError, match="unknown exercise"):
        grading.spec_line("ch9-ex-none", "public")
    cell = nbformat.v4.new_code_cell("print('trust me')", metadata=make_assignments._meta(
        "t", grade=True, points=3))
    autograde.grade_cell(cell, {}, time_limit=5)
    assert determine_grade(cell) == (0, 3.0)


def test_partial_credit_is_the_share_of_cases_times_the_points() -> None:
    label = "ch1-ex-output-size-fn"
    source = "def my_conv_output_size(i, k, s=1, p=0, d=1):\n    return (i + 2*p - k) // s + 1\n"
    cell = nbformat.v4.new_code_cell(grading.spec_line(label, "hidden", 3),
                                     metadata=make_assignments._meta("t", grade=True, points=2))
    autograde.grade_cell(cell, {autograde.answer_id(label): source}, time_limit=30)
    cases = grading.cases_for({"label": label, "cases": "hidden", "seed": 3})
    right = sum((c["i"] + 2 * c["p"] - c["k"]) // c["s"] + 1 == grading._conv_size(c)
                for c in cases)
    assert 0 < right < len(cases)
    assert determine_grade(cell)[0] == pytest.approx(2 * right / len(cases), abs=1e-4)


def test_read_exercises_finds_every_exercise_of_the_chapter() -> None:
    chapter = ROOT / "book" / "01_convolution.md"
    labels = [ex.label for ex in make_assignments.read_exercises(chapter)]
    nb = jupytext.read(chapter)
    in_text = re.findall(r":label: (ch1-ex-[\w-]+)", "\n".join(c.source for c in nb.cells))
    assert labels == in_text
