"""Exercise checkers: run the learner's answer on many cases and give specific, kind feedback.

Every checker takes the learner's function (or value), compares it with PyTorch on a set of
cases (including edge cases) and returns a :class:`CheckResult`. The checker prints nothing:
the result *is* the feedback. Put the call last in a notebook cell and the cell shows the
feedback exactly once; in a script use ``print(result)``, ``result.passed``, ``result.score``.

A checker never raises because of the learner's answer: a wrong type, a wrong shape, an
exception in the learner's code, a ``NotImplementedError`` stub, an exit, an output flood, or
code slower than ``time_limit`` seconds is reported in words. The learner's function runs in a
child process (:mod:`convlab.sandbox`) that is killed when the time limit is reached, so nothing
keeps running afterwards and nothing it does reaches the notebook. Every case counts: the score
is correct cases / all cases, and a case that raised, did not finish or was not run is failed
(:mod:`convlab.feedback` words the result). Expected values are computed in the calling
process; the child only reports what the learner's code returned, whether it changed its inputs
in place, and whether it called a function the exercise rules out.

Checkers and the learner's signature they expect (chapter in brackets):

* ``check_output_size(fn)`` — ``fn(i, k, s=1, p=0, d=1) -> int`` [1]
* ``check_output_sizes_table(answers)`` — ``{(i, k, s, p, d): o}`` (trailing entries may be
  omitted: ``(i, k)``, ``(i, k, s)``, ...; a value ``...`` means "not filled in yet") [1]
* ``check_same_padding(p, k=7, d=1)`` — the padding that keeps the size at stride 1 [1]
* ``check_conv2d(fn, conv2d="forbidden")`` — ``fn(x, w, b=None, stride=1, padding=0) ->
  Tensor`` on ``(N, C, H, W)`` input against ``F.conv2d``, with no convolution call allowed
  [1]; ``conv2d="single-channel"`` allows bias-free single-channel ``F.conv2d`` calls [2]
* ``check_param_count(fn)`` — ``fn(c_in, c_out, k, bias=True) -> int`` for one ``Conv2d`` [2]
* ``check_network_params(answer, model)`` — an ``int``: the parameter count of ``model`` [2]
* ``check_groups_answer(answer, c_in, c_out, k, groups, bias=True)`` — an ``int``: the
  parameter count of a grouped (``groups=c_in``: depthwise) ``Conv2d`` [2]
* ``check_shapes(answers, expected)`` — ``{name: shape}`` predictions against shapes the
  chapter computed by running torch modules [2]
* ``check_prediction(answer, actual, explain="")`` — "commit to an answer, then we run the
  code"; ``answer = ...`` means "not answered yet" [3, 4]
* ``check_training_loop(train_fn)`` — ``train_fn(model, optimizer, batches, loss_fn) ->
  list of losses``: a training loop (the gradient-accumulation bug fixed) [3]
* ``check_gan_discriminator_step(step_fn)`` — ``step_fn(generator, discriminator,
  d_optimizer, real, z)``: one discriminator update of a tiny GAN (``discriminator`` returns
  logits; use binary cross-entropy with real = 1, fake = 0) [3]
* ``check_receptive_field(fn)`` — ``fn(layers) -> (r, j)`` for a list of ``(k, s, p, d)`` [4]
* ``check_rf_design(layers, target=15, channels=64)`` — a stride-1 stack (kernel sizes from
  3, 5, 7, or ``(k, s, p, d)`` tuples, or an ``nn.Sequential`` of ``Conv2d``) reaching field
  ``target`` with the fewest parameters [4]
* ``check_transposed_output_size(fn)`` — ``fn(i, k, s=1, p=0, output_padding=0, d=1)`` [5]
* ``check_conv_transpose2d(fn)`` — scatter-add ``fn(x, w, stride=1, padding=0)`` against
  ``F.conv_transpose2d`` (``w`` is ``(C_in, C_out, k, k)``), no convolution call allowed [5]
* ``check_output_padding(answer, *, i=None, k=3, s=2, p=1)`` — ``answer`` is a function
  ``fn(i, k, s, p) -> output_padding`` (checked on many cases) or an ``int`` for the given
  ``i, k, s, p``; verified by running ``Conv2d`` then ``ConvTranspose2d`` [5]
"""

from __future__ import annotations

import copy
import functools
import inspect
import itertools
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab import feedback, i18n, reference, sandbox
from convlab.feedback import CaseResult, CheckResult
from convlab.feedback import show as _show
from convlab.i18n import message as msg

DEFAULT_TIME_LIMIT = 10.0
"""Seconds a checker lets the learner's code run (all cases together) before stopping it."""


def _speaks(checker: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
    """Give a checker the keyword ``lang`` (default ``"en"``): the language of its feedback.

    The checker collects its texts as :class:`convlab.i18n.Message` objects (English); the
    result displays them in ``lang``.
    """
    @functools.wraps(checker)
    def with_language(*args: Any, lang: str = "en", **kwargs: Any) -> CheckResult:
        i18n.check_language(lang)
        result = checker(*args, **kwargs)
        result.lang = lang
        return result

    signature = inspect.signature(checker)
    extra = inspect.Parameter("lang", inspect.Parameter.KEYWORD_ONLY, default="en",
                              annotation="str")
    with_language.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), extra])
    return with_language



def _finish(name: str, cases: list[CaseResult], messages: list[str],
            calls: _Calls | None = None, labels: Sequence[frozenset[str]] = ()) -> CheckResult:
    """Build the result: passed when there are cases and all pass; the headline says what
    happened to the learner's code (``calls``); messages de-duplicated, printed output quoted."""
    unique = list(dict.fromkeys(m for m in messages if m))
    head = ""
    if calls is not None:
        head = feedback.headline(cases, calls.outcomes, calls.run, labels)
        unique += feedback.printed(calls.run)
    passed = bool(cases) and all(case.passed for case in cases)
    return CheckResult(passed=passed, cases=cases, messages=unique, name=name, headline=head)


# --------------------------------------------------------------------------- running learner code

@dataclass
class _Calls:
    """The learner's function run on a list of calls: one outcome (or problem) per call."""

    outcomes: list[sandbox.Outcome | None]  # None: the call was not made (see ``problems``)
    problems: list[str]  # why a call could not be made ('' if it was made)
    run: sandbox.Run | None
    time_limit: float

    def failure(self, index: int) -> str:
        """Why call ``index`` did not return, in words ('' if it returned)."""
        if self.problems[index]:
            return self.problems[index]
        outcome = self.outcomes[index]
        assert outcome is not None
        return "" if outcome.ok else feedback.problem(outcome, self.time_limit)

    def repeated(self, n: int) -> _Calls:
        """One call judged in ``n`` cases (its outcome stands behind each of them)."""
        return _Calls(self.outcomes * n, self.problems * n, self.run, self.time_limit)

    def value(self, index: int) -> Any:
        outcome = self.outcomes[index]
        return None if outcome is None else outcome.value


def _call(fn: Callable[..., Any], calls: Sequence[sandbox.Call], time_limit: float,
          rules: Sequence[sandbox.Rule] = (),
          observe: Callable[[sandbox.Call, Any], Any] | None = None) -> _Calls:
    """Run ``fn`` on every call in a killable child process (calls that cannot bind the
    learner's signature are not made: their problem says why)."""
    problems = [_signature_problem(fn, c.args, dict(c.kwargs)) for c in calls]
    sent = [i for i, text in enumerate(problems) if not text]
    run = sandbox.run(fn, [calls[i] for i in sent], time_limit=time_limit, rules=rules,
                      observe=observe) if sent else None
    outcomes: list[sandbox.Outcome | None] = [None] * len(calls)
    for j, i in enumerate(sent):
        outcomes[i] = run.outcomes[j]  # type: ignore[union-attr]
    return _Calls(outcomes, problems, run, time_limit)


def _broken_rules(outcome: sandbox.Outcome | None) -> str:
    """Why a call that returned still fails: a forbidden call or inputs changed in place."""
    if outcome is None:
        return ""
    if outcome.forbidden:
        return feedback.forbidden_text(outcome.forbidden)
    if outcome.changed_inputs:
        names = ", ".join(f"`{n}`" for n in outcome.changed_inputs)
        return (msg("the result is not accepted: your function changed its input {names} in "
                    "place (e.g. x += …, x[...] = …, x.add_(…)); compute into a new tensor "
                    "instead", names=names))
    return ""


def _signature_problem(fn: Callable[..., Any], args: tuple, kwargs: dict) -> str:
    """Explain why ``fn(*args, **kwargs)`` cannot be called, or return ''."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ""
    try:
        signature.bind(*args, **kwargs)
    except TypeError as err:
        shown = ", ".join([_short(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        return (msg("the checker calls your function as fn({shown}), but Python says: {err}. "
                    "Check the parameter names and defaults in the exercise.",
                    shown=shown, err=err))
    return ""


def _short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return msg("<tensor {shape}>", shape=tuple(value.shape))
    return repr(value)


def _not_callable(name: str, fn: Any, example: str) -> CheckResult | None:
    """A result explaining that ``fn`` should have been a function, or None if it is one."""
    if callable(fn):
        return None
    return CheckResult(False, [], [
        msg("{name} expects a function, but got {kind} {fn}. Pass the function itself, "
            "without calling it: {name}({example}), not {name}({example}(...)).",
            name=name, kind=type(fn).__name__, fn=_show(fn), example=example)],
        name=name)


def _as_int(value: Any, what: str = msg("a size")) -> tuple[int | None, str]:
    """The learner's value as an int, or (None, a message saying what is wrong with it)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if value is None:
        return None, msg("returned None — did you forget the `return`?")
    if isinstance(value, bool):
        return None, msg("returned {value}, a bool: {what} is a whole number",
                         value=value, what=what)
    if isinstance(value, numbers.Integral):
        return int(value), ""
    if isinstance(value, numbers.Real):
        if math.isfinite(value) and float(value).is_integer():
            return None, (msg("returned {value!r}, a float: {what} is an int — use // (floor "
                              "division), not /", value=value, what=what))
        return None, (msg("returned {value!r}, not a whole number: {what} is an int — use // "
                          "(floor division), which rounds down", value=value, what=what))
    kind = value.type_name if isinstance(value, sandbox.Unsendable) else type(value).__name__
    return None, msg("returned {kind} {value}: expected an int ({what})",
                     kind=kind, value=_show(value), what=what)


# --------------------------------------------------------------------------- torch ground truth


def _torch_conv_size(i: int, k: int, s: int, p: int, d: int) -> int:
    """Output length PyTorch gives for a 1-D convolution (runs ``F.conv1d``)."""
    x = torch.zeros(1, 1, i)
    w = torch.zeros(1, 1, k)
    return F.conv1d(x, w, stride=s, padding=p, dilation=d).shape[-1]


def _torch_transpose_size(i: int, k: int, s: int, p: int, output_padding: int, d: int) -> int:
    """Output length PyTorch gives for a 1-D transposed convolution."""
    x = torch.zeros(1, 1, i)
    w = torch.zeros(1, 1, k)
    return F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=output_padding,
                              dilation=d).shape[-1]


def _torch_conv_params(c_in: int, c_out: int, k: int, bias: bool = True, groups: int = 1) -> int:
    """Number of parameters of ``nn.Conv2d`` (built on the meta device: no memory, no init)."""
    layer = nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups, device="meta")
    return sum(p.numel() for p in layer.parameters())


def _rf(layers: Sequence[tuple[int, int, int, int]]) -> tuple[int, int]:
    """Receptive field size r and jump j after the last layer (r grows by d(k-1)·j_before)."""
    r, j = 1, 1
    for k, s, _p, d in layers:
        r += d * (k - 1) * j
        j *= s
    return r, j


# --------------------------------------------------------------------------- scalar formula checks


def _diagnose_scalars(cases: list[dict[str, int]], expected: list[int], got: list[int | None],
                      variants: list[tuple[Callable[..., Any], str]],
                      conditions: list[tuple[Callable[..., bool], str]]) -> list[str]:
    """Hints naming the symptom of a typical mistake in a formula.

    ``variants``: (wrong formula, hint) — the hint is given when the learner's answers equal
    the wrong formula on every case answered. ``conditions``: (predicate on a case, hint) —
    given when exactly the cases satisfying the predicate fail.
    """
    answered = [(c, e, g) for c, e, g in zip(cases, expected, got, strict=True) if g is not None]
    wrong = [(c, e, g) for c, e, g in answered if g != e]
    if not wrong:
        return []
    for formula, hint in variants:
        try:
            if all(formula(**c) == g for c, _e, g in answered):
                return [msg("Hint: {hint}", hint=hint)]
        except (ArithmeticError, ValueError, TypeError):
            continue
    offsets = {g - e for _c, e, g in answered}
    if len(offsets) == 1 and len(answered) > 1:
        (off,) = offsets
        extra = msg(": did you forget the +1?") if off == -1 else "."
        if off > 0:
            return [msg("Hint: your answers are {off} too large in every case{extra}", off=off,
                        extra=extra)]
        return [msg("Hint: your answers are {off} too small in every case{extra}", off=-off,
                    extra=extra)]
    failing = [c for c, _e, _g in wrong]
    passing = [c for c, e, g in answered if g == e]
    for predicate, hint in conditions:
        if all(predicate(**c) for c in failing) and not any(predicate(**c) for c in passing):
            return [msg("Hint: {hint}", hint=hint)]
    return []


def _scalar_check(name: str, fn: Any, example: str, cases: list[dict[str, int]],
                  truth: Callable[..., int], order: Sequence[str], defaults: dict[str, int],
                  variants: list[tuple[Callable[..., Any], str]],
                  conditions: list[tuple[Callable[..., bool], str]],
                  what: str, time_limit: float) -> CheckResult:
    """Run ``fn`` on integer cases; compare with ``truth``; diagnose typical mistakes."""
    result = _not_callable(name, fn, example)
    if result is not None:
        return result
    calls, labels = [], []
    for case in cases:
        args = [case[n] for n in order]
        while len(args) > 2 and args[-1] == defaults.get(order[len(args) - 1]):
            args.pop()  # leave trailing defaults out, so a partial signature passes early cases
        calls.append(sandbox.Call(tuple(args)))
        labels.append(_scalar_labels(case, defaults))
    answers = _call(fn, calls, time_limit)
    results: list[CaseResult] = []
    messages: list[str] = []
    expected_all: list[int] = []
    got_all: list[int | None] = []
    floats = []
    for index, case in enumerate(cases):
        expected = truth(**case)
        description = ", ".join(f"{n}={case[n]}" for n in order)
        expected_all.append(expected)
        failure = answers.failure(index)
        if failure:
            results.append(CaseResult(description, False, expected, None, failure))
            got_all.append(None)
            continue
        returned = answers.value(index)
        value, problem = _as_int(returned, what)
        if isinstance(returned, float):
            floats.append(returned)
        passed = value == expected
        message = problem or ("" if passed else msg("expected {expected}, got {value}",
                                                    expected=expected, value=value))
        results.append(CaseResult(description, passed, expected, returned, message))
        got_all.append(value)
    if floats:
        messages.append(msg("Hint: your function returns floats ({floats!r}): / is true "
                            "division, which gives a float even when it divides exactly and a "
                            "fraction when it does not. Use // (floor division): the result is "
                            "an int, rounded down as PyTorch does.", floats=floats[0]))
    messages += _diagnose_scalars(cases, expected_all, got_all, variants, conditions)
    return _finish(name, results, messages, answers, labels)


def _scalar_labels(case: dict[str, Any], defaults: dict[str, Any]) -> frozenset[str]:
    """Features of a case for the headline: 'd > 1', 'p > 0', 'bias=False'."""
    labels = set()
    for key, default in defaults.items():
        value = case[key]
        if isinstance(default, bool):
            if value != default:
                labels.add(f"{key}={value}")
        elif value != default:
            labels.add(f"{key} {'>' if value > default else '<'} {default}")
    return frozenset(labels)


_OUTPUT_SIZE_CASES = [
    dict(i=5, k=3, s=1, p=0, d=1), dict(i=28, k=5, s=1, p=2, d=1), dict(i=7, k=3, s=2, p=0, d=1),
    dict(i=6, k=3, s=2, p=0, d=1), dict(i=8, k=3, s=2, p=1, d=1), dict(i=10, k=3, s=3, p=0, d=1),
    dict(i=5, k=5, s=1, p=0, d=1), dict(i=1, k=3, s=1, p=1, d=1), dict(i=9, k=3, s=1, p=0, d=3),
    dict(i=32, k=3, s=1, p=1, d=2), dict(i=224, k=7, s=2, p=3, d=1), dict(i=5, k=1, s=2, p=0, d=1),
    dict(i=13, k=3, s=2, p=2, d=2), dict(i=16, k=4, s=4, p=0, d=1),
]


@_speaks
def check_output_size(fn: Callable[..., Any], *,
                      time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(i, k, s=1, p=0, d=1)``, the convolution output size (chapter 1).

    Cases cover padding, stride with exact and inexact division, dilation, a kernel as large as
    the input and a 1×1 kernel; expected values come from running ``F.conv1d``.
    """
    variants = [
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s,
         msg("your answers are 1 too small: did you forget the +1 (the first window)?")),
        (lambda i, k, s, p, d: (i - d * (k - 1) - 1) // s + 1,
         msg("correct when p=0 but wrong with padding: padding adds 2p (p on each side).")),
        (lambda i, k, s, p, d: (i + p - d * (k - 1) - 1) // s + 1,
         msg("padding counted once: p is added on each side, so the input grows by 2p.")),
        (lambda i, k, s, p, d: i + 2 * p - d * (k - 1),
         msg("stride ignored: with stride s only every s-th window is kept, so divide by s.")),
        (lambda i, k, s, p, d: (i + 2 * p - k) // s + 1,
         msg("correct when d=1 but wrong with dilation: a dilated kernel spans d(k−1)+1 inputs.")),
        (lambda i, k, s, p, d: (i + 2 * p - d * k) // s + 1,
         msg("a dilated kernel spans d(k−1)+1 inputs, not d·k.")),
        (lambda i, k, s, p, d: -(-(i + 2 * p - d * (k - 1) - 1) // s) + 1,
         msg("wrong only when the division is inexact: you rounded up; use floor division //.")),
        (lambda i, k, s, p, d: round((i + 2 * p - d * (k - 1) - 1) / s) + 1,
         msg("wrong only when the division is inexact: you rounded; use floor division //.")),
    ]
    conditions = [
        (lambda i, k, s, p, d: p > 0, msg("correct when p=0 but wrong with padding: padding "
                                          "adds 2p.")),
        (lambda i, k, s, p, d: s > 1, msg("correct when s=1 but wrong with a stride: divide "
                                          "the distance the window can travel by s, floor it, "
                                          "then add 1.")),
        (lambda i, k, s, p, d: d > 1, msg("correct when d=1 but wrong with dilation: a dilated "
                                          "kernel spans d(k−1)+1 inputs.")),
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) % s != 0,
         msg("wrong only when the division is inexact: use floor division //.")),
    ]
    return _scalar_check("check_output_size", fn, "my_conv_output_size", _OUTPUT_SIZE_CASES,
                         _torch_conv_size, ("i", "k", "s", "p", "d"),
                         {"s": 1, "p": 0, "d": 1}, variants, conditions, msg("an output size"),
                         time_limit)


_TRANSPOSE_CASES = [
    dict(i=2, k=3, s=1, p=0, output_padding=0, d=1),
    dict(i=3, k=3, s=1, p=1, output_padding=0, d=1),
    dict(i=3, k=3, s=2, p=0, output_padding=0, d=1),
    dict(i=4, k=4, s=2, p=1, output_padding=0, d=1),
    dict(i=4, k=3, s=2, p=1, output_padding=1, d=1),
    dict(i=7, k=3, s=2, p=1, output_padding=0, d=1),
    dict(i=5, k=3, s=1, p=0, output_padding=0, d=2),
    dict(i=1, k=4, s=1, p=0, output_padding=0, d=1),
    dict(i=3, k=5, s=3, p=2, output_padding=2, d=1),
    dict(i=14, k=2, s=2, p=0, output_padding=0, d=1),
]


@_speaks
def check_transposed_output_size(fn: Callable[..., Any], *,
                                 time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(i, k, s=1, p=0, output_padding=0, d=1)``, the transposed-conv size (ch. 5).

    Expected values come from running ``F.conv_transpose1d``.
    """
    def correct(i, k, s, p, output_padding, d):
        return (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1
    variants = [
        (lambda i, k, s, p, output_padding, d: correct(i, k, s, 0, output_padding, d),
         msg("transposed output is too large by 2p: the padding crop is missing (padding "
             "removes p from each side of a transposed convolution's output).")),
        (lambda i, k, s, p, output_padding, d: correct(i, k, s, -p, output_padding, d),
         msg("padding added instead of removed: in a transposed convolution, padding crops p "
             "from each side, so subtract 2p.")),
        (lambda i, k, s, p, output_padding, d: correct(i, k, s, p, 0, d),
         msg("output_padding ignored: it adds output_padding rows on one side, so add it once.")),
        (lambda i, k, s, p, output_padding, d: correct(i, k, s, p, output_padding, d) + s,
         msg("too large by s: the input's i positions land (i−1)·s apart, not i·s.")),
        (lambda i, k, s, p, output_padding, d: correct(i, k, 1, p, output_padding, d),
         msg("stride ignored: the input's positions land s apart in the output, (i−1)·s.")),
        (lambda i, k, s, p, output_padding, d: correct(i, k, s, p, output_padding, 1),
         msg("correct when d=1 but wrong with dilation: the kernel spans d(k−1)+1 outputs.")),
        (lambda i, k, s, p, output_padding, d: (i + 2 * p - d * (k - 1) - 1) // s + 1,
         msg("that is the forward-convolution formula; the transposed one runs it backwards: o "
             "= (i−1)·s − 2p + d(k−1) + output_padding + 1.")),
    ]
    conditions = [
        (lambda i, k, s, p, output_padding, d: p > 0,
         msg("correct when p=0 but wrong with padding: padding crops p from each side (−2p).")),
        (lambda i, k, s, p, output_padding, d: output_padding > 0,
         msg("wrong only when output_padding > 0: add output_padding once.")),
        (lambda i, k, s, p, output_padding, d: s > 1,
         msg("correct when s=1 but wrong with a stride: the inputs land (i−1)·s apart.")),
        (lambda i, k, s, p, output_padding, d: d > 1,
         msg("correct when d=1 but wrong with dilation: the kernel spans d(k−1)+1 outputs.")),
    ]
    return _scalar_check("check_transposed_output_size", fn, "my_transposed_output_size",
                         _TRANSPOSE_CASES, _torch_transpose_size,
                         ("i", "k", "s", "p", "output_padding", "d"),
                         {"s": 1, "p": 0, "output_padding": 0, "d": 1}, variants, conditions,
                         msg("an output size"), time_limit)


_PARAM_CASES = [
    dict(c_in=1, c_out=1, k=3, bias=True), dict(c_in=3, c_out=16, k=3, bias=True),
    dict(c_in=3, c_out=16, k=3, bias=False), dict(c_in=16, c_out=32, k=5, bias=True),
    dict(c_in=64, c_out=64, k=1, bias=True), dict(c_in=3, c_out=8, k=7, bias=False),
    dict(c_in=2, c_out=4, k=2, bias=True),
]


@_speaks
def check_param_count(fn: Callable[..., Any], *,
                      time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(c_in, c_out, k, bias=True)``, the parameter count of ``nn.Conv2d`` (ch. 2).

    Expected values are counted on real ``nn.Conv2d`` modules. For a number (one layer or a
    whole network) use :func:`check_network_params` instead.
    """
    def truth(c_in, c_out, k, bias):
        return _torch_conv_params(c_in, c_out, k, bias)
    variants = [
        (lambda c_in, c_out, k, bias: c_out * (k * k + bias),
         msg("each kernel has one k×k slice per input channel: multiply by c_in.")),
        (lambda c_in, c_out, k, bias: c_in * c_out * (k * k + bias),
         msg("the bias seems counted once per input channel: each output channel (kernel) has "
             "one bias, shared by all its input channels.")),
        (lambda c_in, c_out, k, bias: c_in * c_out * k * k,
         msg("biases left out: with bias=True each output channel adds one bias.")),
        (lambda c_in, c_out, k, bias: c_in * c_out * k * k + c_out,
         msg("bias=False ignored: without bias there are only the c_in·c_out·k·k weights.")),
        (lambda c_in, c_out, k, bias: c_in * c_out * k + bias * c_out,
         msg("a k×k kernel slice has k² weights, not k.")),
        (lambda c_in, c_out, k, bias: c_in * c_out * k * k + bias,
         msg("one bias per output channel, not one for the whole layer.")),
        (lambda c_in, c_out, k, bias: c_in * c_out * k * k + bias * c_in,
         msg("the number of biases equals the number of output channels, not input channels.")),
    ]
    conditions = [
        (lambda c_in, c_out, k, bias: bias, msg("wrong only with bias=True: add one bias per "
                                                "output channel.")),
        (lambda c_in, c_out, k, bias: not bias, msg("wrong only with bias=False: then there "
                                                    "are no biases at all.")),
    ]
    return _scalar_check("check_param_count", fn, "my_param_count", _PARAM_CASES, truth,
                         ("c_in", "c_out", "k", "bias"), {"bias": True}, variants, conditions,
                         msg("a parameter count"), time_limit)


# --------------------------------------------------------------------------- tensor checks


def _as_tensor(value: Any, expected: torch.Tensor) -> tuple[torch.Tensor | None, str]:
    """The learner's return value as a tensor, or (None, what is wrong with it)."""
    if value is None:
        return None, msg("returned None — did you forget the `return`?")
    if isinstance(value, torch.Tensor):
        return value.detach(), ""
    if type(value).__module__ == "numpy" or isinstance(value, list | tuple):
        kind = msg("a NumPy array") if type(value).__module__ == "numpy" else (
            msg("a Python {kind}", kind=type(value).__name__))
        try:
            right = _same(torch.tensor(value), expected)
        except (TypeError, ValueError, RuntimeError):
            right = False
        values = msg(" (its values are right)") if right else ""
        return None, (msg("returned {kind}{values}, not a torch.Tensor: compute the output "
                          "with torch (e.g. start from torch.zeros(...)) or convert it with "
                          "torch.tensor(...)", kind=kind, values=values))
    kind = value.type_name if isinstance(value, sandbox.Unsendable) else type(value).__name__
    if kind == "ndarray":
        kind = msg("a NumPy array that torch cannot read:")
    return None, msg("returned {kind} {value}: expected a torch.Tensor",
                     kind=kind, value=_show(value))


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same shape and (numerically) same values."""
    if a.shape != b.shape:
        return False
    try:
        return bool(torch.allclose(a.double(), b.double(), atol=1e-4, rtol=1e-4))
    except (RuntimeError, TypeError):
        return False


def _random_ints(gen: torch.Generator, *shape: int) -> torch.Tensor:
    """Small integer-valued float tensor (sums stay exact and readable)."""
    return torch.randint(-2, 3, shape, generator=gen).float()


@dataclass
class _TensorCase:
    description: str
    x: torch.Tensor
    w: torch.Tensor
    b: torch.Tensor | None
    stride: int
    padding: int
    tags: frozenset[str]


def _conv2d_cases() -> list[_TensorCase]:
    gen = torch.Generator().manual_seed(0)
    spec = [  # description, x shape, w shape, bias, stride, padding, tags
        (msg("1 channel, 5×5 input, 3×3 kernel"), (1, 1, 5, 5), (1, 1, 3, 3), False, 1, 0, set()),
        (msg("1 channel, 4×6 input, 2×3 kernel"), (1, 1, 4, 6), (1, 1, 2, 3), False, 1, 0,
         {"nonsquare"}),
        (msg("1 channel, padding=1"), (1, 1, 5, 5), (1, 1, 3, 3), False, 1, 1, {"padding"}),
        (msg("1 channel, stride=2"), (1, 1, 7, 7), (1, 1, 3, 3), False, 2, 0, {"stride"}),
        (msg("1 channel, stride=2, padding=1"), (1, 1, 6, 6), (1, 1, 3, 3), False, 2, 1,
         {"stride", "padding"}),
        (msg("1 channel, with bias"), (1, 1, 4, 4), (1, 1, 3, 3), True, 1, 0, {"bias"}),
        (msg("3 → 2 channels"), (1, 3, 5, 5), (2, 3, 3, 3), False, 1, 0, {"multi"}),
        (msg("3 → 2 channels, with bias"), (1, 3, 5, 5), (2, 3, 3, 3), True, 1, 0,
         {"multi", "bias"}),
        (msg("1×1 kernel, 4 → 2 channels, with bias"), (1, 4, 3, 3), (2, 4, 1, 1), True, 1, 0,
         {"multi", "bias"}),
        (msg("batch of 2, 2 → 3 channels, 5×7 input, bias, stride=2, padding=1"), (2, 2, 5, 7),
         (3, 2, 3, 3), True, 2, 1, {"multi", "bias", "stride", "padding", "batch", "nonsquare"}),
        (msg("5×5 kernel on a 3×3 input with padding=1 (one output)"), (1, 1, 3, 3), (1, 1, 5, 5),
         False, 1, 1, {"padding"}),
    ]
    cases = []
    for description, xs, ws, bias, stride, padding, tags in spec:
        x, w = _random_ints(gen, *xs), _random_ints(gen, *ws)
        b = _random_ints(gen, ws[0]) + 3.0 if bias else None  # nonzero, so it shows
        cases.append(_TensorCase(description, x, w, b, stride, padding, frozenset(tags)))
    return cases


def _tensor_call(case: _TensorCase) -> sandbox.Call:
    """The call fn(x, w[, b][, stride=..][, padding=..]), leaving defaults out."""
    args: list[Any] = [case.x, case.w]
    if case.b is not None:
        args.append(case.b)
    kwargs = {}
    if case.stride != 1:
        kwargs["stride"] = case.stride
    if case.padding != 0:
        kwargs["padding"] = case.padding
    return sandbox.Call(tuple(args), kwargs)


_TAG_LABELS = {"multi": msg("several channels"), "bias": msg("a bias"),
               "padding": msg("padding"), "stride": msg("a stride"), "batch": msg("a batch"),
               "nonsquare": msg("non-square shapes")}


def _structural_hint(results: list[CaseResult], cases: list[_TensorCase]) -> list[str]:
    """A hint from which kinds of case fail (only padding ones, only multi-channel ones, ...)."""
    hints = {
        "multi": msg("correct with one channel but wrong with several: each output channel "
                     "sums over all input channels, each with its own k×k slice of the kernel."),
        "bias": msg("wrong only when a bias is given: add b[c_out] once to every output "
                    "position of channel c_out."),
        "padding": msg("wrong only with padding: pad p zeros on every side before sliding."),
        "stride": msg("wrong only with a stride: move the window s positions at a time."),
        "nonsquare": msg("wrong only for non-square inputs or kernels: treat heights and "
                         "widths separately (x.shape[-2:], w.shape[-2:])."),
        "batch": msg("wrong only with a batch of several inputs: handle every n in N."),
    }
    failing = [c for r, c in zip(results, cases, strict=False) if not r.passed]
    passing = [c for r, c in zip(results, cases, strict=False) if r.passed]
    if not failing or not passing:
        return []
    for tag, hint in hints.items():
        if all(tag in c.tags for c in failing) and not any(tag in c.tags for c in passing):
            return [msg("Hint: {hint}", hint=hint)]
    return []


def _conv2d_variants(case: _TensorCase) -> list[tuple[Callable[[], torch.Tensor], str]]:
    """Outputs of typical wrong implementations, with the hint naming each symptom."""
    x, w, b, s, p = case.x, case.w, case.b, case.stride, case.padding
    out: list[tuple[Callable[[], torch.Tensor], str]] = [
        (lambda: F.conv2d(x, w.flip(-1, -2), b, s, p),
         msg("your output equals torch's with the kernel flipped: deep-learning convolution "
             "does not flip the kernel (it is cross-correlation): use w[..., u, v] with x at "
             "row+u, col+v.")),
    ]
    if b is not None:
        out.append((lambda: F.conv2d(x, w, None, s, p),
                    msg("the bias is missing: add b[c_out] to every output of channel c_out.")))
        if x.shape[1] > 1:
            out.append((lambda: F.conv2d(x, w, b * x.shape[1], s, p),
                        msg("the bias seems added once per input channel: add it once per "
                            "output channel, after summing over the input channels.")))
    if s != 1:
        out.append((lambda: F.conv2d(x, w, b, 1, p),
                    msg("stride ignored: your output is the stride-1 result; move the window s "
                        "positions at a time.")))
    if p != 0:
        out.append((lambda: F.conv2d(x, w, b, s, 0),
                    msg("padding ignored: your output is the unpadded result; add p zeros on "
                        "each side first.")))
    if x.shape[1] > 1:
        out.append((lambda: F.conv2d(x[:, :1], w[:, :1], b, s, p),
                    msg("only input channel 0 seems to count: sum over all input channels.")))
        out.append((lambda: F.conv2d(x[:, -1:], w[:, -1:], b, s, p),
                    msg("only the last input channel seems to count: accumulate with += over "
                        "the input channels instead of overwriting.")))
    if w.shape[-1] == w.shape[-2]:
        out.append((lambda: F.conv2d(x, w.transpose(-1, -2), b, s, p),
                    msg("the kernel's rows and columns are swapped: w[..., u, v] multiplies x "
                        "at (row + u, col + v).")))
    return out


_CONVOLUTIONS = frozenset({
    "conv1d", "conv2d", "conv3d", "convolution", "_convolution", "_convolution_mode",
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "conv_tbc",
    "mkldnn_convolution", "_conv_depthwise2d", "thnn_conv2d", "_slow_conv2d_forward",
    "slow_conv3d", "slow_conv_dilated2d", "slow_conv_transpose2d", "_nnpack_spatial_convolution",
})
"""Names of PyTorch's convolution functions and operators (``F.conv2d`` is ``conv2d``,
``nn.Conv2d`` calls it, ``torch.ops.aten.convolution`` is ``convolution``)."""

_REFERENCE_RULE = sandbox.Rule("convlab's reference implementation", functions=(
    reference.conv2d_loops, reference.conv2d_unfold, reference.conv_matrix,
    reference.conv_transpose2d_scatter, reference.conv_transpose2d_zero_insert))

_NO_CONV = (msg("write the sliding window yourself, without F.conv2d, torch.conv2d, nn.Conv2d "
                "or convlab's reference functions — the checker compares with F.conv2d, so "
                "calling it would prove nothing"))
_SINGLE_CHANNEL = (msg("F.conv2d is allowed only on one input channel and one kernel slice at "
                       "a time, without bias — the exercise is to build the sum over channels "
                       "and the bias yourself"))
_NO_CONV_TRANSPOSE = (msg("build the scatter-add yourself, without F.conv_transpose2d or any "
                          "other PyTorch convolution or convlab's reference functions — the "
                          "checker compares with F.conv_transpose2d, so calling it would prove "
                          "nothing"))


def _single_channel(op: str, args: tuple, kwargs: dict) -> bool:
    """Whether a convolution call is a bias-free, single-channel ``conv2d`` (chapter 2's rule)."""
    if op != "conv2d":
        return False
    names = ("input", "weight", "bias")
    given = dict(zip(names, args, strict=False)) | {k: v for k, v in kwargs.items()
                                                    if k in names}
    x, w, b = given.get("input"), given.get("weight"), given.get("bias")
    return (isinstance(x, torch.Tensor) and isinstance(w, torch.Tensor) and w.dim() == 4
            and w.shape[0] == 1 and w.shape[1] == 1 and x.dim() >= 3 and x.shape[-3] == 1
            and b is None)


@_speaks
def check_conv2d(fn: Callable[..., Any], *, conv2d: str = "forbidden",
                 time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a sliding-window ``fn(x, w, b=None, stride=1, padding=0)`` against ``F.conv2d``.

    ``x`` is ``(N, C_in, H, W)``, ``w`` is ``(C_out, C_in, kH, kW)``, ``b`` is ``(C_out,)``.
    Cases (chapters 1 and 2): one and several channels, non-square input and kernel, padding,
    stride (with an inexact division), bias, a batch, a 1×1 kernel and a kernel larger than the
    unpadded input. Arguments left at their default are not passed, so a function without
    ``stride``/``padding`` parameters still passes the plain cases.

    The exercise's rule is enforced: with ``conv2d="forbidden"`` (chapter 1) a case whose code
    calls any PyTorch convolution (``F.conv2d``, ``torch.conv2d``, ``nn.Conv2d``, ...) or one of
    convlab's reference implementations fails, however the call is reached (an alias, a
    lambda); with ``conv2d="single-channel"`` (chapter 2) only bias-free ``F.conv2d`` calls on
    one input channel and one kernel slice are allowed.
    """
    rules = {"forbidden": (sandbox.Rule("F.conv2d", torch_ops=_CONVOLUTIONS), _NO_CONV),
             "single-channel": (sandbox.Rule("F.conv2d on several channels or with a bias",
                                             torch_ops=_CONVOLUTIONS, allow=_single_channel),
                                _SINGLE_CHANNEL)}
    if conv2d not in rules:
        raise ValueError(f"check_conv2d: conv2d must be 'forbidden' or 'single-channel', got "
                         f"{conv2d!r}")
    result = _not_callable("check_conv2d", fn, "my_conv2d")
    if result is not None:
        return result
    rule, text = rules[conv2d]
    cases = _conv2d_cases()
    return _tensor_check("check_conv2d", fn, cases,
                         lambda c: F.conv2d(c.x, c.w, c.b, c.stride, c.padding),
                         _conv2d_variants, time_limit, (rule, _REFERENCE_RULE), text)


def _tensor_check(name: str, fn: Callable[..., Any], cases: list[_TensorCase],
                  truth: Callable[[_TensorCase], torch.Tensor],
                  variants: Callable[[_TensorCase],
                                     list[tuple[Callable[[], torch.Tensor], str]]],
                  time_limit: float, rules: Sequence[sandbox.Rule] = (),
                  rule_text: str = "") -> CheckResult:
    answers = _call(fn, [_tensor_call(c) for c in cases], time_limit, rules)
    results: list[CaseResult] = []
    messages: list[str] = []
    for index, case in enumerate(cases):
        expected = truth(case)
        failure = answers.failure(index)
        if failure:
            results.append(CaseResult(case.description, False, tuple(expected.shape), None,
                                      failure))
            continue
        got, problem = _as_tensor(answers.value(index), expected)
        if got is None:
            results.append(CaseResult(case.description, False, expected, answers.value(index),
                                      problem))
            continue
        broken = _broken_rules(answers.outcomes[index])
        if _same(got, expected):
            results.append(CaseResult(case.description, not broken, expected, got, broken))
            continue
        try:
            message = _tensor_mismatch(got, expected, case)
        except (RuntimeError, TypeError, ValueError, IndexError):
            message = msg("your output (dtype {dtype}, shape {shape}) differs",
                          dtype=got.dtype, shape=tuple(got.shape))
        results.append(CaseResult(case.description, False, expected, got,
                                  msg("{broken}; also, {message}",
                                      broken=broken, message=message) if broken else message))
        for wrong, hint in variants(case):
            try:
                matches = _same(got, wrong())
            except RuntimeError:  # this wrong variant is not even computable here
                matches = False
            if matches:
                messages.append(msg("Hint: {hint}", hint=hint))
                break
    if not any("Hint:" in m for m in messages):
        messages += _structural_hint(results, cases)
    if rule_text and any(o is not None and o.forbidden for o in answers.outcomes):
        messages.insert(0, msg("The rule: {rule_text}.", rule_text=rule_text))
    labels = [frozenset(_TAG_LABELS[t] for t in c.tags) for c in cases]
    return _finish(name, results, messages, answers, labels)


def _tensor_mismatch(got: torch.Tensor, expected: torch.Tensor, case: _TensorCase) -> str:
    """Describe how ``got`` differs from ``expected`` (shape first, then values)."""
    gs, es = tuple(got.shape), tuple(expected.shape)
    if gs != es:
        text = msg("your output has shape {gs}, expected {es}", gs=gs, es=es)
        if gs == es[2:]:
            text = msg("{text} — keep the (N, C_out, H, W) dimensions, even when N = C_out = 1",
                       text=text)
        elif len(gs) == 4 and any(n == 0 for n in gs) and case.padding == 0:
            text = msg("{text} — it is empty: with p = 0, out[p:-p] is out[0:0] (-0 is 0); "
                       "slice with out[p:H-p] instead", text=text)
        elif len(gs) == 4 and gs[:2] == es[:2]:
            dh, dw = gs[2] - es[2], gs[3] - es[3]
            if dh == dw != 0:
                text = (msg("{text} — {n} too many rows and columns", text=text, n=dh)
                        if dh > 0 else
                        msg("{text} — {n} too few rows and columns", text=text, n=-dh))
        return text
    if torch.isnan(got).any():
        return msg("your output contains NaN — is part of it left uninitialised (torch.empty)?")
    diff = (got.double() - expected.double()).abs()
    index = tuple(int(v) for v in torch.nonzero(diff > 1e-4)[0])
    return (msg("right shape {gs}, but at index {index} expected {expected:g}, got {got:g}",
                gs=gs, index=index, expected=expected[index].item(), got=got[index].item()))


def _transpose_cases() -> list[_TensorCase]:
    gen = torch.Generator().manual_seed(1)
    spec = [  # description, x shape, w shape (C_in, C_out, k, k), stride, padding, tags
        (msg("1 channel, 2×2 input, 3×3 kernel (windows overlap)"), (1, 1, 2, 2), (1, 1, 3, 3),
         1, 0, set()),
        (msg("1 channel, stride=2"), (1, 1, 2, 2), (1, 1, 3, 3), 2, 0, {"stride"}),
        (msg("1 channel, 3×3 kernel, padding=1"), (1, 1, 3, 3), (1, 1, 3, 3), 1, 1, {"padding"}),
        (msg("1 channel, 4×4 kernel, stride=2, padding=1"), (1, 1, 3, 3), (1, 1, 4, 4), 2, 1,
         {"stride", "padding"}),
        (msg("1 channel, 2×2 kernel, stride=2 (no overlap)"), (1, 1, 2, 3), (1, 1, 2, 2), 2, 0,
         {"stride"}),
        (msg("2 → 3 channels, stride=2"), (1, 2, 3, 3), (2, 3, 3, 3), 2, 0, {"multi", "stride"}),
        (msg("2 → 2 channels"), (1, 2, 2, 2), (2, 2, 3, 3), 1, 0, {"multi"}),
        (msg("batch of 2, 3 → 2 channels, 3×4 input, padding=1"), (2, 3, 3, 4), (3, 2, 3, 3), 1, 1,
         {"multi", "padding", "batch", "nonsquare"}),
    ]
    cases = []
    for description, xs, ws, stride, padding, tags in spec:
        x, w = _random_ints(gen, *xs), _random_ints(gen, *ws)
        w[w == 0] = 1.0  # no zero taps, so overlaps always show
        cases.append(_TensorCase(description, x, w, None, stride, padding, frozenset(tags)))
    return cases


def _scatter_overwrite(x: torch.Tensor, w: torch.Tensor, s: int, p: int) -> torch.Tensor:
    """A wrong transposed conv that assigns (=) each scaled kernel instead of adding (+=)."""
    n, c_in, h, wd = x.shape
    k = w.shape[-1]
    out = torch.zeros(n, w.shape[1], (h - 1) * s + k, (wd - 1) * s + k)
    for b, ci, r, c in itertools.product(range(n), range(c_in), range(h), range(wd)):
        out[b, :, r * s:r * s + k, c * s:c * s + k] = x[b, ci, r, c] * w[ci]
    return out[:, :, p:out.shape[2] - p, p:out.shape[3] - p]


def _transpose_variants(case: _TensorCase) -> list[tuple[Callable[[], torch.Tensor], str]]:
    x, w, s, p = case.x, case.w, case.stride, case.padding
    out: list[tuple[Callable[[], torch.Tensor], str]] = []
    if p != 0:
        out.append((lambda: F.conv_transpose2d(x, w, stride=s),
                    msg("transposed output is too large by 2p: the padding crop is missing "
                        "(remove p rows/columns from each side at the end).")))
    if s != 1:
        out.append((lambda: F.conv_transpose2d(x, w, stride=1, padding=p),
                    msg("stride ignored: input position (r, c) should drop its scaled kernel "
                        "at (r·s, c·s) in the output.")))
    out.append((lambda: F.conv_transpose2d(x, w.flip(-1, -2), stride=s, padding=p),
                msg("your output uses the flipped kernel: scatter-add places w itself (not "
                    "flipped) at each input position.")))
    if x.shape[1] == 1:
        out.append((lambda: _scatter_overwrite(x, w, s, p),
                    msg("overlapping contributions are overwritten: add them up (+=), don't "
                        "assign (=).")))
    if w.shape[0] == w.shape[1]:
        out.append((lambda: F.conv_transpose2d(x, w.transpose(0, 1), stride=s, padding=p),
                    msg("the weight's first two dimensions are swapped: ConvTranspose2d's "
                        "weight is (C_in, C_out, k, k), the opposite of Conv2d's.")))
    return out


@_speaks
def check_conv_transpose2d(fn: Callable[..., Any], *,
                           time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a scatter-add ``fn(x, w, stride=1, padding=0)`` against ``F.conv_transpose2d``.

    ``x`` is ``(N, C_in, H, W)``, ``w`` is ``(C_in, C_out, k, k)`` (PyTorch's layout for
    transposed convolution). Cases (chapter 5): overlapping and non-overlapping windows,
    stride, padding (the crop), several channels and a batch. Arguments left at their default
    are not passed. A case whose code calls a PyTorch convolution (``F.conv_transpose2d``...)
    or one of convlab's reference implementations fails: the exercise is the scatter-add.
    """
    result = _not_callable("check_conv_transpose2d", fn, "my_conv_transpose2d")
    if result is not None:
        return result
    cases = _transpose_cases()
    rule = sandbox.Rule("F.conv_transpose2d", torch_ops=_CONVOLUTIONS)
    return _tensor_check("check_conv_transpose2d", fn, cases,
                         lambda c: F.conv_transpose2d(c.x, c.w, stride=c.stride,
                                                      padding=c.padding),
                         _transpose_variants, time_limit, (rule, _REFERENCE_RULE),
                         _NO_CONV_TRANSPOSE)


# --------------------------------------------------------------------------- chapter 1 values


def _value_result(name: str, description: str, passed: bool, expected: Any, got: Any,
                  message: str, hints: list[str]) -> CheckResult:
    case = CaseResult(description, passed, expected, got, message)
    return _finish(name, [case], [] if passed else hints)


def _count_answer(name: str, description: str, expected: int,
                  answer: Any) -> tuple[int | None, CheckResult | None]:
    """A parameter count answered as a number: ``(value, None)``, or ``(None, result)`` saying
    that it is not answered yet (``...``) or not a whole number."""
    if answer is ...:
        return None, _value_result(name, description, False, expected, answer,
                                   msg("not answered yet — replace ... with your number"), [])
    value, problem = _as_int(answer, msg("a parameter count"))
    if value is None:
        return None, _value_result(name, description, False, expected, answer, problem, [])
    return value, None


@_speaks
def check_output_sizes_table(answers: dict[tuple[int, ...], Any]) -> CheckResult:
    """Check a filled-in table ``{(i, k, s, p, d): o}`` of output sizes (chapter 1).

    Keys follow ``conv_output_size``'s argument order; trailing ones may be omitted (``(i, k)``
    means s=1, p=0, d=1). A value of ``...`` or ``None`` means "not filled in yet".
    Expected values come from running ``F.conv1d``.
    """
    name = "check_output_sizes_table"
    if not isinstance(answers, dict) or not answers:
        return CheckResult(False, [], [msg("{name} expects a non-empty dict {{(i, k, s, p, d): "
                                           "o}}, got {kind} {answers}.",
                                           name=name, kind=type(answers).__name__,
                                           answers=_show(answers))], name)
    results: list[CaseResult] = []
    messages: list[str] = []
    cases, expected_all, got_all = [], [], []
    for key, value in answers.items():
        config = _table_key(key)
        if isinstance(config, str):
            results.append(CaseResult(repr(key), False, None, value, config))
            continue
        description = "i={}, k={}, s={}, p={}, d={}".format(*config)
        i, k, s, p, d = config
        if i + 2 * p > 100_000 or k > 100_000:
            results.append(CaseResult(description, False, None, value,
                                      msg("sizes above 100 000 are not checked here")))
            continue
        try:
            expected = _torch_conv_size(i, k, s, p, d)
        except RuntimeError:
            results.append(CaseResult(description, False, None, value,
                                      msg("this configuration is invalid: the (dilated) kernel "
                                          "{span} is larger than the padded input {padded}, "
                                          "so PyTorch raises an error",
                                          span=d * (k - 1) + 1, padded=i + 2 * p)))
            continue
        if value is ... or value is None:
            results.append(CaseResult(description, False, expected, value,
                                      msg("not filled in yet — replace ... with your answer")))
            continue
        got, problem = _as_int(value, msg("an output size"))
        passed = got == expected
        results.append(CaseResult(description, passed, expected, value,
                                  problem or ("" if passed else msg("expected {expected}, got "
                                                                    "{got}",
                                                                    expected=expected, got=got))))
        cases.append(dict(i=i, k=k, s=s, p=p, d=d))
        expected_all.append(expected)
        got_all.append(got)
    variants = [
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) // s,
         msg("your answers are 1 too small: did you forget the +1?")),
        (lambda i, k, s, p, d: (i - d * (k - 1) - 1) // s + 1,
         msg("you left padding out: padding adds 2p before the kernel is subtracted.")),
        (lambda i, k, s, p, d: i + 2 * p - d * (k - 1),
         msg("stride ignored: divide by s (floor), then add 1.")),
        (lambda i, k, s, p, d: (i + 2 * p - k) // s + 1,
         msg("dilation ignored: a dilated kernel spans d(k−1)+1 inputs.")),
    ]
    conditions = [
        (lambda i, k, s, p, d: p > 0, msg("the rows with padding are wrong: padding adds 2p.")),
        (lambda i, k, s, p, d: (i + 2 * p - d * (k - 1) - 1) % s != 0,
         msg("wrong only when the division is inexact: round down (floor).")),
        (lambda i, k, s, p, d: s > 1, msg("the rows with a stride are wrong: floor((…)/s) + 1.")),
        (lambda i, k, s, p, d: d > 1, msg("the rows with dilation are wrong: the kernel spans "
                                          "d(k−1)+1 inputs.")),
    ]
    if len(cases) > 1:
        messages += _diagnose_scalars(cases, expected_all, got_all, variants, conditions)
    return _finish(name, results, messages)


def _table_key(key: Any) -> tuple[int, int, int, int, int] | str:
    """(i, k, s, p, d) from a table key, or a message explaining what is wrong with it."""
    if not isinstance(key, tuple) or not 2 <= len(key) <= 5 or not all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in key):
        return (msg("keys must be tuples (i, k), (i, k, s), (i, k, s, p) or (i, k, s, p, d) of "
                    "ints, got {key!r}", key=key))
    full = tuple(int(v) for v in key) + (1, 0, 1)[len(key) - 2:]
    i, k, s, p, d = full
    if i < 1 or k < 1 or s < 1 or p < 0 or d < 1:
        return msg("i, k, s, d must be ≥ 1 and p ≥ 0, got {key!r}", key=key)
    return full


@_speaks
def check_same_padding(p: Any, k: int = 7, d: int = 1) -> CheckResult:
    """Check ``p``, the padding that keeps the size unchanged at stride 1 (chapter 1).

    Verified by running ``F.conv2d`` on inputs of several sizes with padding ``p``.
    """
    name = "check_same_padding"
    span = d * (k - 1) + 1
    description = (msg("padding for a {k}×{k} kernel with dilation {d}", k=k, d=d) if d > 1
                   else msg("padding for a {k}×{k} kernel", k=k))
    if span % 2 == 0:
        expected_text = msg("no integer padding works: the kernel span is even")
        return _value_result(name, description, False, expected_text, p,
                             msg("a span of {span} needs {value} extra positions, an odd "
                                 "number, which cannot be split evenly over two sides",
                                 span=span, value=span - 1), [])
    expected = (span - 1) // 2
    if isinstance(p, str):
        return _value_result(name, description, False, expected, p,
                             msg("got the string {p!r}: padding='same' is PyTorch's shortcut; "
                                 "the exercise asks for the number of zeros per side", p=p), [])
    value, problem = _as_int(p, msg("a padding"))
    if value is None:
        if p is ...:
            problem = msg("not answered yet — replace ... with your number")
        return _value_result(name, description, False, expected, p, problem, [])
    if value < 0:
        return _value_result(name, description, False, expected, p,
                             msg("padding cannot be negative"), [])
    if value > 4 * span:
        return _value_result(name, description, False, expected, p,
                             msg("p={value} is far too large: the output would grow by "
                                 "{twice} − {needed}",
   value=value, twice=2 * value, needed=span - 1), [msg("Hint: solve i + 2p − d(k−1) = i for p.")])
    sizes = sorted({span + 1, 2 * span + 3, 32})  # every size fits the kernel, for any p ≥ 0
    kept = [F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), padding=value,
                     dilation=d).shape[-1] for n in sizes]
    passed = value == expected and kept == sizes
    hints = {  # later entries win when two coincide (small kernels)
        expected + 1: msg("one too large: with this padding the output grows by 2."),
        span: msg("p = {span} pads more than the kernel needs: each side needs (k−1)/2 zeros.",
                  span=span),
        span - 1: msg("that doubles the border: padding is per side, so the {value} extra "
                      "positions are split over two sides.", value=span - 1),
        expected - 1: msg("one too small: with this padding the output shrinks by 2."),
        0: msg("without padding a {k}×{k} kernel shrinks the size by {value}.",
               k=k, value=span - 1),
    }
    hint = hints.get(value, msg("solve i + 2p − d(k−1) = i for p."))
    shown = ", ".join(f"{n}→{o}" for n, o in zip(sizes, kept, strict=False))
    message = "" if passed else msg("with p={value} the sizes change: {shown}",
                                    value=value, shown=shown)
    return _value_result(name, description, passed, expected, p, message, [msg("Hint: {hint}",
                                                                               hint=hint)])


# --------------------------------------------------------------------------- chapter 2 values


def _layer_counts(model: nn.Module) -> list[tuple[nn.Module, int, int, int, int, bool]]:
    """(module, c_in, c_out, weights per filter slice, groups, bias?) for conv/linear layers."""
    rows = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d | nn.Conv1d | nn.ConvTranspose2d):
            k = math.prod(module.kernel_size)
            rows.append((module, module.in_channels, module.out_channels, k, module.groups,
                         module.bias is not None))
        elif isinstance(module, nn.Linear):
            rows.append((module, module.in_features, module.out_features, 1, 1,
                         module.bias is not None))
    return rows


@_speaks
def check_network_params(answer: Any, model: nn.Module) -> CheckResult:
    """Check ``answer``, the learner's count of ``model``'s parameters (chapter 2).

    The expected value is ``sum(p.numel() for p in model.parameters())``. Hints recognise the
    count without biases, with one bias per input channel, without the input channels, and
    with only part of the layers.
    """
    name = "check_network_params"
    expected = sum(p.numel() for p in model.parameters())
    description = msg("parameters of {kind}", kind=type(model).__name__)
    value, unanswered = _count_answer(name, description, expected, answer)
    if unanswered is not None:
        return unanswered
    passed = value == expected
    rows = _layer_counts(model)
    weights = [c_in // g * c_out * k for _m, c_in, c_out, k, g, _b in rows]
    biases = [c_out if b else 0 for _m, _ci, c_out, _k, _g, b in rows]
    variants = [
        (sum(weights), msg("that is the count without biases: each output channel (or unit) "
                           "adds one bias.")),
        (sum(w + (c_in // g) * c_out if b else w
             for w, (_m, c_in, c_out, _k, g, b) in zip(weights, rows, strict=True)),
         msg("the biases seem counted once per input channel: one bias per output channel.")),
        (sum(c_out * k + (c_out if b else 0) for _m, _ci, c_out, k, _g, b in rows),
         msg("each filter has one slice per input channel: multiply by c_in.")),
    ]
    if len(rows) > 1:
        for cut in range(1, len(rows)):
            partial = sum(weights[:cut]) + sum(biases[:cut])
            variants.append((partial, msg("that covers only the first {cut} layer(s) with "
                                          "parameters: count every Conv and Linear layer.",
                                          cut=cut)))
    hints = [msg("Hint: {hint}",
                 hint=hint) for wrong, hint in variants if wrong == value and wrong != expected]
    per_layer = "; ".join(f"{type(m).__name__}: {sum(q.numel() for q in m.parameters())}"
                          for m, *_ in rows)
    message = "" if passed else msg("expected {expected}, got {value}",
                                    expected=expected, value=value)
    if not passed and not hints:
        hints = [msg("Hint: add up, layer by layer, c_in·c_out·k·k weights (c_in/groups for "
                     "grouped convolutions) plus c_out biases; pooling and activations have "
                     "none.")]
    result = _value_result(name, description, passed, expected, answer, message, hints)
    if passed and per_layer:
        result.messages.append(msg("Per layer: {per_layer}.", per_layer=per_layer))
    return result


@_speaks
def check_groups_answer(answer: Any, c_in: int, c_out: int, k: int, groups: int,
                        bias: bool = True) -> CheckResult:
    """Check ``answer``, the parameter count of ``nn.Conv2d(c_in, c_out, k, groups=groups)``.

    Chapter 2 (grouped and depthwise convolution). Counted on a real module.
    """
    name = "check_groups_answer"
    expected = _torch_conv_params(c_in, c_out, k, bias, groups)
    description = msg("Conv2d({c_in}, {c_out}, {k}, groups={groups}, bias={bias})",
                      c_in=c_in, c_out=c_out, k=k, groups=groups, bias=bias)
    value, unanswered = _count_answer(name, description, expected, answer)
    if unanswered is not None:
        return unanswered
    weights = c_out * (c_in // groups) * k * k
    b = c_out if bias else 0
    variants = {
        c_in * c_out * k * k + b: msg("that is the count without groups: each filter only sees "
                                      "c_in/groups input channels."),
        weights: msg("biases left out: there is still one bias per output channel."),
        weights + (b // groups if bias else 0): msg("the bias is not split by groups: one bias "
                                                    "per output channel."),
        c_out * (c_in // groups) * k * k // groups + b: msg("divided by groups twice: the "
                                                            "weight tensor is (c_out, "
                                                            "c_in/groups, k, k)."),
        c_out * k * k + b: msg("that is the depthwise count for c_in = groups; here each "
                               "filter sees c_in/groups channels.") if groups != c_in else "",
    }
    hints = [msg("Hint: {h}", h=h) for wrong, h in variants.items() if wrong == value and h
             and wrong != expected]
    passed = value == expected
    if not passed and not hints:
        hints = [msg("Hint: the weight tensor is (c_out, c_in/groups, k, k), plus c_out biases.")]
    return _value_result(name, description, passed, expected, answer,
                         "" if passed else msg("expected {expected}, got {value}",
                                               expected=expected, value=value), hints)


def _as_shape(value: Any) -> tuple[int, ...] | None:
    """A shape from a tuple/list/torch.Size of ints or a string like '(1, 8, 14, 14)'."""
    if isinstance(value, str):
        from convlab.quiz import normalise_shape  # local import: quiz is a sibling concern
        return normalise_shape(value)
    if isinstance(value, torch.Size | tuple | list) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value)
    return None


@_speaks
def check_shapes(answers: dict[str, Any], expected: dict[str, Any]) -> CheckResult:
    """Check predicted shapes ``{name: shape}`` against shapes computed by running torch.

    Chapter 2: e.g. ``expected = {"conv.weight": tuple(conv.weight.shape), "output":
    tuple(conv(x).shape)}``. Answers may be tuples, lists, ``torch.Size`` or strings like
    ``"(1, 8, 14, 14)"``; ``...`` means "not answered yet".
    """
    name = "check_shapes"
    if not isinstance(answers, dict):
        return CheckResult(False, [], [msg("{name} expects a dict {{name: shape}}, got "
                                           "{kind} {answers}.",
                                           name=name, kind=type(answers).__name__,
                                           answers=_show(answers))], name)
    results: list[CaseResult] = []
    messages: list[str] = []
    for key, want in expected.items():
        want_t = tuple(int(v) for v in want)
        if key not in answers or answers[key] is ...:
            results.append(CaseResult(key, False, want_t, None, msg("not answered yet")))
            continue
        got = _as_shape(answers[key])
        if got is None:
            results.append(CaseResult(key, False, want_t, answers[key],
                                      msg("{answers} is not a shape: write a tuple of ints "
                                          "like (1, 8, 14, 14)", answers=_show(answers[key]))))
            continue
        passed = got == want_t
        message = "" if passed else msg("expected {want_t}, got {got}", want_t=want_t, got=got)
        results.append(CaseResult(key, passed, want_t, got, message))
        if passed:
            continue
        if len(got) == len(want_t) - 1 and got == want_t[1:]:
            messages.append(msg("Hint ({key}): the batch dimension N is missing at the front.",
                                key=key))
        elif len(got) >= 2 and got[:2] == (want_t[1], want_t[0]) and got[2:] == want_t[2:]:
            messages.append(msg("Hint ({key}): the first two dimensions are swapped — Conv2d's "
                                "weight is (out_channels, in_channels, kH, kW); "
                                "ConvTranspose2d's is (in_channels, out_channels, kH, kW).",
                                key=key))
        elif len(got) == len(want_t) and got[:-2] == want_t[:-2]:
            messages.append(msg("Hint ({key}): the channel dimensions are right; recompute the "
                                "spatial size with o = ⌊(i + 2p − d(k−1) − 1)/s⌋ + 1.", key=key))
        elif len(got) == len(want_t) and got[2:] == want_t[2:]:
            messages.append(msg("Hint ({key}): the spatial size is right; the channel count "
                                "equals the number of kernels (out_channels).", key=key))
    extra = sorted(set(answers) - set(expected))
    if extra:
        messages.append(msg("(Ignored answers for unknown names: {join}.)",
                            join=', '.join(map(str, extra))))
    return _finish(name, results, messages)


# --------------------------------------------------------------------------- chapter 3


def _normalise_prediction(value: Any, like: Any) -> Any:
    """Bring a prediction into the form of the actual value (sets of names, numbers, ...)."""
    if isinstance(like, set | frozenset):
        if isinstance(value, str):
            parts = value.replace(",", " ").split()
            return {p.strip("'\"`") for p in parts}
        if isinstance(value, Iterable):
            return set(value)
        return {value}
    if isinstance(like, torch.Size):
        shape = _as_shape(value)
        return shape if shape is not None else value
    if isinstance(like, str) and isinstance(value, str):
        return value.strip().lower()
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not isinstance(
            like, torch.Tensor):
        return value.item()
    return value


def _equal_prediction(answer: Any, actual: Any) -> bool:
    """Whether a prediction equals the actual value; never raises."""
    try:
        if isinstance(actual, torch.Tensor):
            answer = torch.as_tensor(answer) if isinstance(answer, list | tuple) else answer
            return (isinstance(answer, torch.Tensor) and answer.shape == actual.shape
                    and bool(torch.allclose(answer.double(), actual.double())))
        if isinstance(answer, torch.Tensor):
            answer = answer.tolist()
        if isinstance(actual, torch.Size):
            return answer == tuple(actual)
        if isinstance(actual, list | tuple):
            return (isinstance(answer, list | tuple) and len(answer) == len(actual)
                    and all(_equal_prediction(a, b) for a, b in zip(answer, actual, strict=True)))
        if isinstance(actual, str):
            return answer == actual.strip().lower()
        if isinstance(actual, bool) or isinstance(answer, bool):
            return type(answer) is type(actual) and answer == actual
        if isinstance(actual, numbers.Real) and isinstance(answer, numbers.Real):
            return math.isclose(float(answer), float(actual), rel_tol=1e-9, abs_tol=1e-9)
        return bool(answer == actual)
    except (TypeError, ValueError, RuntimeError):
        return False


@_speaks
def check_prediction(answer: Any, actual: Any, explain: str = "") -> CheckResult:
    """Compare a committed prediction with what the code actually did (chapters 3 and 4).

    ``actual`` is computed by the notebook (e.g. ``{name for name, t in tensors.items() if
    t.grad is None}``); ``answer = ...`` means "not answered yet". A set is compared as a set
    (a string ``"a, b"`` is read as ``{"a", "b"}``); numbers with a tiny tolerance; strings
    ignoring case and surrounding spaces. ``explain`` is shown once the learner has answered.
    """
    name = "check_prediction"
    if answer is ...:
        return CheckResult(False, [CaseResult("prediction", False, None, answer,
                                              msg("not answered yet"))],
                           [msg("Write your prediction in place of ... and run the cell again "
                                "— committing to an answer first is the point.")], name)
    try:
        normalised = _normalise_prediction(answer, actual)
    except (TypeError, ValueError, RuntimeError):
        normalised = answer
    passed = _equal_prediction(normalised, actual)
    messages: list[str] = []
    if not passed and isinstance(actual, set | frozenset) and isinstance(normalised, set):
        extra, missing = sorted(normalised - set(actual), key=str), sorted(
            set(actual) - normalised, key=str)
        if extra:
            listed = ", ".join(map(str, extra))
            messages.append(msg("You included {items}, which is not in the actual set.",
                                items=listed) if len(extra) == 1 else
                            msg("You included {items}, which are not in the actual set.",
                                items=listed))
        if missing:
            messages.append(msg("You left out {items}.", items=", ".join(map(str, missing))))
    if explain:
        explain = msg(explain)  # the chapter's English text is its message id
        messages.append(msg("Why: {explain}", explain=explain) if passed else
                        msg("What happens: {explain}", explain=explain))
    message = "" if passed else msg("you predicted {normalised}; the code gives {actual}",
                                    normalised=_show(normalised), actual=_show(actual))
    case = CaseResult("prediction", passed, actual, normalised, message)
    return CheckResult(passed, [case], messages, name)


def seeded_linear(gen: torch.Generator, n_in: int, n_out: int) -> nn.Linear:
    """An ``nn.Linear(n_in, n_out)`` with weights and bias drawn from ``gen`` (× 0.5): the
    checkers' and the graders' small models for training loops and GAN steps."""
    layer = nn.Linear(n_in, n_out)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(n_out, n_in, generator=gen) * 0.5)
        layer.bias.copy_(torch.randn(n_out, generator=gen) * 0.5)
    return layer


def _reference_training(model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]],
                        zero_grad: str = "each step") -> list[float]:
    """The correct loop (``zero_grad='each step'``) and typical wrong ones, for comparison."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    losses = []
    for x, y in batches:
        if zero_grad == "each step":
            optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        if zero_grad == "before step":
            optimizer.zero_grad()
        optimizer.step()
        losses.append(loss.item())
    return losses


def _parameters(model: nn.Module) -> list[torch.Tensor]:
    """Copies of a module's parameters (sent back from the child after the learner's code)."""
    return [p.detach().clone() for p in model.parameters()]


def _params_close(got: Any, want: nn.Module | list[torch.Tensor]) -> bool:
    """Same parameters (never raises, whatever the child reported)."""
    if isinstance(got, nn.Module):
        got = _parameters(got)
    if isinstance(want, nn.Module):
        want = _parameters(want)
    try:
        return isinstance(got, list) and len(got) == len(want) and all(
            isinstance(p, torch.Tensor) and p.shape == q.shape
            and torch.allclose(p.double(), q.double(), atol=1e-6, rtol=1e-5)
            for p, q in zip(got, want, strict=True))
    except (RuntimeError, TypeError, ValueError):
        return False


@_speaks
def check_training_loop(train_fn: Callable[..., Any], *,
                        time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a training loop ``train_fn(model, optimizer, batches, loss_fn) -> losses`` (ch. 3).

    The checker builds a seeded ``nn.Linear(3, 1)``, ``SGD(lr=0.1)``, four batches and
    ``nn.MSELoss()``, runs the learner's loop on one copy and a correct loop (``zero_grad``,
    forward, ``backward``, ``step`` for every batch) on another, and compares the final
    parameters and the returned per-batch losses (floats or 0-d tensors).
    """
    name = "check_training_loop"
    result = _not_callable(name, train_fn, "train")
    if result is not None:
        return result
    gen = torch.Generator().manual_seed(3)
    true_w = torch.tensor([[1.5, -2.0, 0.5]])
    batches = []
    for _ in range(4):
        x = torch.randn(8, 3, generator=gen)
        batches.append((x, x @ true_w.T + 0.1 * torch.randn(8, 1, generator=gen)))
    start = seeded_linear(gen, 3, 1)
    learner, correct = copy.deepcopy(start), copy.deepcopy(start)
    accumulate, frozen = copy.deepcopy(start), copy.deepcopy(start)
    want_losses = _reference_training(correct, batches)
    _reference_training(accumulate, batches, zero_grad="never")
    _reference_training(frozen, batches, zero_grad="before step")
    optimizer = torch.optim.SGD(learner.parameters(), lr=0.1)
    call = sandbox.Call((learner, optimizer, [(x.clone(), y.clone()) for x, y in batches],
                         nn.MSELoss()))
    answers = _call(train_fn, [call], time_limit,
                    observe=lambda c, _value: _parameters(c.args[0]))
    failure = answers.failure(0)
    if failure:
        cases = [CaseResult(n, False, None, None, failure)
                 for n in (msg("final parameters"), msg("returned losses"))]
        return _finish(name, cases, [], answers.repeated(len(cases)))
    trained = answers.outcomes[0].observed  # type: ignore[union-attr]
    cases = []
    messages = []
    params_ok = _params_close(trained, correct)
    if params_ok:
        cases.append(CaseResult(msg("final parameters"), True))
    else:
        cases.append(CaseResult(
            msg("final parameters"), False, None, None,
            msg("after training, the parameters differ from those of a correct loop")))
        if _params_close(trained, accumulate):
            messages.append(msg("Hint: gradients accumulate across steps: backward() adds into "
                                ".grad, so call optimizer.zero_grad() once per batch, before "
                                "backward()."))
        elif _params_close(trained, start):
            messages.append(msg("Hint: the parameters never changed: is optimizer.step() "
                                "called, and is zero_grad() called before backward() (not "
                                "between backward() and step())?"))
    losses = answers.value(0)
    if losses is None:
        cases.append(CaseResult(msg("returned losses"), False, want_losses, None,
                                msg("returned None — return the list of per-batch losses")))
    else:
        try:
            got = [float(v) for v in losses] if isinstance(losses, list | tuple) else None
        except (TypeError, ValueError, RuntimeError):
            got = None
        if got is None:
            messages.append(msg("Your loop returned {losses}: return a list with one loss (a "
                                "float or 0-d tensor) per batch.", losses=_show(losses)))
        if got is not None and len(got) == len(want_losses) and all(
                math.isclose(a, b, rel_tol=1e-4, abs_tol=1e-6)
                for a, b in zip(got, want_losses, strict=True)):
            cases.append(CaseResult(msg("returned losses"), True))
        else:
            want = [round(v, 4) for v in want_losses]
            if got is not None and len(got) == len(want_losses):
                first = next(b for b, (a, w) in enumerate(zip(got, want_losses, strict=True))
                             if not math.isclose(a, w, rel_tol=1e-4, abs_tol=1e-6))
                problem = (msg("your per-batch losses {value} differ from a correct loop's "
                               "{want} from batch {batch} on",
                               value=[round(v, 4) for v in got], want=want, batch=first + 1))
            else:
                count = "" if got is None else msg(" (you returned {n_got})", n_got=len(got))
                problem = (msg("expected one loss per batch{count}, computed before that "
                               "batch's step: {want}", count=count, want=want))
            cases.append(CaseResult(msg("returned losses"), False, want, losses, problem))
            if params_ok:
                messages.append(msg("Hint: the parameters are right; append loss.item() once "
                                    "per batch and return the list."))
    return _finish(name, cases, messages, answers.repeated(len(cases)))


def _gan_setup() -> tuple[nn.Module, nn.Module, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(5)
    generator = seeded_linear(gen, 2, 4)
    discriminator = seeded_linear(gen, 4, 1)
    real = torch.randn(8, 4, generator=gen) + 2.0
    z = torch.randn(8, 2, generator=gen)
    return generator, discriminator, real, z


def _reference_d_step(generator: nn.Module, discriminator: nn.Module, real: torch.Tensor,
                      z: torch.Tensor, variant: str = "sum") -> None:
    """A discriminator step: correct ("sum" or "mean" of the two losses), or with a typical
    mistake (for comparison)."""
    optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    fake = generator(z)
    if variant != "no detach":
        fake = fake.detach()
    real_label, fake_label = (0.0, 1.0) if variant == "labels swapped" else (1.0, 0.0)
    d_fake = discriminator(fake)
    if variant == "detach D output":
        d_fake = d_fake.detach()
    d_real = discriminator(real)
    loss = (F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
            + F.binary_cross_entropy_with_logits(d_fake, torch.full_like(d_fake, fake_label)))
    if variant == "mean":
        loss = loss / 2
    if variant != "no zero_grad":
        optimizer.zero_grad()
    loss.backward()
    optimizer.step()


_STALE_G_GRAD = 0.5  # the generator's .grad before the call: left over from its own step
_STALE_D_GRAD = 1.0  # the discriminator's: to catch a missing zero_grad


@_speaks
def check_gan_discriminator_step(step_fn: Callable[..., Any], *,
                                 time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check one discriminator update ``step_fn(generator, discriminator, d_optimizer, real, z)``.

    Chapter 3. The tiny GAN: ``generator = nn.Linear(2, 4)``, ``discriminator = nn.Linear(4, 1)``
    (returns logits), ``d_optimizer = SGD(discriminator.parameters(), lr=0.1)``, 8 real samples
    and 8 latent vectors. The step must make fakes with the generator, score real (label 1) and
    fake (label 0) samples with binary cross-entropy on logits, and update the discriminator.
    Both networks hold stale gradients before the call. Verified, in four cases: no gradient
    flows into the generator during the call (hooks on its parameters, so wiping it afterwards
    with ``generator.zero_grad()`` does not hide it); the generator's stale ``.grad`` is left
    untouched; its parameters are unchanged; the discriminator's parameters equal a correct
    step's — with the sum of the two losses or their average (one loss over the concatenated
    real and fake batch is that average).
    """
    name = "check_gan_discriminator_step"
    result = _not_callable(name, step_fn, "discriminator_step")
    if result is not None:
        return result
    generator, discriminator, real, z = _gan_setup()
    references = {}
    for variant in ("sum", "mean", "detach D output", "labels swapped", "no zero_grad"):
        g_copy, d_copy = copy.deepcopy(generator), copy.deepcopy(discriminator)
        for p in d_copy.parameters():
            p.grad = torch.full_like(p, _STALE_D_GRAD)
        _reference_d_step(g_copy, d_copy, real, z, variant)
        references[variant] = _parameters(d_copy)
    start_g, start_d = _parameters(generator), _parameters(discriminator)
    d_optimizer = torch.optim.SGD(discriminator.parameters(), lr=0.1)
    for p in discriminator.parameters():
        p.grad = torch.full_like(p, _STALE_D_GRAD)  # stale gradients from an earlier step
    reached: list[str] = []  # filled in the child by the hooks below
    for p in generator.parameters():
        p.grad = torch.full_like(p, _STALE_G_GRAD)
        p.register_hook(lambda grad: reached.append("gradient") or grad)

    def observe(call: sandbox.Call, _value: Any) -> dict[str, Any]:
        g, d = call.args[0], call.args[1]
        return {"reached": bool(reached), "g": _parameters(g), "d": _parameters(d),
                "g_grad": [None if p.grad is None else p.grad.detach().clone()
                           for p in g.parameters()]}

    call = sandbox.Call((generator, discriminator, d_optimizer, real.clone(), z.clone()))
    answers = _call(step_fn, [call], time_limit, observe=observe)
    names = (msg("no gradient reaches the generator"), msg("the generator's .grad is untouched"),
             msg("the generator's parameters are unchanged"), msg("the discriminator is updated "
                                                             "correctly"))
    failure = answers.failure(0)
    report = answers.outcomes[0].observed if not failure else None  # type: ignore[union-attr]
    if failure or not isinstance(report, dict):
        text = failure or msg("the checker could not read the networks after your step")
        cases = [CaseResult(n, False, None, None, text) for n in names]
        return _finish(name, cases, [], answers.repeated(len(cases)))
    grads = report.get("g_grad")
    untouched = isinstance(grads, list) and len(grads) == len(start_g) and all(
        isinstance(g, torch.Tensor) and bool((g == _STALE_G_GRAD).all()) for g in grads)
    wiped = isinstance(grads, list) and all(
        g is None or (isinstance(g, torch.Tensor) and not g.abs().sum().item()) for g in grads)
    reached_g = bool(report.get("reached"))
    cases = [
        CaseResult(names[0], not reached_g, None, None,
                   "" if not reached_g else msg("backward() computed gradients for the "
                                                "generator")),
        CaseResult(names[1], untouched, None, None,
                   "" if untouched else (
                       msg("the generator's .grad was reset (to None or zeros)") if wiped
                       else msg("the generator's .grad changed"))),
        CaseResult(names[2], _params_close(report.get("g"), start_g), None, None,
                   msg("the generator's parameters changed in a discriminator step")),
    ]
    messages = []
    if reached_g and wiped:
        messages.append(msg("Hint: your step let the gradient flow into the generator and then "
                            "wiped it (generator.zero_grad()). That hides the symptom, not the "
                            "cause: backward() still ran through the generator, and zeroing "
                            "wipes gradients the generator's own step may be collecting. "
                            "Detach the fake batch instead: fake = generator(z).detach()."))
    elif reached_g:
        messages.append(msg("Hint: detach the fake batch before the discriminator sees it "
                            "(fake = generator(z).detach(), or make it under torch.no_grad()): "
                            "otherwise backward() also flows into the generator."))
    elif not untouched:
        messages.append(msg("Hint: a discriminator step should not touch the generator at all: "
                            "your code changed the generator's .grad (generator.zero_grad()?), "
                            "which may hold gradients its own step still needs."))
    d_params = report.get("d")
    style = next((v for v in ("sum", "mean") if _params_close(d_params, references[v])), "")
    cases.append(CaseResult(names[3], bool(style), None, None,
                            "" if style else msg("the discriminator's parameters differ from a "
                                                 "correct step's")))
    if style == "mean":
        messages.append(msg("Your step uses the average of the two losses (or one loss over "
                            "the concatenated real and fake batch): accepted — its step is "
                            "half as large as with the sum."))
    elif not style:
        if _params_close(d_params, start_d):
            messages.append(msg("Hint: the discriminator did not change: call "
                                "d_optimizer.step() after loss.backward()."))
        elif _params_close(d_params, references["detach D output"]):
            messages.append(msg("Hint: detach the generator's output (the fake images), not "
                                "the discriminator's output: D(fake).detach() cuts the "
                                "discriminator's own gradient for the fake term."))
        elif _params_close(d_params, references["labels swapped"]):
            messages.append(msg("Hint: the labels are swapped: real samples are labelled 1, "
                                "fakes 0."))
        elif _params_close(d_params, references["no zero_grad"]):
            messages.append(msg("Hint: old gradients were added in: call "
                                "d_optimizer.zero_grad() before loss.backward()."))
        else:
            messages.append(msg("Hint: the loss should be BCE-with-logits of D(real) against 1 "
                                "plus BCE-with-logits of D(fake) against 0 (or their average), "
                                "and one d_optimizer step."))
    return _finish(name, cases, messages, answers.repeated(len(cases)))


# --------------------------------------------------------------------------- chapter 4


_RF_CASES: list[list[tuple[int, int, int, int]]] = [
    [],
    [(3, 1, 1, 1)],
    [(3, 1, 1, 1), (3, 1, 1, 1)],
    [(5, 1, 2, 1), (3, 1, 1, 1), (3, 1, 1, 1)],
    [(3, 2, 1, 1), (3, 1, 1, 1)],
    [(7, 2, 3, 1), (3, 2, 1, 1), (3, 1, 1, 1)],
    [(3, 1, 1, 2)],
    [(3, 1, 1, 1), (3, 1, 2, 2), (3, 1, 4, 4)],
    [(2, 2, 0, 1), (2, 2, 0, 1), (3, 1, 1, 1)],
    [(3, 2, 1, 1), (3, 2, 1, 2), (1, 1, 0, 1)],
]


def _rf_variants() -> list[tuple[Callable[[list], tuple[int, int]], str]]:
    def no_jump(layers):
        return 1 + sum(d * (k - 1) for k, _s, _p, d in layers), math.prod(
            s for _k, s, _p, _d in layers)

    def jump_after(layers):
        r, j = 1, 1
        for k, s, _p, d in layers:
            j *= s
            r += d * (k - 1) * j
        return r, j

    def no_dilation(layers):
        return _rf([(k, s, p, 1) for k, s, p, _d in layers])

    def start_zero(layers):
        r, j = _rf(layers)
        return r - 1, j

    def dilation_times_k(layers):
        r, j = 1, 1
        for k, s, _p, d in layers:
            r += (d * k - 1) * j
            j *= s
        return r, j

    def sum_strides(layers):
        return _rf(layers)[0], 1 + sum(s - 1 for _k, s, _p, _d in layers)

    return [
        (no_jump, msg("your r ignores the jump: each layer adds d(k−1) times the product of "
                      "the strides *before* it (the distance between neighbouring outputs, in "
                      "input pixels).")),
        (jump_after, msg("you multiplied by the jump after this layer's stride; a layer's own "
                         "stride only affects the layers after it.")),
        (no_dilation, msg("dilation ignored: a dilated layer adds d(k−1)·j, not (k−1)·j.")),
        (start_zero, msg("your fields are 1 too small: start from r = 1 (a pixel sees itself).")),
        (dilation_times_k, msg("a dilated kernel spans d(k−1)+1 inputs, so it adds d(k−1)·j, "
                               "not (d·k−1)·j.")),
        (sum_strides, msg("the jump multiplies: j is the product of the strides, not their sum.")),
    ]


def _as_rf_pair(value: Any, n_layers: int) -> tuple[tuple[int, int] | None, str]:
    if isinstance(value, list) and value and len(value) == n_layers and all(
            isinstance(v, tuple | list) and len(v) == 2 for v in value):
        value = value[-1]  # a per-layer table: take the last row
    if not isinstance(value, tuple | list) or len(value) != 2:
        return None, msg("returned {value}: expected a pair (r, j) for the last layer",
                         value=_show(value))
    r, problem = _as_int(value[0], msg("a receptive-field size"))
    j, problem_j = _as_int(value[1], msg("a jump"))
    if r is None or j is None:
        return None, problem or problem_j
    return (r, j), ""


@_speaks
def check_receptive_field(fn: Callable[..., Any], *,
                          time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(layers) -> (r, j)``: receptive field size and jump after the last layer.

    Chapter 4. ``layers`` is a list of ``(k, s, p, d)`` tuples (padding does not change r).
    Cases include the empty stack (r = 1, j = 1), strided and dilated stacks. A function that
    returns one ``(r, j)`` pair per layer is accepted (the last pair is checked).
    """
    name = "check_receptive_field"
    result = _not_callable(name, fn, "my_receptive_field")
    if result is not None:
        return result
    answers = _call(fn, [sandbox.Call((list(layers),)) for layers in _RF_CASES], time_limit)
    results, messages = [], []
    answered: list[tuple[list, tuple[int, int]]] = []
    for index, layers in enumerate(_RF_CASES):
        expected = _rf(layers)
        description = "layers=" + (str(layers) if layers else msg("[] (no layers)"))
        failure = answers.failure(index) or _broken_rules(answers.outcomes[index])
        if failure:
            results.append(CaseResult(description, False, expected, None, failure))
            continue
        value = answers.value(index)
        pair, problem = _as_rf_pair(value, len(layers))
        passed = pair == expected
        message = problem or ("" if passed else msg("expected (r, j) = {expected}, got {pair}",
                                                    expected=expected, pair=pair))
        results.append(CaseResult(description, passed, expected, value, message))
        if pair is not None:
            answered.append((layers, pair))
    if any(pair != _rf(layers) for layers, pair in answered):
        for wrong, hint in _rf_variants():
            if all(wrong(layers) == pair for layers, pair in answered):
                messages.append(msg("Hint: {hint}", hint=hint))
                break
        else:
            if all(pair[1] == _rf(layers)[1] for layers, pair in answered):
                messages.append(msg("Hint: the jumps are right; r grows by d(k−1)·j_before per "
                                    "layer, starting from 1."))
    labels = [frozenset({msg("strides > 1")} if any(s > 1 for _k, s, _p, _d in layers) else set())
              | frozenset({msg("dilation > 1")} if any(d > 1 for *_, d in layers) else set())
              for layers in _RF_CASES]
    return _finish(name, results, messages, answers, labels)


def _design_layers(layers: Any) -> tuple[list[tuple[int, int, int, int]] | None, str]:
    """(k, s, p, d) tuples from kernel sizes, tuples or an nn.Sequential, or a message."""
    if isinstance(layers, nn.Module):
        convs = [m for m in layers.modules() if isinstance(m, nn.Conv2d)]
        if not convs:
            return None, msg("the module has no Conv2d layers")
        return [(m.kernel_size[0], m.stride[0], 0, m.dilation[0]) for m in convs], ""
    if not isinstance(layers, list | tuple) or not layers:
        return None, (msg("expected a list of kernel sizes like [3, 3], got {layers}",
                          layers=_show(layers)))
    out = []
    for item in layers:
        if isinstance(item, numbers.Integral) and not isinstance(item, bool):
            out.append((int(item), 1, 0, 1))
        elif isinstance(item, tuple | list) and len(item) == 4 and all(
                isinstance(v, numbers.Integral) for v in item):
            out.append(tuple(int(v) for v in item))
        else:
            return None, msg("{item} is not a kernel size (int) or a (k, s, p, d) tuple",
                             item=_show(item))
    return out, ""


def _optimal_design(target: int, channels: int, bias: bool,
                    sizes: Sequence[int] = (3, 5, 7)) -> tuple[int, tuple[int, ...]]:
    """Fewest parameters of a stride-1 stack of ``sizes`` kernels reaching field ``target``."""
    per_layer = {k: channels * channels * k * k + (channels if bias else 0) for k in sizes}
    best: tuple[int, tuple[int, ...]] | None = None
    max_layers = max(1, math.ceil((target - 1) / (min(sizes) - 1)))
    for n in range(1, max_layers + 1):
        for combo in itertools.combinations_with_replacement(sorted(sizes), n):
            if 1 + sum(k - 1 for k in combo) >= target:
                cost = sum(per_layer[k] for k in combo)
                if best is None or cost < best[0]:
                    best = (cost, combo)
    assert best is not None
    return best


@_speaks
def check_rf_design(layers: Any, target: int = 15, channels: int = 64,
                    bias: bool = True) -> CheckResult:
    """Check a stride-1 stack that reaches receptive field ``target`` with fewest parameters.

    Chapter 4. ``layers`` is a list of kernel sizes (3, 5 or 7), a list of ``(k, s, p, d)``
    tuples, or an ``nn.Sequential`` of ``Conv2d``; every layer has ``channels`` in and out
    channels. The optimum is found by enumerating all stacks of 3×3, 5×5 and 7×7 layers.
    """
    name = "check_rf_design"
    if layers is ...:
        return CheckResult(False, [], [msg("not answered yet — replace ... with your list of "
                                           "kernel sizes, e.g. [7, 7]")], name)
    parsed, problem = _design_layers(layers)
    if parsed is None:
        return CheckResult(False, [], [problem], name)
    messages = []
    strided = [k for k, s, _p, d in parsed if s != 1 or d != 1]
    if strided:
        messages.append(msg("This exercise is about plain stride-1, dilation-1 layers; one of "
                            "yours is strided or dilated."))
    odd = [k for k, *_ in parsed if k not in (3, 5, 7)]
    if odd:
        messages.append(msg("Use only 3×3, 5×5 and 7×7 kernels (you used {odd}).", odd=odd))
    r, _j = _rf(parsed)
    params = sum(channels * channels * k * k + (channels if bias else 0) for k, *_ in parsed)
    best, combo = _optimal_design(target, channels, bias)
    reach = CaseResult(msg("receptive field ≥ {target}", target=target), r >= target, target, r,
                       "" if r >= target else msg("your stack reaches r = {r}, {value} short",
                                                  r=r, value=target - r))
    broken = [text for bad, text in ((strided, msg("a strided or dilated layer")),
                                     (odd, msg("kernel sizes {odd}", odd=odd))) if bad]
    if broken:
        cheap_text = (msg("not compared: your stack breaks the exercise's rules ({join}); the "
                          "fewest parameters with 3×3, 5×5 and 7×7 stride-1 layers is "
                          "{best:,}, yours has {params:,}",
                          join=feedback.joined(broken, " and "), best=best, params=params))
    elif r < target:
        cheap_text = (msg("your {params:,} parameters do not count yet: the stack must reach r "
                          "≥ {target} first (the best that does has {best:,})",
                          params=params, target=target, best=best))
    else:
        cheap_text = msg("your stack has {params:,} parameters; the best has {best:,}",
                         params=params, best=best)
    cheap = CaseResult(msg("fewest parameters"), r >= target and params == best and not broken,
                       best, params, cheap_text)
    if reach.passed and params > best:
        best_stack = ", ".join(f"{combo.count(k)} × {k}×{k}" for k in sorted(set(combo)))
        messages.append(msg("Hint: two 3×3 layers see as far as one 5×5 (r = 5) with 18·C² "
                            "instead of 25·C² weights; the optimum for r ≥ {target} is "
                            "{best_stack}.", target=target, best_stack=best_stack))
    result = _finish(name, [reach, cheap], messages)
    if result.passed:
        result.messages.append(msg("r = {r} with {params:,} parameters (C = {channels}).",
                                   r=r, params=params, channels=channels))
    return result


# --------------------------------------------------------------------------- chapter 5


def _output_padding_truth(i: int, k: int, s: int, p: int) -> tuple[int, int]:
    """(o of the conv, output_padding restoring i) — found by running torch, not the formula."""
    o = F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
    for op in range(s):
        back = F.conv_transpose2d(torch.zeros(1, 1, o, o), torch.zeros(1, 1, k, k), stride=s,
                                  padding=p, output_padding=op).shape[-1]
        if back == i:
            return o, op
    raise ValueError(f"no output_padding restores i={i} (k={k}, s={s}, p={p})")


_OUTPUT_PADDING_CASES = [
    dict(i=28, k=3, s=2, p=1), dict(i=7, k=3, s=2, p=1), dict(i=8, k=4, s=2, p=1),
    dict(i=9, k=4, s=2, p=1), dict(i=10, k=3, s=3, p=1), dict(i=11, k=3, s=3, p=1),
    dict(i=12, k=3, s=3, p=1), dict(i=5, k=3, s=1, p=1), dict(i=16, k=5, s=2, p=2),
    dict(i=15, k=5, s=2, p=2),
]


def _output_padding_one(value: Any, i: int, k: int, s: int, p: int) -> CaseResult:
    o, expected = _output_padding_truth(i, k, s, p)
    description = msg("Conv2d(k={k}, s={s}, p={p}) maps {i}→{o}; ConvTranspose2d back to {i}",
                      k=k, s=s, p=p, i=i, o=o)
    if value is ...:
        return CaseResult(description, False, expected, value, msg("not answered yet"))
    op, problem = _as_int(value, msg("an output_padding"))
    if op is None:
        return CaseResult(description, False, expected, value, problem)
    if not 0 <= op < s:
        return CaseResult(description, False, expected, value,
                          msg("output_padding={op} is not allowed: PyTorch requires 0 ≤ "
                              "output_padding, and output_padding < stride ({s}) or < dilation "
                              "(1 here)", op=op, s=s))
    back = F.conv_transpose2d(torch.zeros(1, 1, o, o), torch.zeros(1, 1, k, k), stride=s,
                              padding=p, output_padding=op).shape[-1]
    if back == i:
        return CaseResult(description, True, expected, op)
    return CaseResult(description, False, expected, op,
                      msg("with output_padding={op} the transposed conv gives {back}, not {i}",
                          op=op, back=back, i=i))


@_speaks
def check_output_padding(answer: Any, *, i: int | None = None, k: int = 3, s: int = 2,
                         p: int = 1, time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check the ``output_padding`` that makes ``ConvTranspose2d`` restore a conv's input size.

    Chapter 5. ``answer`` is either a function ``fn(i, k, s, p) -> output_padding`` (run on
    many cases, with exact and inexact divisions) or an ``int`` for the given ``i, k, s, p``.
    Each answer is verified by running ``Conv2d`` and then ``ConvTranspose2d`` in torch.
    """
    name = "check_output_padding"
    messages: list[str] = []
    if not callable(answer):
        if i is None:
            return CheckResult(False, [], [msg("{name}: pass i=... (and k, s, p) to check a "
                                               "single number, or pass a function fn(i, k, s, "
                                               "p).", name=name)], name)
        case = _output_padding_one(answer, i, k, s, p)
        if not case.passed and isinstance(answer, int):
            messages.append(msg("Hint: the conv floors (i + 2p − k)/s, dropping (i + 2p − k) "
                                "mod s rows; output_padding adds exactly those back."))
        return _finish(name, [case], messages)
    calls = [sandbox.Call((c["i"], c["k"], c["s"], c["p"])) for c in _OUTPUT_PADDING_CASES]
    answers = _call(answer, calls, time_limit)
    results = []
    for index, c in enumerate(_OUTPUT_PADDING_CASES):
        failure = answers.failure(index)
        if failure:
            _o, expected = _output_padding_truth(**c)
            results.append(CaseResult(f"i={c['i']}, k={c['k']}, s={c['s']}, p={c['p']}", False,
                                      expected, None, failure))
            continue
        results.append(_output_padding_one(answers.value(index), **c))
    failing = [(r, c) for r, c in zip(results, _OUTPUT_PADDING_CASES, strict=False)
               if not r.passed]
    if failing and all(_as_int(r.got)[0] == 0 for r, _c in failing):
        messages.append(msg("Hint: wrong only when the conv's division was inexact: then "
                            "output_padding = (i + 2p − k) mod s, not 0."))
    elif failing:
        messages.append(msg("Hint: output_padding = (i + 2p − k) mod s: the rows the conv's "
                            "floor dropped."))
    labels = [frozenset({msg("an inexact division")} if (c["i"] + 2 * c["p"] - c["k"]) % c["s"]
                        else set()) for c in _OUTPUT_PADDING_CASES]
    return _finish(name, results, messages, answers, labels)


__all__ = [
    "CaseResult",
    "CheckResult",
    "DEFAULT_TIME_LIMIT",
    "check_conv2d",
    "check_conv_transpose2d",
    "check_gan_discriminator_step",
    "check_groups_answer",
    "check_network_params",
    "check_output_padding",
    "check_output_size",
    "check_output_sizes_table",
    "check_param_count",
    "check_prediction",
    "check_rf_design",
    "check_receptive_field",
    "check_same_padding",
    "check_shapes",
    "check_training_loop",
    "check_transposed_output_size",
]
