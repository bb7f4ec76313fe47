"""End to end with stock nbgrader: make the assignments of all five chapters, hand in correct,
partly correct, typical and hostile submissions, autograde them all in one `nbgrader autograde`
run, export the CSV and check every score. Expected scores are computed here from torch,
independently of convlab.grading."""

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
CH2, CH3, CH4 = "02_multichannel_kernels", "03_detach_and_autograd", "04_receptive_fields"
CHAPTERS = (CH1, CH2, CH3, CH4, CH5)
SEED = 20261206
# Seconds each exercise's answer may run in the grading child (the course default is
# grading.DEFAULT_TIME_LIMIT). Every correct answer here runs in well under 0.1 s of it (the
# cases and the verdict are computed in the parent, outside the limit), and six answers of
# the hostile submissions loop until it stops them: a short limit keeps the run short (1 s is
# still 25 times the slowest correct answer).
TIME_LIMIT = 1

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

# Chapters 2 to 4.
PARAMS_OTHER = ("def my_param_count(c_in, c_out, k, bias=True):\n"
                "    weights = torch.zeros(c_out, c_in, k, k).numel()\n"
                "    return weights + (c_out if bias else 0)\n")
SHAPES_OTHER = """shape_answers = {
    "conv_a.weight": "8, 3, 5, 5",
    "conv_a output": [2, 8, 16, 16],
    "conv_b.weight": (16, 8, 3, 1),
    "conv_b output": "torch.Size([2, 16, 14, 16])",
}
"""
LOOPS_OTHER = """
def my_conv2d(x, w, b=None, stride=1, padding=0):
    # one output channel at a time, summing a stack of single-channel pieces
    outs = [torch.stack([F.conv2d(x[:, i:i + 1], w[o:o + 1, i:i + 1], stride=stride,
                                  padding=padding) for i in range(w.shape[1])]).sum(0)
            for o in range(w.shape[0])]
    out = torch.cat(outs, dim=1)
    return out if b is None else out + b.view(1, -1, 1, 1)
"""
TRAIN_OTHER = """
def train(model, optimizer, batches, loss_fn):
    losses = []
    for x, y in batches:
        prediction = model(x)
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(prediction, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return losses
"""
GAN_OTHER = """
def discriminator_step(generator, discriminator, d_optimizer, real, z):
    with torch.no_grad():
        fake = generator(z)
    scores = discriminator(torch.cat([real, fake]))
    labels = torch.cat([torch.ones(len(real), 1), torch.zeros(len(fake), 1)])
    d_optimizer.zero_grad()
    F.binary_cross_entropy_with_logits(scores, labels).backward()
    d_optimizer.step()
"""
RF_PER_LAYER = """
def my_receptive_field(layers):
    table, r, j = [], 1, 1
    for k, s, _p, d in layers:
        r, j = r + (k - 1) * d * j, j * s
        table.append([r, j])
    return table if table else (1, 1)
"""
PARAMS_BIAS_ALWAYS = ("def my_param_count(c_in, c_out, k, bias=True):\n"
                      "    return c_out * (c_in * k * k + 1)\n")
LOOPS_BIAS_PER_INPUT = """
def my_conv2d(x, w, b=None, stride=1, padding=0):
    out = 0
    for i in range(w.shape[1]):
        piece = torch.cat([F.conv2d(x[:, i:i + 1], w[o:o + 1, i:i + 1], stride=stride,
                                    padding=padding) for o in range(w.shape[0])], dim=1)
        out = out + (piece if b is None else piece + b.view(1, -1, 1, 1))  # bias per input
    return out
"""
RF_NO_DILATION = """
def my_receptive_field(layers):
    r, j = 1, 1
    for k, s, p, d in layers:
        r, j = r + (k - 1) * j, j * s
    return r, j
"""
NET_PARAMETERS = "small_net_params = sum(p.numel() for p in small_net.parameters())\n"
TRAIN_PATCHER = """
import convlab.grading_autograd
convlab.grading_autograd.judge_training = lambda got, case: (True, "")
torch.allclose = lambda *a, **kw: True
def train(model, optimizer, batches, loss_fn):
    return [0.0] * len(batches)
"""
GAN_HIDER = """
def discriminator_step(generator, discriminator, d_optimizer, real, z):
    saved = [p.grad.clone() for p in generator.parameters()]
    fake = generator(z)                      # no detach: backward reaches the generator...
    d_real, d_fake = discriminator(real), discriminator(fake)
    bce = F.binary_cross_entropy_with_logits
    loss = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
    d_optimizer.zero_grad()
    loss.backward()
    d_optimizer.step()
    for p, g in zip(generator.parameters(), saved):
        p.grad.copy_(g)                      # ...and the values are put back
"""


def _rf_by_hand(layers: list) -> tuple[int, int]:
    r, j = 1, 1
    for k, s, _p, d in layers:
        r, j = r + (k - 1) * d * j, j * s
    return r, j


RF_LOOKUP = f"""
_SEEN = {({tuple(map(tuple, c["layers"])): _rf_by_hand(c["layers"])
           for c in grading.cases_for({"label": "ch4-ex-rf-fn", "cases": "public"})})!r}
def my_receptive_field(layers):
    # the public cases' answers, copied from the checker's output; (1, 1) elsewhere
    return _SEEN.get(tuple(map(tuple, layers)), (1, 1))
"""

# Each submission: chapter -> {exercise label: answer cell source}; "correct" fills the rest.
# A top-level `while True` in an extra cell of one submission must not matter either.
# Every submission differs from all others: a chapter handed in with the instructor's answers
# only (`{}`) is "correct"'s alone (copies of it under other names graded the same notebook
# again and asserted nothing new), and those students score 0 where they handed nothing in.
SUBMISSIONS: dict[str, dict[str, dict[str, str]]] = {
    "correct": {CH1: {}, CH5: {}},
    "other_style": {CH1: {"ch1-ex-conv2d": CONV2D_UNFOLD, "ch1-ex-output-size-fn": SIZE_MATH,
                          "ch1-ex-same-padding": "p_same_7 = (7 - 1) // 2\n"}},
    "partial": {CH1: {"ch1-ex-output-size-fn": SIZE_NO_DILATION,
                      "ch1-ex-size-table": TABLE_TWO_WRONG},
                CH5: {"ch5-ex-scatter": TRANSPOSE_NO_CROP}},
    "typical": {CH1: {"ch1-ex-same-padding": "p_same_7 = 6\n"},
                CH5: {"ch5-ex-output-padding": OUTPUT_PADDING_ZERO}},
    "untouched": {CH1: {"*": None}, CH5: {"*": None}},
    "patcher": {CH1: {"ch1-ex-conv2d": PATCHER}},
    "shortcut": {CH1: {"ch1-ex-conv2d": SHORTCUT}, CH5: {"ch5-ex-scatter": TRANSPOSE_SHORTCUT}},
    "lookup": {CH1: {"ch1-ex-output-size-fn": LOOKUP}},
    "fake_tensor": {CH1: {"ch1-ex-conv2d": FAKE_TENSOR}},
    "frame_reader": {CH1: {"ch1-ex-output-size-fn": FRAME_READER}},
    "crashers": {CH1: {"ch1-ex-conv2d": LOOP, "ch1-ex-size-table": EXIT,
                       "ch1-ex-same-padding": SYS_EXIT, "ch1-ex-output-size-fn": HUGE_PRINT},
                 CH5: {"ch5-ex-scatter": EXIT}},
    "allocator": {CH1: {"ch1-ex-conv2d": HUGE_ALLOC, "<extra>": "while True:\n    pass\n"}},
}

# Chapters 2 to 4: a correct submission in another style, a partly correct one, a hostile one
# and one that crashes, for each; students without a submission of a chapter score 0 there.
SUBMISSIONS["correct"] |= {CH2: {}, CH3: {}, CH4: {}}
SUBMISSIONS["other_style"] |= {
    CH2: {"ch2-ex-param-count": PARAMS_OTHER, "ch2-ex-shapes": SHAPES_OTHER,
          "ch2-ex-channel-loops": LOOPS_OTHER,
          "ch2-ex-network-params": "small_net_params = 8*(3*9+1) + 16*(8*9+1) + 4*16\n",
          "ch2-ex-groups": "grouped_params = 4672\ndepthwise_params = 832\n"},
    CH3: {"ch3-ex-which-change": "predicted_a = (2, 0, 6)\npredicted_shared = 'e, c'\n",
          "ch3-ex-grad-none": "predicted_none = ['u']\n", "ch3-ex-training-loop": TRAIN_OTHER,
          "ch3-ex-gan-step": GAN_OTHER},
    CH4: {"ch4-ex-rf-fn": RF_PER_LAYER, "ch4-ex-rf-design": "my_design = (3,) * 7\n",
          "ch4-ex-rf-predict": "my_prediction = [11, 81]\n"}}
SUBMISSIONS["partial"] |= {
    CH2: {"ch2-ex-param-count": PARAMS_BIAS_ALWAYS, "ch2-ex-channel-loops": LOOPS_BIAS_PER_INPUT,
          "ch2-ex-groups": "grouped_params = 18496\ndepthwise_params = 832\n",
          "ch2-ex-shapes": SHAPES_OTHER.replace("(16, 8, 3, 1)", "(16, 8, 3, 3)").replace(
              "[2, 8, 16, 16]", "[2, 8, 14, 14]")},
    CH3: {"ch3-ex-which-change": "predicted_a = [2.0, 0.0, 6.0]\npredicted_shared = {'c'}\n",
          "ch3-ex-grad-none": "predicted_none = {'u', 'x', 'w'}\n",
          "ch3-ex-training-loop": TRAIN_OTHER.replace(
              "        optimizer.zero_grad(set_to_none=False)\n", "")},
    CH4: {"ch4-ex-rf-fn": RF_NO_DILATION, "ch4-ex-rf-design": "my_design = [7, 7, 3]\n",
          "ch4-ex-rf-predict": "my_prediction = (11, 121)\n"}}
SUBMISSIONS["shortcut"] |= {CH2: {"ch2-ex-channel-loops": SHORTCUT,
                                  "ch2-ex-network-params": NET_PARAMETERS}}
SUBMISSIONS["patcher"] |= {CH3: {"ch3-ex-training-loop": TRAIN_PATCHER,
                                 "ch3-ex-gan-step": GAN_HIDER}}
SUBMISSIONS["lookup"] |= {CH4: {"ch4-ex-rf-fn": RF_LOOKUP}}
SUBMISSIONS["crashers"] |= {
    CH2: {"ch2-ex-param-count": LOOP.replace("my_conv2d(x, w, b=None, stride=1, padding=0)",
                                             "my_param_count(c_in, c_out, k, bias=True)"),
          "ch2-ex-shapes": EXIT, "ch2-ex-groups": SYS_EXIT},
    CH3: {"ch3-ex-training-loop": EXIT, "ch3-ex-gan-step": HUGE_ALLOC.replace(
        "my_conv2d(x, w, b=None, stride=1, padding=0)",
        "discriminator_step(generator, discriminator, d_optimizer, real, z)")},
    CH4: {"ch4-ex-rf-fn": HUGE_PRINT.replace("my_conv_output_size(i, k, s=1, p=0, d=1)",
                                             "my_receptive_field(layers)").replace(
        "return (i + 2 * p - d * (k - 1) - 1) // s + 1", "return 1, 1"),
          "ch4-ex-rf-design": "while True:\n    pass\n"}}


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


def _param_bias_share(kind: str) -> float:
    """`c_out * (c_in*k*k + 1)` is right exactly when the layer has a bias."""
    return _share(_cases("ch2-ex-param-count", kind), lambda c: c["bias"])


def _bias_per_input_share(kind: str) -> float:
    def ok(c: dict) -> bool:
        x, w = torch.tensor(c["x"], dtype=torch.float64), torch.tensor(c["w"], dtype=torch.float64)
        if c["b"] is None:
            return True
        b = torch.tensor(c["b"], dtype=torch.float64)
        right = F.conv2d(x, w, b, stride=c["stride"], padding=c["padding"])
        return torch.equal(right + (x.shape[1] - 1) * b.view(1, -1, 1, 1), right)
    return _share(_cases("ch2-ex-channel-loops", kind), ok)


def _allowed_conv_share(kind: str) -> float:
    """F.conv2d itself is allowed on one input channel and one kernel, without bias."""
    return _share(_cases("ch2-ex-channel-loops", kind),
                  lambda c: len(c["w"]) == 1 and len(c["w"][0]) == 1 and c["b"] is None)


def _rf_no_dilation_share(kind: str) -> float:
    def ok(c: dict) -> bool:
        x = torch.zeros(1, 1, 20_000, requires_grad=True)
        plain, dilated = x, x
        for k, s, _p, d in c["layers"]:
            plain = F.conv1d(plain, torch.ones(1, 1, k), stride=s)
            dilated = F.conv1d(dilated, torch.ones(1, 1, k), stride=s, dilation=d)
        spans = []
        for out in (plain, dilated):
            (grad,) = torch.autograd.grad(out[0, 0, 0], x)
            spans.append(int((grad[0, 0] != 0).nonzero().max()) + 1)
        return spans[0] == spans[1]
    return _share(_cases("ch4-ex-rf-fn", kind), ok)


def _rf_unit_share(kind: str) -> float:
    """The lookup's default (1, 1) is right for a stack of 1×1, stride-1 layers only."""
    return _share(_cases("ch4-ex-rf-fn", kind),
                  lambda c: all(k == 1 and s == 1 for k, s, _p, _d in c["layers"]))


# Expected points per student and chapter (written answers: 0 until graded by hand), in the
# order of CHAPTERS; 0 where a student handed nothing in.
# ch1: table 2, output size 1 + 2, conv2d 1 + 2, same padding 2 (max 10 + 2 written);
# ch2: parameter count 1 + 2, network 2, shapes 2, channel loops 1 + 2, groups 2 (12 + 4);
# ch3: which change 2, .grad None 2, training loop 1 + 2, GAN step 1 + 2 (10 + 4);
# ch4: (r, j) 1 + 2, design 2, prediction 2 (7 + 4);
# ch5: output size 1 + 2, scatter 1 + 2, output_padding 1 + 2 (max 9 + 2 written).
EXPECTED = {
    "correct": (10, 12, 10, 7, 9),
    "other_style": (10, 12, 10, 7, 0),
    "partial": (lambda: 2 * 5 / 7 + _no_dilation_share("public") + 2 * _no_dilation_share("hidden")
                + 3 + 2,
                # bias always counted; network (uses it) wrong; shapes 2 of 4; bias per input;
                # groups 1 of 2
                lambda: (_param_bias_share("public") + 2 * _param_bias_share("hidden") + 0 + 1
                         + _bias_per_input_share("public") + 2 * _bias_per_input_share("hidden")
                         + 1),
                1 + 0 + 0 + 3,   # which change 1 of 2, .grad wrong, no zero_grad, GAN right
                lambda: (_rf_no_dilation_share("public") + 2 * _rf_no_dilation_share("hidden")
                         + 1 + 0),
                lambda: 3 + 3 + _no_crop_share("public") + 2 * _no_crop_share("hidden")),
    "typical": (8, 0, 0, 0,
                lambda: 6 + _zero_padding_share("public") + 2 * _zero_padding_share("hidden")),
    "untouched": (0, 0, 0, 0, 0),
    "patcher": (7, 0, 4, 0, 0),
    "shortcut": (7, lambda: 7 + _allowed_conv_share("public") + 2 * _allowed_conv_share("hidden"),
                 0, 0, 6),
    "lookup": (lambda: 7 + _lookup_share("public") + 2 * _lookup_share("hidden"), 0, 0,
               lambda: 1 + 2 * _rf_unit_share("hidden") + 2 + 2, 0),
    "fake_tensor": (7, 0, 0, 0, 0),
    "frame_reader": (7, 0, 0, 0, 0),
    # the huge prints are stopped at the sandbox's output limit; ch2's network count calls the
    # looping my_param_count
    "crashers": (0, 3, 4, 2, 6),
    "allocator": (7, 0, 0, 0, 0),
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
                    "--time-limit", str(TIME_LIMIT)], check=True)
    _nbgrader(course, "generate_assignment", "0*")     # all five in one run
    handed_in: dict[str, str] = {}    # notebook text -> student: no notebook is graded twice
    for chapter in CHAPTERS:
        released = course / "release" / chapter / f"{chapter}.ipynb"
        solutions = _answers_from_source(
            nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4))
        for student, chapters in SUBMISSIONS.items():
            if chapter not in chapters:
                continue
            nb = nbformat.read(released, as_version=4)
            answers = chapters[chapter]
            for cell in nb.cells:
                label = cell.metadata["nbgrader"]["grade_id"].removesuffix("-answer")
                if cell.cell_type == "code" and label in solutions and "*" not in answers:
                    cell.source = answers.get(label, solutions[label])
            if "<extra>" in answers:
                nb.cells.insert(2, nbformat.v4.new_code_cell(answers["<extra>"]))
            text = nbformat.writes(nb)
            assert text not in handed_in, f"{student} hands in {handed_in[text]}'s {chapter}"
            handed_in[text] = student
            target = course / "submitted" / student / chapter / f"{chapter}.ipynb"
            target.parent.mkdir(parents=True)
            target.write_text(text, encoding="utf-8")
    _nbgrader(course, "autograde", "0*")               # every submission in one run
    _nbgrader(course, "generate_feedback", "0*")
    _nbgrader(course, "export")

    with open(course / "grades.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    got = {(row["student_id"], row["assignment"]): float(row["raw_score"]) for row in rows}
    max_scores = {row["assignment"]: float(row["max_score"]) for row in rows}
    assert max_scores == {CH1: 12.0, CH2: 16.0, CH3: 14.0, CH4: 11.0, CH5: 11.0}
    for student, scores in EXPECTED.items():
        for chapter, score in zip(CHAPTERS, scores, strict=True):
            want = score() if callable(score) else score
            assert got[(student, chapter)] == pytest.approx(want, abs=0.02), (student, chapter)
    assert len(got) == len(CHAPTERS) * len(SUBMISSIONS)
    feedback = course / "feedback" / "crashers"
    assert "time limit" in (feedback / CH1 / f"{CH1}.html").read_text(encoding="utf-8")
    assert "printed too much" in (feedback / CH4 / f"{CH4}.html").read_text(encoding="utf-8")
    assert "the generator" in (course / "feedback" / "patcher" / CH3 / f"{CH3}.html").read_text(
        encoding="utf-8")
