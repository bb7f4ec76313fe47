"""What chapters 2 to 4's graded answers are compared with, and how (used by
:mod:`convlab.grading`).

Answers that are values — a count, shapes, a set of names, a pair such as ``(r, j)``, a list of
kernel sizes — arrive from the clean child as plain data; the functions here bring them into
one form (accepting what the chapter's checker accepts: ``"c, e"`` for a set, ``"(8, 3, 5, 5)"``
for a shape, a per-layer list of pairs) and judge them against values computed with PyTorch
here, in the grading process: counts on real (``meta``) modules, shapes and predictions by
running the chapter's own code (kept here verbatim; a test checks it matches the chapter), the
dilated field by an autograd experiment. Each judge returns ``(correct, why not)``.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab import checks_fields, checks_formulas
from convlab.arithmetic import receptive_field
from convlab.i18n import message as msg
from convlab.quiz import normalise_shape

Case = dict[str, Any]
SETUP = "import torch\nfrom torch import nn\n"
"""What the chapter code below needs."""


def as_names(value: Any) -> set[str] | None:
    """A set of names from a set, list or tuple of strings, or a string like ``"c, e"``."""
    if type(value) is str:
        return {part.strip("'\"` ") for part in value.replace(",", " ").split()}
    if type(value) in (set, frozenset, list, tuple) and all(type(v) is str for v in value):
        return set(value)
    return None


def as_numbers(value: Any) -> list[float] | None:
    if type(value) is torch.Tensor and value.dim() == 1:
        value = value.tolist()
    if type(value) in (list, tuple) and all(type(v) in (int, float) for v in value):
        return [float(v) for v in value]
    return None


def as_shape(value: Any) -> tuple[int, ...] | None:
    if type(value) is str:
        return normalise_shape(value)
    if type(value) in (list, tuple) and all(type(v) is int for v in value):
        return tuple(value)
    return None


def as_pair(value: Any) -> tuple[int, int] | None:
    """``(a, b)`` from a tuple or list of two ints (not bools); a list of such pairs (one per
    layer, as ``convlab.receptive_field`` gives) counts by its last pair."""
    if type(value) is list and value and all(type(v) in (list, tuple) and len(v) == 2
                                             for v in value):
        value = value[-1]
    if type(value) in (list, tuple) and len(value) == 2 and all(type(v) is int for v in value):
        return (value[0], value[1])
    return None


def judge_pair(got: Any, expected: tuple[int, int], names: tuple[str, str]) -> tuple[bool, str]:
    """Compare a pair exactly; the reason names the wrong parts (``names`` may be messages)."""
    pair = as_pair(got)
    if pair is None:
        return False, msg("returned {got}, not a pair of ints ({first}, {second})",
                          got=repr(got)[:150], first=names[0], second=names[1])
    wrong = [msg("{name} is {got}, expected {expected}", name=n, got=g, expected=w)
             for n, g, w in zip(names, pair, expected, strict=True) if g != w]
    if len(wrong) == 2:
        return False, msg("{one}; {other}", one=wrong[0], other=wrong[1])
    return not wrong, wrong[0] if wrong else ""


def judge_same(how: Callable[[Any], Any],
                what: str) -> Callable[[Any, Case, Any], tuple[bool, str]]:
    """A judge that normalises the answer with ``how`` (``None`` = not such a thing; ``what``,
    a message, says what it should be)."""
    def judge(got: Any, case: Case, expected: Any) -> tuple[bool, str]:
        if got is None:
            return False, msg("not answered")
        value = how(got)
        if value is None:
            return False, msg("{got} is not {what}", got=repr(got)[:150], what=what)
        if isinstance(expected, list):
            ok = len(value) == len(expected) and all(
                math.isclose(a, b, abs_tol=1e-9) for a, b in zip(value, expected, strict=True))
        else:
            ok = value == expected
        if ok:
            return True, ""
        if isinstance(expected, set):
            extra, missing = ", ".join(sorted(value - expected)), ", ".join(
                sorted(expected - value))
            if extra and missing:
                return False, msg("included {extra}, left out {missing}", extra=extra,
                                  missing=missing)
            return False, (msg("included {extra}", extra=extra) if extra else
                           msg("left out {missing}", missing=missing))
        return False, msg("answered {value}, expected {expected}", value=repr(value),
                          expected=repr(expected))
    return judge


def conv_params(c: Case) -> int:
    layer = nn.Conv2d(c["c_in"], c["c_out"], c["k"], bias=c["bias"], groups=c.get("groups", 1),
                      device="meta")
    return sum(p.numel() for p in layer.parameters())


def param_case(rng: random.Random) -> Case:
    return {"c_in": rng.randint(1, 128), "c_out": rng.randint(1, 128), "k": rng.randint(1, 9),
            "bias": rng.random() < 0.5}


SMALL_NET = """\
small_net = nn.Sequential(
    nn.Conv2d(3, 8, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, kernel_size=3, padding=1),
    nn.ReLU(),
    nn.Conv2d(16, 4, kernel_size=1, bias=False),
)"""
"""Chapter 2's network to count (the chapter's cell, shown read-only in the assignment)."""

SHAPE_LAYERS = """\
conv_a = nn.Conv2d(3, 8, kernel_size=5, stride=2, padding=2)
conv_b = nn.Conv2d(8, 16, kernel_size=(3, 1))
images = torch.rand(2, 3, 32, 32)"""
"""Chapter 2's layers whose shapes are predicted (the chapter's cell)."""

WHICH_CHANGE = """\
a = torch.tensor([1.0, 2.0, 3.0])
b = a
c = a.detach()
d = a.clone()
e = a[1:]
b = b + 1
c.mul_(2)
d += 100
e[0] = 0"""
"""Chapter 3's "Which tensors change?" code (run here to find the answer)."""

GRAD_NONE = """\
x = torch.tensor([1.0, 2.0], requires_grad=True)
w = torch.tensor([0.5, 2.0], requires_grad=True)
v = torch.tensor([3.0, 4.0], requires_grad=True)
u = torch.tensor([1.0, 1.0], requires_grad=True)
h = x * w
k = h.detach() * v
with torch.no_grad():
    m = u * 2
loss = (k + m + h * 0).sum()
loss.backward()"""
"""Chapter 3's "Which .grad is None?" code (run here to find the answer)."""


def run(code: str) -> dict[str, Any]:
    """Run the course's own code (never a learner's) and return its variables."""
    namespace: dict[str, Any] = {}
    exec(compile(SETUP + code, "<chapter>", "exec"), namespace)
    return namespace


def shapes_expected(c: Case) -> tuple[int, ...]:
    ns = run(SHAPE_LAYERS)
    out_a = ns["conv_a"](ns["images"])
    shapes = {"conv_a.weight": ns["conv_a"].weight.shape, "conv_a output": out_a.shape,
              "conv_b.weight": ns["conv_b"].weight.shape,
              "conv_b output": ns["conv_b"](out_a).shape}
    return tuple(shapes[c["part"]])


def which_change_expected(c: Case) -> Any:
    ns = run(WHICH_CHANGE)
    storage = ns["a"].untyped_storage().data_ptr()
    if c["part"] == "predicted_a":
        return ns["a"].tolist()
    return {n for n in "bcde" if ns[n].untyped_storage().data_ptr() == storage}


def grad_none_expected(c: Case) -> set[str]:
    ns = run(GRAD_NONE)
    return {n for n in "xwvu" if ns[n].grad is None}


def rf_expected(c: Case) -> tuple[int, int]:
    if not c["layers"]:
        return (1, 1)
    last = receptive_field(list(c["layers"]))[-1]
    return (last.r, last.j)


def rf_case(rng: random.Random) -> Case:
    layers = []
    for _ in range(rng.randint(1, 6)):
        k = rng.randint(1, 7)
        layers.append((k, rng.randint(1, 3), rng.randint(0, k // 2), rng.randint(1, 3)))
    return {"layers": layers}


def rf_public() -> list[Case]:
    return [{"layers": [tuple(layer) for layer in layers]} for layers in checks_fields.RF_CASES]


def dilated_prediction(c: Case) -> tuple[int, int]:
    """Chapter 4's experiment, with PyTorch: which inputs reach the centre output of two 3×3
    convolutions with dilations 2 and 3 (padding = dilation, all-ones weights)."""
    x = torch.zeros(1, 1, 21, 21, dtype=torch.float64, requires_grad=True)
    ones = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    out = F.conv2d(F.conv2d(x, ones, padding=2, dilation=2), ones, padding=3, dilation=3)
    out[0, 0, 10, 10].backward()
    reached = x.grad[0, 0] != 0
    rows = reached.any(dim=1).nonzero()
    return (int(rows.max() - rows.min() + 1), int(reached.sum()))


DESIGN_TARGET, DESIGN_CHANNELS = 15, 64


@functools.cache
def _design_layer_params(k: int) -> int:
    """Parameters of one layer of the design (64 to 64 channels, k×k, with bias), as PyTorch
    counts them."""
    return conv_params({"c_in": DESIGN_CHANNELS, "c_out": DESIGN_CHANNELS, "k": k, "bias": True})


@functools.cache
def _fewest_design_params() -> int:
    """The fewest parameters of a stride-1 stack of 3×3, 5×5 and 7×7 layers reaching
    DESIGN_TARGET, each layer's count PyTorch's."""
    cost, _ = checks_fields.cheapest_stack(
        DESIGN_TARGET, {k: _design_layer_params(k) for k in (3, 5, 7)})
    return cost


def judge_design(got: Any, case: Case) -> tuple[bool, str]:
    """Part "reach": the stack of kernel sizes reaches r ≥ 15; part "fewest": with the fewest
    parameters among stride-1 stacks of 3×3, 5×5 and 7×7 layers (64 channels, with bias)."""
    if got is None:
        return False, msg("not answered")
    if type(got) not in (list, tuple) or not got or any(type(k) is not int for k in got):
        return False, msg("{got} is not a list of kernel sizes", got=repr(got)[:150])
    r = 1 + sum(k - 1 for k in got)
    if case["part"] == "reach":
        return (r >= DESIGN_TARGET, "" if r >= DESIGN_TARGET else
                msg("reaches r = {r}, not {target}", r=r, target=DESIGN_TARGET))
    if any(k not in (3, 5, 7) for k in got):
        return False, msg("uses kernel sizes other than 3, 5 and 7")
    cost = sum(_design_layer_params(k) for k in got)
    best = _fewest_design_params()
    ok = r >= DESIGN_TARGET and cost == best
    return ok, "" if ok else msg("{cost} parameters; the fewest that reach r ≥ {target} is {best}",
                                 cost=f"{cost:,}", target=DESIGN_TARGET, best=f"{best:,}")


def param_public() -> list[Case]:
    """The chapter 2 checker's cases for ``my_param_count``."""
    return [dict(c) for c in checks_formulas.PARAM_CASES]


def network_params(c: Case) -> int:
    return sum(p.numel() for p in run(SMALL_NET)["small_net"].parameters())


GROUPS = {"grouped_params": {"c_in": 32, "c_out": 64, "k": 3, "groups": 4, "bias": True},
          "depthwise_params": {"c_in": 32, "c_out": 32, "k": 5, "groups": 32, "bias": True}}
"""The two layers of chapter 2's grouped and depthwise exercise."""


def groups_expected(c: Case) -> int:
    return conv_params(GROUPS[c["part"]])


def pick_shape(answers: dict[str, Any], c: Case) -> Any:
    """One shape from the learner's ``shape_answers`` dict."""
    shapes = answers.get("shape_answers")
    return shapes.get(c["part"]) if type(shapes) is dict else None


def judge_shape(got: Any, c: Case) -> tuple[bool, str]:
    return judge_same(as_shape, msg("a shape"))(got, c, shapes_expected(c))


def judge_which_change(got: Any, c: Case) -> tuple[bool, str]:
    numbers = c["part"] == "predicted_a"
    how = judge_same(as_numbers if numbers else as_names,
                     msg("a list of numbers") if numbers else msg("a set of names"))
    return how(got, c, which_change_expected(c))


def judge_grad_none(got: Any, c: Case) -> tuple[bool, str]:
    return judge_same(as_names, msg("a set of names"))(got, c, grad_none_expected(c))


def judge_rf(got: Any, c: Case) -> tuple[bool, str]:
    return judge_pair(got, rf_expected(c), ("r", "j"))


def judge_prediction(got: Any, c: Case) -> tuple[bool, str]:
    if got is None:
        return False, msg("not answered")
    return judge_pair(got, dilated_prediction(c), ("r", msg("count")))
