"""Checkers of the size and count formulas (chapters 1, 2, 5), against PyTorch.

``check_output_size`` [1], ``check_param_count`` [2], ``check_transposed_output_size`` [5]:
the learner's formula runs on many cases; the expected values come from running torch modules,
not from a formula (the ``_torch_*`` helpers, also used by the other checkers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab import sandbox
from convlab.check_runner import DEFAULT_TIME_LIMIT, as_int, finish, not_callable, run_calls, speaks
from convlab.feedback import CaseResult, CheckResult
from convlab.i18n import message as msg

# --------------------------------------------------------------------------- torch ground truth


def torch_conv_size(i: int, k: int, s: int, p: int, d: int) -> int:
    """Output length PyTorch gives for a 1-D convolution (runs ``F.conv1d``)."""
    x = torch.zeros(1, 1, i)
    w = torch.zeros(1, 1, k)
    return F.conv1d(x, w, stride=s, padding=p, dilation=d).shape[-1]


def torch_transpose_size(i: int, k: int, s: int, p: int, output_padding: int, d: int) -> int:
    """Output length PyTorch gives for a 1-D transposed convolution."""
    x = torch.zeros(1, 1, i)
    w = torch.zeros(1, 1, k)
    return F.conv_transpose1d(x, w, stride=s, padding=p, output_padding=output_padding,
                              dilation=d).shape[-1]


def torch_conv_params(c_in: int, c_out: int, k: int, bias: bool = True, groups: int = 1) -> int:
    """Number of parameters of ``nn.Conv2d`` (built on the meta device: no memory, no init)."""
    layer = nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups, device="meta")
    return sum(p.numel() for p in layer.parameters())


def field_formula(layers: Sequence[tuple[int, int, int, int]]) -> tuple[int, int]:
    """Receptive field size r and jump j after the last layer (r grows by d(k-1)·j_before)."""
    r, j = 1, 1
    for k, s, _p, d in layers:
        r += d * (k - 1) * j
        j *= s
    return r, j


# --------------------------------------------------------------------------- scalar formula checks


def diagnose_scalars(cases: list[dict[str, int]], expected: list[int], got: list[int | None],
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
    result = not_callable(name, fn, example)
    if result is not None:
        return result
    calls, labels = [], []
    for case in cases:
        args = [case[n] for n in order]
        while len(args) > 2 and args[-1] == defaults.get(order[len(args) - 1]):
            args.pop()  # leave trailing defaults out, so a partial signature passes early cases
        calls.append(sandbox.Call(tuple(args)))
        labels.append(_scalar_labels(case, defaults))
    answers = run_calls(fn, calls, time_limit)
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
        value, problem = as_int(returned, what)
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
    messages += diagnose_scalars(cases, expected_all, got_all, variants, conditions)
    return finish(name, results, messages, answers, labels)


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


OUTPUT_SIZE_CASES = [
    dict(i=5, k=3, s=1, p=0, d=1), dict(i=28, k=5, s=1, p=2, d=1), dict(i=7, k=3, s=2, p=0, d=1),
    dict(i=6, k=3, s=2, p=0, d=1), dict(i=8, k=3, s=2, p=1, d=1), dict(i=10, k=3, s=3, p=0, d=1),
    dict(i=5, k=5, s=1, p=0, d=1), dict(i=1, k=3, s=1, p=1, d=1), dict(i=9, k=3, s=1, p=0, d=3),
    dict(i=32, k=3, s=1, p=1, d=2), dict(i=224, k=7, s=2, p=3, d=1), dict(i=5, k=1, s=2, p=0, d=1),
    dict(i=13, k=3, s=2, p=2, d=2), dict(i=16, k=4, s=4, p=0, d=1),
]


@speaks
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
    return _scalar_check("check_output_size", fn, "my_conv_output_size", OUTPUT_SIZE_CASES,
                         torch_conv_size, ("i", "k", "s", "p", "d"),
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


@speaks
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
                         _TRANSPOSE_CASES, torch_transpose_size,
                         ("i", "k", "s", "p", "output_padding", "d"),
                         {"s": 1, "p": 0, "output_padding": 0, "d": 1}, variants, conditions,
                         msg("an output size"), time_limit)


PARAM_CASES = [
    dict(c_in=1, c_out=1, k=3, bias=True), dict(c_in=3, c_out=16, k=3, bias=True),
    dict(c_in=3, c_out=16, k=3, bias=False), dict(c_in=16, c_out=32, k=5, bias=True),
    dict(c_in=64, c_out=64, k=1, bias=True), dict(c_in=3, c_out=8, k=7, bias=False),
    dict(c_in=2, c_out=4, k=2, bias=True),
]


@speaks
def check_param_count(fn: Callable[..., Any], *,
                      time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(c_in, c_out, k, bias=True)``, the parameter count of ``nn.Conv2d`` (ch. 2).

    Expected values are counted on real ``nn.Conv2d`` modules. For a number (one layer or a
    whole network) use :func:`convlab.checks.check_network_params` instead.
    """
    def truth(c_in, c_out, k, bias):
        return torch_conv_params(c_in, c_out, k, bias)
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
    return _scalar_check("check_param_count", fn, "my_param_count", PARAM_CASES, truth,
                         ("c_in", "c_out", "k", "bias"), {"bias": True}, variants, conditions,
                         msg("a parameter count"), time_limit)


