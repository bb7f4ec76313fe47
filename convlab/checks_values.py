"""Checkers of values the learner writes down (chapters 1 and 2).

A table of output sizes, the padding that keeps the size, a network's and a grouped layer's
parameter counts, and predicted shapes: each compared with what torch computes.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab.check_runner import as_int, finish, speaks
from convlab.checks_formulas import diagnose_scalars, torch_conv_params, torch_conv_size
from convlab.feedback import CaseResult, CheckResult
from convlab.feedback import show as _show
from convlab.i18n import message as msg

# --------------------------------------------------------------------------- chapter 1 values


def _value_result(name: str, description: str, passed: bool, expected: Any, got: Any,
                  message: str, hints: list[str]) -> CheckResult:
    case = CaseResult(description, passed, expected, got, message)
    return finish(name, [case], [] if passed else hints)


def _count_answer(name: str, description: str, expected: int,
                  answer: Any) -> tuple[int | None, CheckResult | None]:
    """A parameter count answered as a number: ``(value, None)``, or ``(None, result)`` saying
    that it is not answered yet (``...``) or not a whole number."""
    if answer is ...:
        return None, _value_result(name, description, False, expected, answer,
                                   msg("not answered yet — replace ... with your number"), [])
    value, problem = as_int(answer, msg("a parameter count"))
    if value is None:
        return None, _value_result(name, description, False, expected, answer, problem, [])
    return value, None


@speaks
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
            expected = torch_conv_size(i, k, s, p, d)
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
        got, problem = as_int(value, msg("an output size"))
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
        messages += diagnose_scalars(cases, expected_all, got_all, variants, conditions)
    return finish(name, results, messages)


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


@speaks
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
    value, problem = as_int(p, msg("a padding"))
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


@speaks
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


@speaks
def check_groups_answer(answer: Any, c_in: int, c_out: int, k: int, groups: int,
                        bias: bool = True) -> CheckResult:
    """Check ``answer``, the parameter count of ``nn.Conv2d(c_in, c_out, k, groups=groups)``.

    Chapter 2 (grouped and depthwise convolution). Counted on a real module.
    """
    name = "check_groups_answer"
    expected = torch_conv_params(c_in, c_out, k, bias, groups)
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


def as_shape(value: Any) -> tuple[int, ...] | None:
    """A shape from a tuple/list/torch.Size of ints or a string like '(1, 8, 14, 14)'."""
    if isinstance(value, str):
        from convlab.quiz import normalise_shape  # local import: quiz is a sibling concern
        return normalise_shape(value)
    if isinstance(value, torch.Size | tuple | list) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value):
        return tuple(int(v) for v in value)
    return None


@speaks
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
        got = as_shape(answers[key])
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
    return finish(name, results, messages)


