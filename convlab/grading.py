"""Grade a learner's answer in a clean child process, on cases the learner never saw.

The autograder for ConvLab's nbgrader assignments (``make assignments``, ``convlab.autograde``).
It trusts nothing that ran in the learner's kernel. For one exercise it

1. takes the **source** of the learner's answer cell (not an object from their kernel);
2. runs it with :func:`convlab.sandbox.run` in a child forked from the grading process (which
   has never run learner code): the child executes :data:`SETUP` and the answer, then calls the
   learner's function on each case, and sends back plain data (numbers, plain tensors). The
   child has a memory limit and ``time_limit`` seconds (then its process group is killed); a
   flood of output stops it; for exercises that forbid it, every call of torch's convolution is
   recorded (the case fails), and the answer's source is scanned for the forbidden names;
3. compares, in the parent, what came back with what PyTorch computes for the same cases.

So a submission that patches ``convlab.checks`` or torch in its kernel, answers with a lookup
table of the checkers' cases, returns a ``torch.Tensor`` subclass that fakes ``==``, or inspects
the checker's frame gains nothing: none of that reaches the parent, and the cases are new. An
endless loop, ``os._exit``, ``sys.exit``, a huge print or allocation costs only the cases it
spoils. The score is correct cases / all cases.

Cases: ``"public"`` ones are fixed (the same for every course); ``"hidden"`` ones are drawn from
a seed that only the instructor's source notebooks contain and never repeat a public case.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import os
import random
import re
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab import checks, grading_autograd, sandbox
from convlab.arithmetic import receptive_field
from convlab.quiz import normalise_shape

SETUP = "import math\n\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
"""The imports every assignment's first (read-only) cell runs; the child runs the same."""

DEFAULT_TIME_LIMIT = 10.0
"""Seconds one exercise's answer may run in the child, all cases together."""

MEMORY_LIMIT = 2 * 1024**3
"""Bytes of address space the child may add to what the grading process already maps."""

_SPEC = re.compile(r"^#\s*convlab-grade:\s*(\{.*\})\s*$", re.MULTILINE)
_CONV_NAMES = frozenset({
    "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
    "convolution", "_convolution", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d", "LazyConv2d", "LazyConvTranspose2d"})

Case = dict[str, Any]
"""A case: keyword → plain value (an int, a bool, ``None``, or a nested list for a tensor)."""


# --------------------------------------------------------------------------- the exercises

@dataclass(frozen=True)
class Exercise:
    """One auto-graded exercise: what the answer defines and how it is judged.

    ``kind`` is one of

    * ``"size"`` — a function returning an ``int``; ``call`` lists the positional argument
      names, the rest of a case goes by keyword;
    * ``"tensor"`` — a function returning a tensor (arguments as for ``"size"``);
    * ``"pair"`` — a function returning a pair of ints such as ``(r, j)``, compared exactly;
    * ``"call"`` — a function called on objects that ``make_call`` builds from a case (models,
      an optimizer); ``observe`` runs in the child after the call and reports their state, and
      ``judge((returned, observed), case)`` decides in the parent;
    * ``"value"`` — a variable (chapter 1); ``public`` then holds the one expected answer's keys;
    * ``"parts"`` — one or more variables (``name`` is a comma-separated list), evaluated once;
      each case ``{"part": ...}`` is one point of the answer, taken from them by ``pick`` and
      judged by ``judge(got, case)``.

    ``needs`` names earlier exercises whose answer cells run before this one (the chapter lets
    a later answer use an earlier function); ``prelude`` is context code the assignment shows in
    a read-only cell (a model to count), run before the answer. ``rule`` is a call the answer
    must not make (checked in the child); ``forbid_names`` are names the answer's source must
    not mention.
    """

    label: str
    name: str
    kind: str
    expected: Callable[[Case], Any]
    public: Callable[[], list[Case]]
    hidden: Callable[[random.Random], list[Case]]
    call: tuple[str, ...] = ()
    forbid_convolution: bool = False
    rule: sandbox.Rule | None = None
    forbid_names: frozenset[str] = frozenset()
    needs: tuple[str, ...] = ()
    prelude: str = ""
    pick: Callable[[dict[str, Any], Case], Any] | None = None
    judge: Callable[[Any, Case], tuple[bool, str]] | None = None
    make_call: Callable[[Case], sandbox.Call] | None = None
    observe: Callable[[sandbox.Call, Any], Any] | None = None


def _conv_size(c: Case) -> int:
    x = torch.zeros(1, 1, c["i"])
    w = torch.zeros(1, 1, c["k"])
    return int(F.conv1d(x, w, stride=c["s"], padding=c["p"], dilation=c["d"]).shape[-1])


def _transposed_size(c: Case) -> int:
    x = torch.zeros(1, 1, c["i"])
    w = torch.zeros(1, 1, c["k"])
    return int(F.conv_transpose1d(x, w, stride=c["s"], padding=c["p"],
                                  output_padding=c["output_padding"],
                                  dilation=c["d"]).shape[-1])


def _output_padding(c: Case) -> int:
    """The output_padding that brings a Conv2d's output back to size i, found by running torch."""
    o = _conv_size({**c, "d": 1})
    for op in range(c["s"]):
        if _transposed_size({"i": o, "k": c["k"], "s": c["s"], "p": c["p"],
                             "output_padding": op, "d": 1}) == c["i"]:
            return op
    raise ValueError(f"no output_padding restores {c}")


def _tensor(value: Any) -> torch.Tensor | None:
    return None if value is None else torch.tensor(value, dtype=torch.float64)


def _conv2d(c: Case) -> list:
    return F.conv2d(_tensor(c["x"]), _tensor(c["w"]), _tensor(c["b"]), stride=c["stride"],
                    padding=c["padding"]).tolist()


def _conv_transpose2d(c: Case) -> list:
    return F.conv_transpose2d(_tensor(c["x"]), _tensor(c["w"]), stride=c["stride"],
                              padding=c["padding"]).tolist()


def _ints(rng: random.Random, *shape: int) -> list:
    """A nested list of small integers (exact in floating point), shaped ``shape``."""
    if not shape:
        return rng.randint(-3, 3)
    return [_ints(rng, *shape[1:]) for _ in range(shape[0])]


def _draw(rng: random.Random, n: int, make: Callable[[random.Random], Case | None],
          exclude: list[Case]) -> list[Case]:
    """``n`` distinct cases from ``make`` (``None`` = rejected), none of them in ``exclude``."""
    cases: list[Case] = []
    while len(cases) < n:
        case = make(rng)
        if case is not None and case not in cases and case not in exclude:
            cases.append(case)
    return cases


def _size_case(rng: random.Random) -> Case | None:
    c = {"i": rng.randint(1, 64), "k": rng.randint(1, 9), "s": rng.randint(1, 4),
         "p": rng.randint(0, 4), "d": rng.randint(1, 3)}
    return c if c["d"] * (c["k"] - 1) + 1 <= c["i"] + 2 * c["p"] and c["p"] <= c["k"] // 2 else None


def _transposed_case(rng: random.Random) -> Case | None:
    c = {"i": rng.randint(1, 32), "k": rng.randint(1, 7), "s": rng.randint(1, 4),
         "p": rng.randint(0, 3), "output_padding": rng.randint(0, 3), "d": rng.randint(1, 3)}
    if c["output_padding"] >= max(c["s"], c["d"]):
        return None
    full = (c["i"] - 1) * c["s"] + c["d"] * (c["k"] - 1) + 1
    return c if full - 2 * c["p"] + c["output_padding"] >= 1 else None


def _output_padding_case(rng: random.Random) -> Case | None:
    c = {"i": rng.randint(2, 64), "k": rng.randint(1, 7), "s": rng.randint(1, 4),
         "p": rng.randint(0, 3)}
    return c if c["p"] <= c["k"] // 2 and c["k"] <= c["i"] + 2 * c["p"] else None


def _conv2d_case(rng: random.Random) -> Case:
    n, c_in, c_out = rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 3)
    kh, kw = rng.randint(1, 3), rng.randint(1, 3)
    padding, stride = rng.randint(0, 2), rng.randint(1, 3)
    h, w = rng.randint(max(1, kh - 2 * padding), 7), rng.randint(max(1, kw - 2 * padding), 7)
    bias = _ints(rng, c_out) if rng.random() < 0.6 else None
    return {"x": _ints(rng, n, c_in, h, w), "w": _ints(rng, c_out, c_in, kh, kw), "b": bias,
            "stride": stride, "padding": padding}


def _transpose_case(rng: random.Random) -> Case | None:
    n, c_in, c_out, k = rng.randint(1, 2), rng.randint(1, 3), rng.randint(1, 3), rng.randint(1, 4)
    h, w = rng.randint(1, 5), rng.randint(1, 5)
    stride, padding = rng.randint(1, 3), rng.randint(0, 2)
    if (min(h, w) - 1) * stride + k - 2 * padding < 1:
        return None
    return {"x": _ints(rng, n, c_in, h, w), "w": _ints(rng, c_in, c_out, k, k),
            "stride": stride, "padding": padding}


def _public(make: Callable[[random.Random], Case | None], n: int) -> Callable[[], list[Case]]:
    return lambda: _draw(random.Random(0), n, make, [])


def _hidden(make: Callable[[random.Random], Case | None], n: int,
            public: Callable[[], list[Case]]) -> Callable[[random.Random], list[Case]]:
    return lambda rng: _draw(rng, n, make, public())


_TABLE_KEYS = [(32, 3, 1, 1, 1), (32, 5, 1, 0, 1), (28, 3, 2, 1, 1), (7, 3, 2, 0, 1),
               (8, 3, 2, 0, 1), (10, 3, 1, 0, 2), (224, 7, 2, 3, 1)]


def _table_public() -> list[Case]:
    return [dict(zip("ikspd", key, strict=True)) for key in _TABLE_KEYS]


def _same_padding(c: Case) -> int:
    """The padding that keeps every input size at stride 1, found by running torch."""
    return next(p for p in range(c["k"])
                if all(_conv_size({"i": i, "k": c["k"], "s": 1, "p": p, "d": 1}) == i
                       for i in (7, 12, 31)))


def _no_hidden(rng: random.Random) -> list[Case]:
    return []


# --------------------------------------------------------------------------- chapters 2 to 4

def _judge_count(got: Any, case: Case, expected: int) -> tuple[bool, str]:
    return _same(got, expected, "size")


def _as_names(value: Any) -> set[str] | None:
    """A set of names from a set, list or tuple of strings, or a string like ``"c, e"``."""
    if type(value) is str:
        return {part.strip("'\"` ") for part in value.replace(",", " ").split()}
    if type(value) in (set, frozenset, list, tuple) and all(type(v) is str for v in value):
        return set(value)
    return None


def _as_numbers(value: Any) -> list[float] | None:
    if type(value) is torch.Tensor and value.dim() == 1:
        value = value.tolist()
    if type(value) in (list, tuple) and all(type(v) in (int, float) for v in value):
        return [float(v) for v in value]
    return None


def _as_shape(value: Any) -> tuple[int, ...] | None:
    if type(value) is str:
        return normalise_shape(value)
    if type(value) in (list, tuple) and all(type(v) is int for v in value):
        return tuple(value)
    return None


def _as_pair(value: Any) -> tuple[int, int] | None:
    """``(a, b)`` from a tuple or list of two ints (not bools); a list of such pairs (one per
    layer, as ``convlab.receptive_field`` gives) counts by its last pair."""
    if type(value) is list and value and all(type(v) in (list, tuple) and len(v) == 2
                                             for v in value):
        value = value[-1]
    if type(value) in (list, tuple) and len(value) == 2 and all(type(v) is int for v in value):
        return (value[0], value[1])
    return None


def _judge_pair(got: Any, expected: tuple[int, int], names: tuple[str, str]) -> tuple[bool, str]:
    pair = _as_pair(got)
    if pair is None:
        return False, f"returned {got!r}, not a pair of ints {names}"[:200]
    wrong = [f"{n} is {g}, expected {w}" for n, g, w in zip(names, pair, expected, strict=True)
             if g != w]
    return not wrong, "; ".join(wrong)


def _judge_same(how: Callable[[Any], Any],
                what: str) -> Callable[[Any, Case, Any], tuple[bool, str]]:
    """A judge that normalises the answer with ``how`` (``None`` = not such a thing)."""
    def judge(got: Any, case: Case, expected: Any) -> tuple[bool, str]:
        if got is None:
            return False, "not answered"
        value = how(got)
        if value is None:
            return False, f"{got!r} is not {what}"[:200]
        if isinstance(expected, list):
            ok = len(value) == len(expected) and all(
                math.isclose(a, b, abs_tol=1e-9) for a, b in zip(value, expected, strict=True))
        else:
            ok = value == expected
        if ok:
            return True, ""
        if isinstance(expected, set):
            extra, missing = sorted(value - expected), sorted(expected - value)
            return False, ", ".join(filter(None, (
                f"included {', '.join(extra)}" if extra else "",
                f"left out {', '.join(missing)}" if missing else "")))
        return False, f"answered {value!r}, expected {expected!r}"
    return judge


def _conv_params(c: Case) -> int:
    layer = nn.Conv2d(c["c_in"], c["c_out"], c["k"], bias=c["bias"], groups=c.get("groups", 1),
                      device="meta")
    return sum(p.numel() for p in layer.parameters())


def _param_case(rng: random.Random) -> Case:
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


def _run(code: str) -> dict[str, Any]:
    """Run the course's own code (never a learner's) and return its variables."""
    namespace: dict[str, Any] = {}
    exec(compile(SETUP + code, "<chapter>", "exec"), namespace)
    return namespace


def _shapes_expected(c: Case) -> tuple[int, ...]:
    ns = _run(SHAPE_LAYERS)
    out_a = ns["conv_a"](ns["images"])
    shapes = {"conv_a.weight": ns["conv_a"].weight.shape, "conv_a output": out_a.shape,
              "conv_b.weight": ns["conv_b"].weight.shape,
              "conv_b output": ns["conv_b"](out_a).shape}
    return tuple(shapes[c["part"]])


def _which_change_expected(c: Case) -> Any:
    ns = _run(WHICH_CHANGE)
    storage = ns["a"].untyped_storage().data_ptr()
    if c["part"] == "predicted_a":
        return ns["a"].tolist()
    return {n for n in "bcde" if ns[n].untyped_storage().data_ptr() == storage}


def _grad_none_expected(c: Case) -> set[str]:
    ns = _run(GRAD_NONE)
    return {n for n in "xwvu" if ns[n].grad is None}


def _rf_expected(c: Case) -> tuple[int, int]:
    if not c["layers"]:
        return (1, 1)
    last = receptive_field(list(c["layers"]))[-1]
    return (last.r, last.j)


def _rf_case(rng: random.Random) -> Case:
    layers = []
    for _ in range(rng.randint(1, 6)):
        k = rng.randint(1, 7)
        layers.append((k, rng.randint(1, 3), rng.randint(0, k // 2), rng.randint(1, 3)))
    return {"layers": layers}


def _rf_public() -> list[Case]:
    return [{"layers": [tuple(layer) for layer in layers]} for layers in checks._RF_CASES]


def _dilated_prediction(c: Case) -> tuple[int, int]:
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


def _judge_design(got: Any, case: Case) -> tuple[bool, str]:
    """Part "reach": the stack of kernel sizes reaches r ≥ 15; part "fewest": with the fewest
    parameters among stride-1 stacks of 3×3, 5×5 and 7×7 layers (64 channels, with bias)."""
    if got is None:
        return False, "not answered"
    if type(got) not in (list, tuple) or not got or any(type(k) is not int for k in got):
        return False, f"{got!r} is not a list of kernel sizes"[:200]
    r = 1 + sum(k - 1 for k in got)
    if case["part"] == "reach":
        return (r >= DESIGN_TARGET,
                "" if r >= DESIGN_TARGET else f"reaches r = {r}, not {DESIGN_TARGET}")
    if any(k not in (3, 5, 7) for k in got):
        return False, "uses kernel sizes other than 3, 5 and 7"
    cost = sum(_conv_params({"c_in": DESIGN_CHANNELS, "c_out": DESIGN_CHANNELS, "k": k,
                             "bias": True}) for k in got)
    best = min(sum(_conv_params({"c_in": DESIGN_CHANNELS, "c_out": DESIGN_CHANNELS, "k": k,
                                 "bias": True}) for k in combo)
               for n in range(1, DESIGN_TARGET)
               for combo in itertools.combinations_with_replacement((3, 5, 7), n)
               if 1 + sum(k - 1 for k in combo) >= DESIGN_TARGET)
    ok = r >= DESIGN_TARGET and cost == best
    return ok, "" if ok else f"{cost:,} parameters; the fewest that reach r ≥ 15 is {best:,}"


def _parts(*parts: str) -> Callable[[], list[Case]]:
    return lambda: [{"part": part} for part in parts]


def _by_name(values: dict[str, Any], case: Case) -> Any:
    return values.get(case["part"])


def _expect(expected: Callable[[Case], Any],
            judge: Callable[[Any, Case, Any], tuple[bool, str]]
            ) -> Callable[[Any, Case], tuple[bool, str]]:
    return lambda got, case: judge(got, case, expected(case))


def _chapters_2_to_4() -> list[Exercise]:
    params = lambda: [dict(c) for c in checks._PARAM_CASES]  # noqa: E731 - the checker's cases
    channel = _public(_conv2d_case, 6)
    single_channel = sandbox.Rule("F.conv2d on several channels or with a bias",
                                  torch_ops=checks._CONVOLUTIONS, allow=checks._single_channel)
    names = _judge_same(_as_names, "a set of names")
    return [
        Exercise("ch2-ex-param-count", "my_param_count", "size", _conv_params, params,
                 _hidden(_param_case, 20, params), call=("c_in", "c_out", "k")),
        Exercise("ch2-ex-network-params", "small_net_params", "parts",
                 lambda c: sum(p.numel() for p in _run(SMALL_NET)["small_net"].parameters()),
                 _parts("small_net_params"), _no_hidden, needs=("ch2-ex-param-count",),
                 prelude=SMALL_NET, pick=_by_name,
                 forbid_names=frozenset({"parameters", "named_parameters", "numel",
                                         "state_dict"}),
                 judge=None),
        Exercise("ch2-ex-shapes", "shape_answers", "parts", _shapes_expected,
                 _parts("conv_a.weight", "conv_a output", "conv_b.weight", "conv_b output"),
                 _no_hidden, prelude=SHAPE_LAYERS,
                 pick=lambda v, c: (v.get("shape_answers") or {}).get(c["part"])
                 if type(v.get("shape_answers")) is dict else None,
                 judge=_expect(_shapes_expected, _judge_same(_as_shape, "a shape"))),
        Exercise("ch2-ex-channel-loops", "my_conv2d", "tensor", _conv2d, channel,
                 _hidden(_conv2d_case, 8, channel), call=("x", "w", "b"), rule=single_channel),
        Exercise("ch2-ex-groups", "grouped_params,depthwise_params", "parts",
                 lambda c: _conv_params({"grouped_params": dict(c_in=32, c_out=64, k=3,
                                                                groups=4, bias=True),
                                         "depthwise_params": dict(c_in=32, c_out=32, k=5,
                                                                  groups=32, bias=True)
                                         }[c["part"]]),
                 _parts("grouped_params", "depthwise_params"), _no_hidden, pick=_by_name),
        Exercise("ch3-ex-which-change", "predicted_a,predicted_shared", "parts",
                 _which_change_expected, _parts("predicted_a", "predicted_shared"), _no_hidden,
                 pick=_by_name,
                 judge=lambda got, c: _judge_same(
                     _as_numbers if c["part"] == "predicted_a" else _as_names,
                     "a list of numbers" if c["part"] == "predicted_a" else "a set of names",
                 )(got, c, _which_change_expected(c))),
        Exercise("ch3-ex-grad-none", "predicted_none", "parts", _grad_none_expected,
                 _parts("predicted_none"), _no_hidden, pick=_by_name,
                 judge=_expect(_grad_none_expected, names)),
        Exercise("ch3-ex-training-loop", "train", "call", lambda c: None,
                 _public(grading_autograd.training_case, 2),
                 _hidden(grading_autograd.training_case, 4,
                         _public(grading_autograd.training_case, 2)),
                 make_call=grading_autograd.training_call,
                 observe=grading_autograd.observe_training,
                 judge=grading_autograd.judge_training),
        Exercise("ch3-ex-gan-step", "discriminator_step", "call", lambda c: None,
                 _public(grading_autograd.gan_case, 2),
                 _hidden(grading_autograd.gan_case, 4, _public(grading_autograd.gan_case, 2)),
                 make_call=grading_autograd.gan_call, observe=grading_autograd.observe_gan,
                 judge=grading_autograd.judge_gan),
        Exercise("ch4-ex-rf-fn", "my_receptive_field", "pair", _rf_expected, _rf_public,
                 _hidden(_rf_case, 20, _rf_public), call=("layers",),
                 judge=lambda got, c: _judge_pair(got, _rf_expected(c), ("r", "j"))),
        Exercise("ch4-ex-rf-design", "my_design", "parts", lambda c: None,
                 _parts("reach", "fewest"), _no_hidden,
                 pick=lambda v, c: v.get("my_design"), judge=_judge_design),
        Exercise("ch4-ex-rf-predict", "my_prediction", "parts", _dilated_prediction,
                 _parts("my_prediction"), _no_hidden, pick=_by_name,
                 judge=lambda got, c: (False, "not answered") if got is None else _judge_pair(
                     got, _dilated_prediction(c), ("r", "count"))),
    ]


def _exercises() -> dict[str, Exercise]:
    out_size, t_size = _public(_size_case, 12), _public(_transposed_case, 12)
    padding, conv, transpose = (_public(_output_padding_case, 12), _public(_conv2d_case, 6),
                                _public(_transpose_case, 6))
    items = [
        Exercise("ch1-ex-size-table", "output_sizes", "value", _conv_size, _table_public,
                 _no_hidden),
        Exercise("ch1-ex-output-size-fn", "my_conv_output_size", "size", _conv_size, out_size,
                 _hidden(_size_case, 20, out_size), call=("i", "k", "s", "p", "d")),
        Exercise("ch1-ex-conv2d", "my_conv2d", "tensor", _conv2d, conv,
                 _hidden(_conv2d_case, 8, conv), call=("x", "w", "b"), forbid_convolution=True),
        Exercise("ch1-ex-same-padding", "p_same_7", "value", _same_padding,
                 lambda: [{"k": 7}], _no_hidden),
        Exercise("ch5-ex-output-size", "my_transposed_output_size", "size", _transposed_size,
                 t_size, _hidden(_transposed_case, 20, t_size),
                 call=("i", "k", "s", "p", "output_padding", "d")),
        Exercise("ch5-ex-scatter", "my_conv_transpose2d", "tensor", _conv_transpose2d,
                 transpose, _hidden(_transpose_case, 8, transpose), call=("x", "w"),
                 forbid_convolution=True),
        Exercise("ch5-ex-output-padding", "my_output_padding", "size", _output_padding, padding,
                 _hidden(_output_padding_case, 20, padding), call=("i", "k", "s", "p")),
        *_chapters_2_to_4(),
    ]
    return {exercise.label: exercise for exercise in items}


EXERCISES: dict[str, Exercise] = _exercises()
"""The auto-graded exercises by their label in the chapters (``ch1-ex-conv2d``, ...)."""


# --------------------------------------------------------------------------- test-cell specs

def spec_line(label: str, cases: str, seed: int | None = None) -> str:
    """The comment that tells the autograder what a test cell grades (read by :func:`read_spec`)."""
    if label not in EXERCISES:
        raise ValueError(f"unknown exercise {label!r}: auto-graded ones are {sorted(EXERCISES)}")
    if cases not in ("public", "hidden") or (cases == "hidden") != (seed is not None):
        raise ValueError("cases must be 'public' (no seed) or 'hidden' (with a seed)")
    spec: dict[str, Any] = {"label": label, "cases": cases}
    if seed is not None:
        spec["seed"] = seed
    return f"# convlab-grade: {json.dumps(spec)}"


def read_spec(source: str) -> dict[str, Any] | None:
    """The spec in a test cell's source, or ``None`` if it has none (or an unknown one)."""
    match = _SPEC.search(source)
    if not match:
        return None
    try:
        spec = json.loads(match[1])
    except ValueError:
        return None
    ok = (isinstance(spec, dict) and spec.get("label") in EXERCISES
          and spec.get("cases") in ("public", "hidden")
          and (spec["cases"] == "public" or isinstance(spec.get("seed"), int)))
    return spec if ok else None


def needed_source(label: str, answers: dict[str, str]) -> str:
    """The answer cells of the exercises ``label`` ``needs`` (in order), joined: run before its
    own answer (see :func:`grade`); ``answers`` maps labels to answer-cell sources."""
    return "\n".join(answers.get(n, "") for n in EXERCISES[label].needs)


def cases_for(spec: dict[str, Any]) -> list[Case]:
    """The cases a spec names."""
    exercise = EXERCISES[spec["label"]]
    if spec["cases"] == "public":
        return exercise.public()
    return exercise.hidden(random.Random(spec["seed"]))


# --------------------------------------------------------------------------- the child

def forbidden_names(source: str, names: frozenset[str] = _CONV_NAMES) -> list[str]:
    """Which of ``names`` (default: torch's convolutions) ``source`` mentions (as a name,
    attribute or string)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found = set()
    for node in ast.walk(tree):
        for name in (getattr(node, "id", None), getattr(node, "attr", None),
                     getattr(node, "value", None) if isinstance(node, ast.Constant) else None):
            if isinstance(name, str) and name in names:
                found.add(name)
    return sorted(found)


_CONVOLUTION = sandbox.Rule("torch's convolution", torch_ops=frozenset(
    {"conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
     "convolution", "_convolution", "conv_tbc"}))


def _answered(value: Any) -> Any:
    """``...`` (a stub's "not answered yet", also inside a dict of answers) as ``None``."""
    if value is ...:
        return None
    if type(value) is dict:
        return {k: _answered(v) for k, v in value.items()}
    return value


class _Answer:
    """The callable :func:`convlab.sandbox.run` calls in its forked child.

    On its first call *in the child* it limits the child's memory and executes :data:`SETUP`
    and the answer's source; then it calls the learner's function (or returns the answer's
    value). The grading process itself never executes the learner's source.
    """

    def __init__(self, source: str, exercise: Exercise, needed: str = "") -> None:
        self.source, self.exercise, self.needed = source, exercise, needed
        self.namespace: dict[str, Any] | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.namespace is None:
            mapped = int(open("/proc/self/statm").read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
            resource.setrlimit(resource.RLIMIT_AS, (mapped + MEMORY_LIMIT,) * 2)
            namespace: dict[str, Any] = {"__name__": "__main__"}
            exec(compile(SETUP + self.exercise.prelude, "<setup>", "exec"), namespace)
            self.namespace = namespace
            if self.needed:
                exec(compile(self.needed, "<earlier answers>", "exec"), namespace)
            exec(compile(self.source, "<answer>", "exec"), namespace)
        if self.exercise.kind == "parts":
            values = {n: self.namespace.get(n) for n in self.exercise.name.split(",")}
            return {n: _answered(v) for n, v in values.items()}
        answer = self.namespace[self.exercise.name]
        return answer if self.exercise.kind == "value" else answer(*args, **kwargs)


def _call(exercise: Exercise, case: Case) -> sandbox.Call:
    if exercise.kind in ("value", "parts"):
        return sandbox.Call()
    if exercise.make_call is not None:
        return exercise.make_call(case)
    convert = _tensor if exercise.kind == "tensor" else (lambda value: value)
    return sandbox.Call(tuple(convert(case[n]) for n in exercise.call),
                        {n: v for n, v in case.items() if n not in exercise.call})


def _failure(outcome: sandbox.Outcome) -> str:
    """Why a call gave no usable value, in words ("" if it returned)."""
    if outcome.forbidden:
        return f"calls {', '.join(outcome.forbidden)}, which the exercise forbids"
    if outcome.status == "returned":
        return ""
    if outcome.status == "raised" and outcome.error:
        return f"raised {outcome.error.type_name}: {outcome.error.message}"[:200]
    if outcome.status in ("exited", "crashed"):
        return "ended the process" + (f" ({outcome.error.type_name})" if outcome.error else "")
    return {"timed out": "did not finish (time limit)", "output limit": "printed too much",
            "not run": "did not run (an earlier case used up the time)"}.get(outcome.status,
                                                                            outcome.status)


# --------------------------------------------------------------------------- judging

@dataclass(frozen=True)
class Report:
    """The grade of one exercise on one set of cases: ``score`` = correct / total, in [0, 1]."""

    label: str
    correct: int
    total: int
    lines: tuple[str, ...]

    @property
    def score(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def text(self) -> str:
        return "\n".join((f"{self.label}: {self.correct}/{self.total} cases correct", *self.lines))


def _same(got: Any, expected: Any, kind: str) -> tuple[bool, str]:
    """Compare in the parent: ``got`` is data decoded from the child, never learner objects."""
    if kind == "tensor":
        if type(got) is not torch.Tensor:
            return False, f"returned {type(got).__name__}, not a tensor"
        want = torch.tensor(expected, dtype=torch.float64)
        if tuple(got.shape) != tuple(want.shape):
            return False, f"shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        tensor = torch.tensor(got.tolist(), dtype=torch.float64)
        ok = bool(torch.allclose(tensor, want, rtol=1e-5, atol=1e-6))
        error = float((tensor - want).abs().max()) if tensor.numel() else 0.0
        return ok, "" if ok else f"wrong values (largest error {error:g})"
    if kind == "pair":
        return _judge_pair(got, expected, ("first", "second"))
    ok = type(got) is int and got == expected
    return ok, "" if ok else f"returned {got!r}, expected {expected!r}"


def _describe(case: Case) -> str:
    if set(case) == {"part"}:
        return str(case["part"])
    shown = {k: (f"shape {tuple(torch.tensor(v).shape)}"
                 if isinstance(v, list) and k in ("x", "w", "b") else v)
             for k, v in case.items()}
    return ", ".join(f"{k}={v}" for k, v in shown.items())


def grade(spec: dict[str, Any], source: str | None, *, needed: str = "",
          time_limit: float = DEFAULT_TIME_LIMIT) -> Report:
    """Grade the answer ``source`` on the cases ``spec`` names (see :func:`read_spec`).

    ``needed`` is the source of earlier answers the exercise may use (:func:`needed_source`);
    the child runs it before ``source``. Only ``source`` is scanned for forbidden names.
    """
    exercise = EXERCISES[spec["label"]]
    cases = cases_for(spec)
    label = f"{exercise.label} ({spec['cases']} tests)"
    if not source or not source.strip():
        return Report(label, 0, len(cases), ("no answer cell found",))
    forbidden = (forbidden_names(source) if exercise.forbid_convolution else []) + (
        forbidden_names(source, exercise.forbid_names) if exercise.forbid_names else [])
    if forbidden:
        names = ", ".join(forbidden)
        return Report(label, 0, len(cases), (f"uses {names}: the exercise forbids it",))
    once = exercise.kind in ("value", "parts")
    calls = [_call(exercise, case) for case in cases[:1 if once else None]]
    rules = [rule for rule, on in ((_CONVOLUTION, exercise.forbid_convolution),
                                   (exercise.rule, exercise.rule is not None)) if on]
    run = sandbox.run(_Answer(source, exercise, needed), calls, time_limit=time_limit,
                      rules=rules, observe=exercise.observe)
    lines: list[str] = [f"stopped: {run.stopped}"] if run.stopped else []
    if exercise.kind == "value":
        return _grade_value(label, exercise, cases, run.outcomes[0], lines)
    outcomes = run.outcomes * len(cases) if once else run.outcomes
    correct = 0
    for case, outcome in zip(cases, outcomes, strict=True):
        why_not = _failure(outcome)
        ok = False
        if why_not:
            pass
        elif exercise.kind == "parts":
            got = (exercise.pick or _by_name)(
                outcome.value if type(outcome.value) is dict else {}, case)
            ok, why_not = (exercise.judge(got, case) if exercise.judge else
                           (False, "not answered") if got is None else
                           _same(got, exercise.expected(case), "size"))
        elif exercise.kind == "call":
            ok, why_not = exercise.judge((outcome.value, outcome.observed), case)
        elif exercise.judge is not None:
            ok, why_not = exercise.judge(outcome.value, case)
        else:
            ok, why_not = _same(outcome.value, exercise.expected(case), exercise.kind)
        correct += ok
        if not ok and len(lines) < 4:
            lines.append(f"  {_describe(case)}: {why_not}")
    return Report(label, correct, len(cases), tuple(lines))


def _grade_value(label: str, exercise: Exercise, cases: list[Case], outcome: sandbox.Outcome,
                 lines: list[str]) -> Report:
    why_not = _failure(outcome)
    if why_not:
        return Report(label, 0, len(cases), (*lines, f"  {why_not}"))
    if len(cases) == 1:
        ok, why_not = _same(outcome.value, exercise.expected(cases[0]), "size")
        return Report(label, int(ok), 1, tuple(lines + ([] if ok else [f"  {why_not}"])))
    table = outcome.value if type(outcome.value) is dict else {}
    correct = 0
    for case in cases:
        key = tuple(case[n] for n in "ikspd")
        ok, why_not = _same(table.get(key), exercise.expected(case), "size")
        correct += ok
        if not ok and len(lines) < 4:
            lines.append(f"  {key}: {why_not}")
    return Report(label, correct, len(cases), tuple(lines))
