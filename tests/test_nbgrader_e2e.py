"""End to end with stock nbgrader: make the assignments of chapters 1 and 5, hand in correct,
partly correct, typical and hostile submissions, autograde them all, export the CSV and check
every score. Expected scores are computed here from torch, independently of convlab.grading."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F

from convlab import grading

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CH1, CH5 = "01_convolution", "05_transposed_convolution"
SEED = 20261206

CONV2D_UNFOLD = """
def my_conv2d(x, w, b=None, stride=1, padding=0):
    # im2col: another correct style, no loops
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), padding=padding, stride=stride)
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (wd + 2 * padding - kw) // stride + 1
    out = (w.reshape(c_out, -1) @ cols).reshape(n, c_out, oh, ow)
    return out if b is None else out + b[None, :, None, None]
"""
SIZE_MATH = ("import math\n\ndef my_conv_output_size(i, k, s=1, p=0, d=1):\n"
             "    return math.floor((i + 2 * p - d * (k - 1) - 1) / s) + 1\n")
SIZE_NO_DILATION = ("def my_conv_output_size(i, k, s=1, p=0, d=1):\n"
                    "    return (i + 2 * p - k) // s + 1\n")
TABLE_TWO_WRONG = ("output_sizes = {(32, 3, 1, 1, 1): 32, (32, 5, 1, 0, 1): 28,"
                   " (28, 3, 2, 1, 1): 14, (7, 3, 2, 0, 1): 3, (8, 3, 2, 0, 1): 4,"
                   " (10, 3, 1, 0, 2): 8,"
                   " (224, 7, 2, 3, 1): 112}\n")
PATCHER = """
import torch
from convlab import checks
checks.check_conv2d = lambda fn, **kw: 1
torch.allclose = lambda *a, **kw: True
torch.testing.assert_close = lambda *a, **kw: None
def my_conv2d(x, w, b=None, stride=1, padding=0):
    return torch.zeros(1)
"""
SHORTCUT = ("my_conv2d = lambda x, w, b=None, stride=1, padding=0: "
            "F.conv2d(x, w, b, stride=stride, padding=padding)\n")
LOOKUP = """
_PUBLIC = {(32, 3, 1, 1, 1): 32, (28, 3, 2, 1, 1): 14}
def my_conv_output_size(i, k, s=1, p=0, d=1):
    # a lookup table of the public cases (filled in below), 0 elsewhere
    return _PUBLIC.get((i, k, s, p, d), 0)
"""
FAKE_TENSOR = """
class Always(torch.Tensor):
    def __eq__(self, other): return True
    def allclose(self, *a, **kw): return True
    def tolist(self): return [[[[0.0]]]]
def my_conv2d(x, w, b=None, stride=1, padding=0):
    return torch.zeros(1).as_subclass(Always)
"""
FRAME_READER = """
import inspect
def my_conv_output_size(i, k, s=1, p=0, d=1):
    for frame in inspect.stack():
        for name in ("expected", "want", "answer"):
            if name in frame.frame.f_locals:
                return frame.frame.f_locals[name]
    return -1
"""
LOOP = "def my_conv2d(x, w, b=None, stride=1, padding=0):\n    while True:\n        pass\n"
EXIT = "import os\nos._exit(1)\n"
SYS_EXIT = "import sys\nsys.exit(0)\n"
HUGE_PRINT = ("def my_conv_output_size(i, k, s=1, p=0, d=1):\n    print('x' * 10**7)\n"
              "    return (i + 2 * p - d * (k - 1) - 1) // s + 1\n")
HUGE_ALLOC = ("def my_conv2d(x, w, b=None, stride=1, padding=0):\n"
              "    return torch.empty(10**12)\n")
TRANSPOSE_SHORTCUT = ("def my_conv_transpose2d(x, w, stride=1, padding=0):\n"
                      "    return F.conv_transpose2d(x, w, stride=stride, padding=padding)\n")
TRANSPOSE_NO_CROP = """
def my_conv_transpose2d(x, w, stride=1, padding=0):
    n, c_in, h, wd = x.shape
    _, c_out, k, _ = w.shape
    full = x.new_zeros(n, c_out, (h - 1) * stride + k, (wd - 1) * stride + k)
    for r in range(h):
        for c in range(wd):
            stamp = (x[:, :, r, c, None, None, None] * w).sum(dim=1)
            full[:, :, r * stride:r * stride + k, c * stride:c * stride + k] += stamp
    return full   # the padding crop is missing
"""
OUTPUT_PADDING_ZERO = "def my_output_padding(i, k, s, p):\n    return 0\n"

# Each submission: chapter -> {exercise label: answer cell source}; "correct" fills the rest.
# A top-level `while True` in an extra cell of one submission must not matter either.
SUBMISSIONS: dict[str, dict[str, dict[str, str]]] = {
    "correct": {CH1: {}, CH5: {}},
    "other_style": {CH1: {"ch1-ex-conv2d": CONV2D_UNFOLD, "ch1-ex-output-size-fn": SIZE_MATH,
                          "ch1-ex-same-padding": "p_same_7 = (7 - 1) // 2\n"}, CH5: {}},
    "partial": {CH1: {"ch1-ex-output-size-fn": SIZE_NO_DILATION,
                      "ch1-ex-size-table": TABLE_TWO_WRONG},
                CH5: {"ch5-ex-scatter": TRANSPOSE_NO_CROP}},
    "typical": {CH1: {"ch1-ex-same-padding": "p_same_7 = 6\n"},
                CH5: {"ch5-ex-output-padding": OUTPUT_PADDING_ZERO}},
    "untouched": {CH1: {"*": None}, CH5: {"*": None}},
    "patcher": {CH1: {"ch1-ex-conv2d": PATCHER}, CH5: {}},
    "shortcut": {CH1: {"ch1-ex-conv2d": SHORTCUT}, CH5: {"ch5-ex-scatter": TRANSPOSE_SHORTCUT}},
    "lookup": {CH1: {"ch1-ex-output-size-fn": LOOKUP}, CH5: {}},
    "fake_tensor": {CH1: {"ch1-ex-conv2d": FAKE_TENSOR}, CH5: {}},
    "frame_reader": {CH1: {"ch1-ex-output-size-fn": FRAME_READER}, CH5: {}},
    "crashers": {CH1: {"ch1-ex-conv2d": LOOP, "ch1-ex-size-table": EXIT,
                       "ch1-ex-same-padding": SYS_EXIT, "ch1-ex-output-size-fn": HUGE_PRINT},
                 CH5: {"ch5-ex-scatter": EXIT}},
    "allocator": {CH1: {"ch1-ex-conv2d": HUGE_ALLOC, "<extra>": "while True:\n    pass\n"},
                  CH5: {}},
}


def _size(i: int, k: int, s: int, p: int, d: int) -> int:
    return F.conv1d(torch.zeros(1, 1, i), torch.zeros(1, 1, k), stride=s, padding=p,
                    dilation=d).shape[-1]


def _share(cases: list[dict], correct) -> float:
    """The share of cases on which a known answer is right, judged here with torch."""
    return sum(bool(correct(c)) for c in cases) / len(cases)


def _cases(label: str, kind: str) -> list[dict]:
    spec = {"label": label, "cases": kind, **({"seed": SEED} if kind == "hidden" else {})}
    return grading.cases_for(spec)


def _no_dilation_share(kind: str) -> float:
    return _share(_cases("ch1-ex-output-size-fn", kind),
                  lambda c: (c["i"] + 2 * c["p"] - c["k"]) // c["s"] + 1 == _size(**c))


def _no_crop_share(kind: str) -> float:
    def ok(c: dict) -> bool:
        x, w = torch.tensor(c["x"], dtype=torch.float64), torch.tensor(c["w"], dtype=torch.float64)
        return c["padding"] == 0 or F.conv_transpose2d(x, w, stride=c["stride"]).shape == \
            F.conv_transpose2d(x, w, stride=c["stride"], padding=c["padding"]).shape
    return _share(_cases("ch5-ex-scatter", kind), ok)


def _zero_padding_share(kind: str) -> float:
    def ok(c: dict) -> bool:
        o = _size(c["i"], c["k"], c["s"], c["p"], 1)
        back = F.conv_transpose1d(torch.zeros(1, 1, o), torch.zeros(1, 1, c["k"]), stride=c["s"],
                                  padding=c["p"])
        return back.shape[-1] == c["i"]
    return _share(_cases("ch5-ex-output-padding", kind), ok)


def _lookup_share(kind: str) -> float:
    table = {(32, 3, 1, 1, 1): 32, (28, 3, 2, 1, 1): 14}
    return _share(_cases("ch1-ex-output-size-fn", kind),
                  lambda c: table.get(tuple(c[n] for n in "ikspd"), 0) == _size(**c))


# Expected points per student and chapter (written answers: 0 until graded by hand).
# ch1: table 2, output size 1 + 2, conv2d 1 + 2, same padding 2 (max 10 + 2 written);
# ch5: output size 1 + 2, scatter 1 + 2, output_padding 1 + 2 (max 9 + 2 written).
EXPECTED = {
    "correct": (10, 9),
    "other_style": (10, 9),
    "partial": (lambda: 2 * 5 / 7 + _no_dilation_share("public") + 2 * _no_dilation_share("hidden")
                + 3 + 2, lambda: 3 + 3 + _no_crop_share("public") + 2 * _no_crop_share("hidden")),
    "typical": (8, lambda: 6 + _zero_padding_share("public") + 2 * _zero_padding_share("hidden")),
    "untouched": (0, 0),
    "patcher": (7, 9),
    "shortcut": (7, 6),
    "lookup": (lambda: 7 + _lookup_share("public") + 2 * _lookup_share("hidden"), 9),
    "fake_tensor": (7, 9),
    "frame_reader": (7, 9),
    "crashers": (0, 6),   # the huge print is stopped at the sandbox's output limit
    "allocator": (7, 9),
}


def _answers_from_source(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The instructor's solutions: the answer cells without nbgrader's markers."""
    return {c.metadata["nbgrader"]["grade_id"].removesuffix("-answer"):
            "".join(line for line in c.source.splitlines(keepends=True)
                    if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
            for c in nb.cells if c.cell_type == "code" and c.metadata["nbgrader"]["solution"]}


def _nbgrader(course: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_autograde_scores_every_submission(tmp_path: Path) -> None:
    course = tmp_path / "course"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_assignments.py"), "--src",
                    str(ROOT / "book"), "--out", str(course), "--seed", str(SEED),
                    "--time-limit", "5"], check=True)
    for chapter in (CH1, CH5):
        _nbgrader(course, "generate_assignment", chapter)
        released = course / "release" / chapter / f"{chapter}.ipynb"
        solutions = _answers_from_source(
            nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4))
        for student, chapters in SUBMISSIONS.items():
            nb = nbformat.read(released, as_version=4)
            answers = chapters[chapter]
            for cell in nb.cells:
                label = cell.metadata["nbgrader"]["grade_id"].removesuffix("-answer")
                if cell.cell_type == "code" and label in solutions and "*" not in answers:
                    cell.source = answers.get(label, solutions[label])
            if "<extra>" in answers:
                nb.cells.insert(2, nbformat.v4.new_code_cell(answers["<extra>"]))
            target = course / "submitted" / student / chapter / f"{chapter}.ipynb"
            target.parent.mkdir(parents=True)
            nbformat.write(nb, target)
        _nbgrader(course, "autograde", chapter)
    _nbgrader(course, "generate_feedback", CH1)
    _nbgrader(course, "export")

    with open(course / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    got = {(row["student_id"], row["assignment"]): float(row["raw_score"]) for row in rows}
    max_scores = {row["assignment"]: float(row["max_score"]) for row in rows}
    assert max_scores == {CH1: 12.0, CH5: 11.0}
    for student, scores in EXPECTED.items():
        for chapter, score in zip((CH1, CH5), scores, strict=True):
            want = score() if callable(score) else score
            assert got[(student, chapter)] == pytest.approx(want, abs=0.02), (student, chapter)
    assert len(got) == 2 * len(SUBMISSIONS)
    feedback = course / "feedback" / "crashers" / CH1 / f"{CH1}.html"
    assert "time limit" in feedback.read_text(encoding="utf-8")
