"""tools/make_assignments.py and convlab.grading / convlab.autograde, without running nbgrader's
commands (tests/test_nbgrader_e2e.py does that): the course folder's layout, what the student
version keeps and loses, the hidden cases, and grades of known answers."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import jupytext
import nbformat
import pytest
import torch
import torch.nn.functional as F
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from nbgrader.utils import determine_grade

from convlab import autograde, grading, grading_values

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_assignments",
                                              ROOT / "tools" / "make_assignments.py")
make_assignments = importlib.util.module_from_spec(spec)
sys.modules["make_assignments"] = make_assignments   # its dataclass looks itself up there
spec.loader.exec_module(make_assignments)
SEED = 123456789
CHAPTERS = ("01_convolution", "02_multichannel_kernels", "03_detach_and_autograd",
            "04_receptive_fields", "05_transposed_convolution")
SINGLE = ("value", "parts")   # answers made of values: one public test, no hidden one


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


def _solutions(chapter: str) -> dict[str, tuple[str, str]]:
    """Each exercise's solution, and what the chapter shows the learner (text, cells, stub)."""
    exercises = make_assignments.read_exercises(ROOT / "book" / f"{chapter}.md")
    return {ex.label: (ex.solution, "".join(ex.text) + ex.stub
                       + "".join(source for _kind, source in ex.context))
            for ex in exercises if ex.solution}


def test_course_has_config_and_one_assignment_per_gradable_chapter(course: Path) -> None:
    assignments = sorted(p.name for p in (course / "source").iterdir())
    chapters = {label.split("-")[0] for label in grading.EXERCISES}
    assert len(assignments) == len(chapters) == 5
    assert assignments == list(CHAPTERS)
    config = (course / "nbgrader_config.py").read_text()
    assert "convlab.autograde.CleanProcessGrading" in config
    assert "nbgrader.preprocessors.Execute" not in config


def test_every_gradable_exercise_has_answer_public_and_hidden_cells(course: Path) -> None:
    ids: dict[str, nbformat.NotebookNode] = {}
    for chapter in CHAPTERS:
        nb = _source(course, chapter)
        nbformat.validate(nb)
        ids |= {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells}
    for label, exercise in grading.EXERCISES.items():
        answer = ids[f"{label}-answer"].source
        assert "### BEGIN SOLUTION" in answer and "### END SOLUTION" in answer
        public = ids[f"{label}-public"]
        assert grading.read_spec(public.source) == {"label": label, "cases": "public"}
        assert public.metadata["nbgrader"]["points"] > 0
        if exercise.kind not in SINGLE:
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
    for chapter in CHAPTERS:
        student = _student(_source(course, chapter))
        text = "\n".join(c.source for c in student.cells)
        solutions = _solutions(chapter).values()
        given = "".join(shown for _solution, shown in solutions)
        for solution, _shown in solutions:
            for line in solution.splitlines()[1:]:
                # short lines such as `return out`, or a bare name that shows a value, recur;
                # so do lines the exercises themselves quote
                if (len(line.strip()) > 12 and not re.fullmatch(r"\w+", line.strip())
                        and line.strip() not in given):
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
        if exercise.kind not in SINGLE:
            assert first and first != second, label


def test_chapter_solutions_earn_every_point_and_stubs_none() -> None:
    for chapter in CHAPTERS:
        exercises = make_assignments.read_exercises(ROOT / "book" / f"{chapter}.md")
        solutions = {ex.label: ex.solution for ex in exercises}
        for ex in exercises:
            if ex.label not in grading.EXERCISES:
                continue
            for cases in ("public", "hidden"):
                spec = {"label": ex.label, "cases": cases,
                        **({"seed": 7} if cases == "hidden" else {})}
                if cases == "hidden" and not grading.cases_for(spec):
                    continue
                needed = grading.needed_source(ex.label, solutions)
                solved = grading.grade(spec, ex.solution, needed=needed)
                assert solved.score == 1.0, (ex.label, cases, solved.text())
                stub = grading.grade(spec, ex.stub, needed=needed)
                assert stub.score == 0.0, (ex.label, cases)


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


def test_a_test_cell_asks_for_its_report_in_the_course_language() -> None:
    """A Chinese course's test cells name zh_CN; the autograder writes their reports in it
    (the case lines too), an English course's stay English; an unknown language is no spec."""
    label = "ch4-ex-rf-fn"
    answer = {autograde.answer_id(label): "def my_receptive_field(layers):\n    return (1, 1)\n"}
    outputs = {}
    for lang in ("en", "zh_CN"):
        line = grading.spec_line(label, "public", lang=lang)
        assert ('"lang": "zh_CN"' in line) == (lang == "zh_CN")
        assert grading.spec_language(grading.read_spec(line)) == lang
        cell = nbformat.v4.new_code_cell(line, metadata=make_assignments._meta(
            "t", grade=True, points=1))
        autograde.grade_cell(cell, answer, time_limit=30)
        outputs[lang] = cell.outputs[0]["text"]
    assert outputs["en"].startswith(f"{label} (public tests): 1/10 cases correct\n")
    assert "  layers=[(3, 1, 1, 1)]: r is 1, expected 3\n" in outputs["en"]
    assert outputs["zh_CN"].startswith(f"{label}（公开测试）：1/10 个用例正确\n")
    assert "  layers=[(3, 1, 1, 1)]：r 为 1，应为 3\n" in outputs["zh_CN"]
    assert grading.read_spec(f'# convlab-grade: {{"label": "{label}", "cases": "public", '
                             '"lang": "xx"}') is None
    with pytest.raises(ValueError, match="unknown language"):
        grading.spec_line(label, "public", lang="xx")


def test_every_test_cell_of_a_chinese_course_names_its_language(tmp_path: Path) -> None:
    make_assignments.make(ROOT / "book", tmp_path, SEED, lang="zh_CN")
    specs = [grading.read_spec(cell.source) for path in sorted(tmp_path.glob("source/*/*.ipynb"))
             for cell in nbformat.read(path, as_version=4).cells
             if cell.metadata["nbgrader"].get("grade") and cell.cell_type == "code"]
    assert specs and all(spec and grading.spec_language(spec) == "zh_CN" for spec in specs)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_read_exercises_finds_every_exercise_of_the_chapter(chapter: str) -> None:
    path = ROOT / "book" / f"{chapter}.md"
    labels = [ex.label for ex in make_assignments.read_exercises(path)]
    nb = jupytext.read(path)
    in_text = re.findall(r":label: (ch\d-ex-[\w-]+)", "\n".join(c.source for c in nb.cells))
    assert labels == in_text
    # every exercise is in the assignment: auto-graded, or written with a model answer
    assert [ex.label for ex in make_assignments.gradable(
        make_assignments.read_exercises(path))] == in_text


# --------------------------------------------------------------------------- chapters 2 to 4

def _grade(label: str, source: str, cases: str = "public", needs: dict | None = None) -> Any:
    spec = {"label": label, "cases": cases, **({"seed": 11} if cases == "hidden" else {})}
    return grading.grade(spec, source, needed=grading.needed_source(label, needs or {}),
                         time_limit=30)


def test_graders_run_the_chapters_own_context() -> None:
    """The code a grader runs or counts is the chapter's, byte for byte."""
    cells = {ch: [c.source for c in jupytext.read(ROOT / "book" / f"{ch}.md").cells]
             for ch in ("02_multichannel_kernels", "03_detach_and_autograd")}
    assert grading_values.SMALL_NET in cells["02_multichannel_kernels"]
    assert grading_values.SHAPE_LAYERS in cells["02_multichannel_kernels"]
    for code in (grading_values.WHICH_CHANGE, grading_values.GRAD_NONE):
        assert any(cell.startswith(code + "\n") for cell in cells["03_detach_and_autograd"])
    for label in ("ch2-ex-network-params", "ch2-ex-shapes"):
        exercise = next(ex for ex in make_assignments.read_exercises(
            ROOT / "book" / "02_multichannel_kernels.md") if ex.label == label)
        assert exercise.context == [("code", grading.EXERCISES[label].prelude)]


def _rf(layers: list) -> tuple[int, int]:
    """(r, j) by experiment, independently of convlab: all-ones 1-D convolutions with each
    layer's k, s and d; r = the span of inputs reaching output 0, j = how far output 1's span
    is shifted."""
    if not layers:
        return 1, 1
    x = torch.zeros(1, 1, 20_000, dtype=torch.float64, requires_grad=True)
    out = x
    for k, s, _p, d in layers:
        out = F.conv1d(out, torch.ones(1, 1, k, dtype=torch.float64), stride=s, dilation=d)
    first = []
    for index in (0, 1):
        (grad,) = torch.autograd.grad(out[0, 0, index], x, retain_graph=True)
        reached = grad[0, 0].nonzero()
        first.append(int(reached.min()))
        if index == 0:
            r = int(reached.max() - reached.min() + 1)
    return r, first[1] - first[0]


def test_receptive_field_pairs_are_compared_exactly_with_the_reason() -> None:
    jump_after = ("def my_receptive_field(layers):\n    r, j = 1, 1\n"
                  "    for k, s, p, d in layers:\n        j *= s\n        r += (k - 1) * d * j\n"
                  "    return r, j\n")
    for cases in ("public", "hidden"):
        report = _grade("ch4-ex-rf-fn", jump_after, cases)
        spec = {"label": "ch4-ex-rf-fn", "cases": cases, **({"seed": 11} if cases == "hidden"
                                                            else {})}
        right = 0
        for case in grading.cases_for(spec):
            r, j = 1, 1
            for k, s, _p, d in case["layers"]:
                j *= s
                r += (k - 1) * d * j
            right += (r, j) == _rf(case["layers"])
        assert report.correct == right < report.total, report.text()
        assert "r is" in report.text() and "expected" in report.text()
    as_list = "def my_receptive_field(layers):\n    return [1, 1]\n"
    assert _grade("ch4-ex-rf-fn", as_list).correct == 1            # the empty stack
    triple = "def my_receptive_field(layers):\n    return (1, 1, 0)\n"
    report = _grade("ch4-ex-rf-fn", triple)
    assert report.correct == 0 and "not a pair" in report.text()
    floats = "def my_receptive_field(layers):\n    return (1.0, 1.0)\n"
    assert _grade("ch4-ex-rf-fn", floats).correct == 0
    assert _grade("ch4-ex-rf-predict", "my_prediction = (11, 81)\n").score == 1.0
    report = _grade("ch4-ex-rf-predict", "my_prediction = [11, 121]\n")
    assert report.score == 0.0 and "count is 121, expected 81" in report.text()


CORRECT_TRAIN = """
def train(model, optimizer, batches, loss_fn):
    losses = []
    for x, y in batches:
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()          # after the forward pass: still correct
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())   # 0-d tensors are accepted
    return losses
"""
BUGGY_TRAIN = CORRECT_TRAIN.replace("        optimizer.zero_grad()          # after the forward "
                                    "pass: still correct\n", "")
LATE_ZERO = CORRECT_TRAIN.replace("        optimizer.zero_grad()          # after the forward "
                                  "pass: still correct\n        loss.backward()\n",
                                  "        loss.backward()\n        optimizer.zero_grad()\n")
GAN = """
def discriminator_step(generator, discriminator, d_optimizer, real, z):
    {fake}
    scores = discriminator(torch.cat([real, fake]))
    labels = torch.cat([torch.ones(len(real), 1), torch.zeros(len(fake), 1)])
    loss = F.binary_cross_entropy_with_logits(scores, labels)   # the average: accepted
    d_optimizer.zero_grad()
    loss.backward()
    {after}
    d_optimizer.step()
"""


@pytest.mark.parametrize(("source", "score"), [
    (CORRECT_TRAIN, 1.0), (BUGGY_TRAIN, 0.0), (LATE_ZERO, 0.0),
    (CORRECT_TRAIN.replace("return losses", "return None"), 0.0)])
def test_training_loops_are_run_in_the_child_and_their_parameters_compared(
        source: str, score: float) -> None:
    for cases in ("public", "hidden"):
        report = _grade("ch3-ex-training-loop", source, cases)
        assert report.score == score, report.text()


@pytest.mark.parametrize(("fake", "after", "score", "why"), [
    ("with torch.no_grad():\n        fake = generator(z)", "", 1.0, ""),
    ("fake = generator(z).detach()", "", 1.0, ""),
    ("fake = generator(z)", "", 0.0, "computed gradients for the generator"),
    ("fake = generator(z)", "generator.zero_grad()", 0.0, "computed gradients for the generator"),
    ("fake = generator(z).detach()", "generator.zero_grad()", 0.0, ".grad changed"),
    ("fake = generator(z).detach()", "real.grad = None; d_optimizer.zero_grad()", 0.0,
     "discriminator's parameters differ"),
])
def test_discriminator_steps_are_inspected_in_the_child(fake: str, after: str, score: float,
                                                        why: str) -> None:
    report = _grade("ch3-ex-gan-step", GAN.format(fake=fake, after=after), "hidden")
    assert report.score == score, report.text()
    assert why in report.text()


def test_predictions_take_the_forms_the_checkers_take_and_earn_partial_credit() -> None:
    assert _grade("ch3-ex-which-change", "predicted_a = (2, 0, 6)\n"
                                         "predicted_shared = 'e, c'\n").score == 1.0
    report = _grade("ch3-ex-which-change", "predicted_a = [2.0, 0.0, 6.0]\n"
                                           "predicted_shared = {'b', 'c', 'e'}\n")
    assert report.score == 0.5 and "included b" in report.text()
    report = _grade("ch3-ex-grad-none", "predicted_none = {'u', 'x', 'w'}\n")
    assert report.score == 0.0 and "included w, x" in report.text()
    assert _grade("ch3-ex-grad-none", "predicted_none = ['u']\n").score == 1.0
    report = _grade("ch2-ex-shapes", 'shape_answers = {"conv_a.weight": "(8, 3, 5, 5)",\n'
                                     '    "conv_a output": (2, 8, 16, 16),\n'
                                     '    "conv_b.weight": (16, 8, 3, 3),\n'
                                     '    "conv_b output": ...}\n')
    assert report.score == 0.5 and "not answered" in report.text()
    report = _grade("ch2-ex-groups", "grouped_params = 4672\ndepthwise_params = 800\n")
    assert report.score == 0.5 and "expected 832" in report.text()
    assert _grade("ch4-ex-rf-design", "my_design = [3] * 7\n").score == 1.0
    report = _grade("ch4-ex-rf-design", "my_design = [7, 7, 3]\n")
    assert report.score == 0.5 and "258,496" in report.text()
    assert _grade("ch4-ex-rf-design", "my_design = [3] * 6\n").score == 0.0


def test_counting_answers_may_use_an_earlier_answer_but_not_the_model() -> None:
    count = ("def my_param_count(c_in, c_out, k, bias=True):\n"
             "    return c_out * (c_in * k * k + bias)\n")
    by_hand = "small_net_params = my_param_count(3, 8, 3) + my_param_count(8, 16, 3) + 64\n"
    needs = {"ch2-ex-param-count": count}
    assert _grade("ch2-ex-network-params", by_hand, needs=needs).score == 1.0
    assert _grade("ch2-ex-network-params", by_hand).score == 0.0   # no my_param_count
    report = _grade("ch2-ex-network-params",
                    "small_net_params = sum(p.numel() for p in small_net.parameters())\n")
    assert report.score == 0.0 and "forbids" in report.text()
    # only the answer itself is scanned: an earlier answer may count with numel()
    numel = ("def my_param_count(c_in, c_out, k, bias=True):\n"
             "    return torch.zeros(c_out, c_in, k, k).numel() + (c_out if bias else 0)\n")
    assert _grade("ch2-ex-network-params", by_hand,
                  needs={"ch2-ex-param-count": numel}).score == 1.0


def test_chapter_2_allows_single_channel_convolutions_only() -> None:
    whole = ("def my_conv2d(x, w, b=None, stride=1, padding=0):\n"
             "    return F.conv2d(x, w, b, stride=stride, padding=padding)\n")
    report = _grade("ch2-ex-channel-loops", whole, "hidden")
    assert report.score == 0.0 and "several channels" in report.text()


def test_a_step_that_hides_its_gradient_in_the_generator_is_still_caught() -> None:
    hides = GAN.format(fake="saved = [(p, p.grad.clone()) for p in generator.parameters()]\n"
                            "    fake = generator(z)",
                       after="for p, g in saved:\n        p.grad.copy_(g)\n"
                             "    for m in generator.modules():\n"
                             "        for v in vars(m).values():\n"
                             "            if isinstance(v, list):\n                v.clear()")
    report = _grade("ch3-ex-gan-step", hides, "hidden")
    assert report.score == 0.0 and "generator" in report.text(), report.text()
