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

Every chapter's code exercises are here (:data:`EXERCISES`). Answers that are values (counts,
shapes, predictions, ``(r, j)`` pairs) are judged by :mod:`convlab.grading_values`; chapter 3's
training loop and discriminator step run on models built in the child and are inspected there
by :mod:`convlab.grading_autograd` (see :class:`Exercise` for the kinds).
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import resource
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from convlab import checks_tensors, grading_autograd, i18n, sandbox
from convlab import grading_values as values
from convlab.i18n import Message
from convlab.i18n import message as msg

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

#: The forbidden calls' names, as the reports name them (message ids: shown in the report's
#: language, see :func:`_failure`; a rule gets the plain ``str``, which its child sends back).
RULE_NAMES = {"convolution": msg("torch's convolution"),
              "single-channel": msg("F.conv2d on several channels or with a bias")}


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

def _parts(*parts: str) -> Callable[[], list[Case]]:
    return lambda: [{"part": part} for part in parts]


def _by_name(answers: dict[str, Any], case: Case) -> Any:
    return answers.get(case["part"])


def _chapters_2_to_4() -> list[Exercise]:
    v = values
    param, channel = v.param_public, _public(_conv2d_case, 6)
    train, gan = (_public(grading_autograd.training_case, 2),
                  _public(grading_autograd.gan_case, 2))
    single_channel = sandbox.Rule(str(RULE_NAMES["single-channel"]),
                                  torch_ops=checks_tensors.CONVOLUTIONS,
                                  allow=checks_tensors.single_channel)
    no_model = frozenset({"parameters", "named_parameters", "numel", "state_dict"})
    return [
        Exercise("ch2-ex-param-count", "my_param_count", "size", v.conv_params, param,
                 _hidden(v.param_case, 20, param), call=("c_in", "c_out", "k")),
        Exercise("ch2-ex-network-params", "small_net_params", "parts", v.network_params,
                 _parts("small_net_params"), _no_hidden, needs=("ch2-ex-param-count",),
                 prelude=v.SMALL_NET, forbid_names=no_model),
        Exercise("ch2-ex-shapes", "shape_answers", "parts", v.shapes_expected,
                 _parts("conv_a.weight", "conv_a output", "conv_b.weight", "conv_b output"),
                 _no_hidden, prelude=v.SHAPE_LAYERS, pick=v.pick_shape, judge=v.judge_shape),
        Exercise("ch2-ex-channel-loops", "my_conv2d", "tensor", _conv2d, channel,
                 _hidden(_conv2d_case, 8, channel), call=("x", "w", "b"), rule=single_channel),
        Exercise("ch2-ex-groups", "grouped_params,depthwise_params", "parts", v.groups_expected,
                 _parts("grouped_params", "depthwise_params"), _no_hidden),
        Exercise("ch3-ex-which-change", "predicted_a,predicted_shared", "parts",
                 v.which_change_expected, _parts("predicted_a", "predicted_shared"),
                 _no_hidden, judge=v.judge_which_change),
        Exercise("ch3-ex-grad-none", "predicted_none", "parts", v.grad_none_expected,
                 _parts("predicted_none"), _no_hidden, judge=v.judge_grad_none),
        Exercise("ch3-ex-training-loop", "train", "call", lambda c: None, train,
                 _hidden(grading_autograd.training_case, 4, train),
                 make_call=grading_autograd.training_call,
                 observe=grading_autograd.observe_training, judge=grading_autograd.judge_training),
        Exercise("ch3-ex-gan-step", "discriminator_step", "call", lambda c: None, gan,
                 _hidden(grading_autograd.gan_case, 4, gan), make_call=grading_autograd.gan_call,
                 observe=grading_autograd.observe_gan, judge=grading_autograd.judge_gan),
        Exercise("ch4-ex-rf-fn", "my_receptive_field", "pair", v.rf_expected, v.rf_public,
                 _hidden(v.rf_case, 20, v.rf_public), call=("layers",), judge=v.judge_rf),
        Exercise("ch4-ex-rf-design", "my_design", "parts", lambda c: None,
                 _parts("reach", "fewest"), _no_hidden,
                 pick=lambda answers, c: answers.get("my_design"), judge=v.judge_design),
        Exercise("ch4-ex-rf-predict", "my_prediction", "parts", v.dilated_prediction,
                 _parts("my_prediction"), _no_hidden, judge=v.judge_prediction),
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

def spec_line(label: str, cases: str, seed: int | None = None, *, lang: str = "en") -> str:
    """The comment that tells the autograder what a test cell grades (read by :func:`read_spec`);
    ``lang`` is the language of its report (:meth:`Report.text`), named unless English."""
    i18n.check_language(lang)
    if label not in EXERCISES:
        raise ValueError(f"unknown exercise {label!r}: auto-graded ones are {sorted(EXERCISES)}")
    if cases not in ("public", "hidden") or (cases == "hidden") != (seed is not None):
        raise ValueError("cases must be 'public' (no seed) or 'hidden' (with a seed)")
    spec: dict[str, Any] = {"label": label, "cases": cases}
    if seed is not None:
        spec["seed"] = seed
    if lang != i18n.ENGLISH:
        spec["lang"] = lang
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
          and (spec["cases"] == "public" or isinstance(spec.get("seed"), int))
          and spec.get("lang", i18n.ENGLISH) in i18n.SUPPORTED)
    return spec if ok else None


def spec_language(spec: dict[str, Any]) -> str:
    """The language a spec asks its report in (English unless it names one)."""
    return i18n.check_language(spec.get("lang", i18n.ENGLISH))


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


_CONVOLUTION = sandbox.Rule(str(RULE_NAMES["convolution"]), torch_ops=frozenset(
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


def join(texts: list[Any]) -> Message:
    """Texts (messages or names) joined with commas, each translated when shown."""
    return msg(", ".join(f"{{t{n}}}" for n in range(len(texts))),
               **{f"t{n}": text for n, text in enumerate(texts)})


_STATUS = {"timed out": msg("did not finish (time limit)"),
           "output limit": msg("printed too much"),
           "not run": msg("did not run (an earlier case used up the time)")}
_STOPPED = {"timed out": msg("timed out"), "output limit": msg("output limit")}


def _failure(outcome: sandbox.Outcome) -> str:
    """Why a call gave no usable value, in words ("" if it returned): a message."""
    if outcome.forbidden:
        names = [msg(n) if n in RULE_NAMES.values() else n for n in outcome.forbidden]
        return msg("calls {names}, which the exercise forbids", names=join(names))
    if outcome.status == "returned":
        return ""
    if outcome.status == "raised" and outcome.error:
        return msg("raised {error}", error=f"{outcome.error.type_name}: "
                   f"{outcome.error.message}"[:200])
    if outcome.status in ("exited", "crashed"):
        if outcome.error:
            return msg("ended the process ({error})", error=outcome.error.type_name)
        return msg("ended the process")
    return _STATUS.get(outcome.status, outcome.status)


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

    def text(self, *, lang: str = i18n.ENGLISH) -> str:
        """The report in ``lang``: its score, then why cases failed (each line a message)."""
        _ = i18n.translator(lang)
        head = _("{label}: {correct}/{total} cases correct", label=self.label,
                 correct=self.correct, total=self.total)
        return "\n".join((head, *(_(line) if isinstance(line, Message) else line
                                  for line in self.lines)))


def _same(got: Any, expected: Any, kind: str) -> tuple[bool, str]:
    """Compare in the parent: ``got`` is data decoded from the child, never learner objects."""
    if kind == "tensor":
        if type(got) is not torch.Tensor:
            return False, msg("returned {type}, not a tensor", type=type(got).__name__)
        want = torch.tensor(expected, dtype=torch.float64)
        if tuple(got.shape) != tuple(want.shape):
            return False, msg("shape {got}, expected {expected}", got=tuple(got.shape),
                              expected=tuple(want.shape))
        tensor = torch.tensor(got.tolist(), dtype=torch.float64)
        ok = bool(torch.allclose(tensor, want, rtol=1e-5, atol=1e-6))
        error = float((tensor - want).abs().max()) if tensor.numel() else 0.0
        return ok, "" if ok else msg("wrong values (largest error {error})", error=f"{error:g}")
    if kind == "pair":
        return values.judge_pair(got, expected, (msg("first number"), msg("second number")))
    ok = type(got) is int and got == expected
    return ok, "" if ok else msg("returned {got}, expected {expected}", got=repr(got),
                                 expected=repr(expected))


def _describe(case: Case) -> str:
    if set(case) == {"part"}:
        return str(case["part"])
    shown = {k: (msg("shape {shape}", shape=tuple(torch.tensor(v).shape))
                 if isinstance(v, list) and k in ("x", "w", "b") else v)
             for k, v in case.items()}
    return join([msg("{name}={value}", name=k, value=v) for k, v in shown.items()])


def grade(spec: dict[str, Any], source: str | None, *, needed: str = "",
          time_limit: float = DEFAULT_TIME_LIMIT) -> Report:
    """Grade the answer ``source`` on the cases ``spec`` names (see :func:`read_spec`).

    The report's texts are messages: :meth:`Report.text` shows them in a language (the one
    the spec names, :func:`spec_language`, in ``convlab.autograde``).

    ``needed`` is the source of earlier answers the exercise may use (:func:`needed_source`);
    the child runs it before ``source``. Only ``source`` is scanned for forbidden names.
    """
    exercise = EXERCISES[spec["label"]]
    cases = cases_for(spec)
    label = (msg("{label} (public tests)", label=exercise.label) if spec["cases"] == "public"
             else msg("{label} (hidden tests)", label=exercise.label))
    if not source or not source.strip():
        return Report(label, 0, len(cases), (msg("no answer cell found"),))
    forbidden = (forbidden_names(source) if exercise.forbid_convolution else []) + (
        forbidden_names(source, exercise.forbid_names) if exercise.forbid_names else [])
    if forbidden:
        return Report(label, 0, len(cases), (msg("uses {names}: the exercise forbids it",
                                                 names=", ".join(forbidden)),))
    once = exercise.kind in ("value", "parts")
    calls = [_call(exercise, case) for case in cases[:1 if once else None]]
    rules = [rule for rule, on in ((_CONVOLUTION, exercise.forbid_convolution),
                                   (exercise.rule, exercise.rule is not None)) if on]
    run = sandbox.run(_Answer(source, exercise, needed), calls, time_limit=time_limit,
                      rules=rules, observe=exercise.observe)
    lines: list[str] = ([msg("stopped: {why}", why=_STOPPED.get(run.stopped, run.stopped))]
                        if run.stopped else [])
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
                           (False, msg("not answered")) if got is None else
                           _same(got, exercise.expected(case), "size"))
        elif exercise.kind == "call":
            ok, why_not = exercise.judge((outcome.value, outcome.observed), case)
        elif exercise.judge is not None:
            ok, why_not = exercise.judge(outcome.value, case)
        else:
            ok, why_not = _same(outcome.value, exercise.expected(case), exercise.kind)
        correct += ok
        if not ok and len(lines) < 4:
            lines.append(_case_line(_describe(case), why_not))
    return Report(label, correct, len(cases), tuple(lines))


def _grade_value(label: str, exercise: Exercise, cases: list[Case], outcome: sandbox.Outcome,
                 lines: list[str]) -> Report:
    why_not = _failure(outcome)
    if why_not:
        return Report(label, 0, len(cases), (*lines, _case_line("", why_not)))
    if len(cases) == 1:
        ok, why_not = _same(outcome.value, exercise.expected(cases[0]), "size")
        return Report(label, int(ok), 1,
                      tuple(lines + ([] if ok else [_case_line("", why_not)])))
    table = outcome.value if type(outcome.value) is dict else {}
    correct = 0
    for case in cases:
        key = tuple(case[n] for n in "ikspd")
        ok, why_not = _same(table.get(key), exercise.expected(case), "size")
        correct += ok
        if not ok and len(lines) < 4:
            lines.append(_case_line(str(key), why_not))
    return Report(label, correct, len(cases), tuple(lines))


def _case_line(case: str, why_not: str) -> Message:
    """One failed case of a report, indented: ``  i=5, k=3: returned 4, expected 3``."""
    if not case:
        return msg("  {why}", why=why_not)
    return msg("  {case}: {why}", case=case, why=why_not)
