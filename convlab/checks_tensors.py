"""Checkers of the learner's own convolutions (chapters 1, 2, 5), against PyTorch.

``check_conv2d`` (the sliding window, against ``F.conv2d``) and ``check_conv_transpose2d``
(the scatter-add, against ``F.conv_transpose2d``): seeded tensor cases, a forbidden-call rule
enforced in the child process, and hints that name the structural mistake (a missing bias, a
flipped kernel, an overwrite instead of an add).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from convlab import reference, sandbox
from convlab.check_runner import (
    DEFAULT_TIME_LIMIT,
    broken_rules,
    finish,
    not_callable,
    run_calls,
    speaks,
)
from convlab.feedback import CaseResult, CheckResult
from convlab.feedback import show as _show
from convlab.i18n import message as msg

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


def conv2d_cases() -> list[_TensorCase]:
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


CONVOLUTIONS = frozenset({
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


def single_channel(op: str, args: tuple, kwargs: dict) -> bool:
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


@speaks
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
    rules = {"forbidden": (sandbox.Rule("F.conv2d", torch_ops=CONVOLUTIONS), _NO_CONV),
             "single-channel": (sandbox.Rule("F.conv2d on several channels or with a bias",
                                             torch_ops=CONVOLUTIONS, allow=single_channel),
                                _SINGLE_CHANNEL)}
    if conv2d not in rules:
        raise ValueError(f"check_conv2d: conv2d must be 'forbidden' or 'single-channel', got "
                         f"{conv2d!r}")
    result = not_callable("check_conv2d", fn, "my_conv2d")
    if result is not None:
        return result
    rule, text = rules[conv2d]
    cases = conv2d_cases()
    return _tensor_check("check_conv2d", fn, cases,
                         lambda c: F.conv2d(c.x, c.w, c.b, c.stride, c.padding),
                         _conv2d_variants, time_limit, (rule, _REFERENCE_RULE), text)


def _tensor_check(name: str, fn: Callable[..., Any], cases: list[_TensorCase],
                  truth: Callable[[_TensorCase], torch.Tensor],
                  variants: Callable[[_TensorCase],
                                     list[tuple[Callable[[], torch.Tensor], str]]],
                  time_limit: float, rules: Sequence[sandbox.Rule] = (),
                  rule_text: str = "") -> CheckResult:
    answers = run_calls(fn, [_tensor_call(c) for c in cases], time_limit, rules)
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
        broken = broken_rules(answers.outcomes[index])
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
    return finish(name, results, messages, answers, labels)


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


@speaks
def check_conv_transpose2d(fn: Callable[..., Any], *,
                           time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check a scatter-add ``fn(x, w, stride=1, padding=0)`` against ``F.conv_transpose2d``.

    ``x`` is ``(N, C_in, H, W)``, ``w`` is ``(C_in, C_out, k, k)`` (PyTorch's layout for
    transposed convolution). Cases (chapter 5): overlapping and non-overlapping windows,
    stride, padding (the crop), several channels and a batch. Arguments left at their default
    are not passed. A case whose code calls a PyTorch convolution (``F.conv_transpose2d``...)
    or one of convlab's reference implementations fails: the exercise is the scatter-add.
    """
    result = not_callable("check_conv_transpose2d", fn, "my_conv_transpose2d")
    if result is not None:
        return result
    cases = _transpose_cases()
    rule = sandbox.Rule("F.conv_transpose2d", torch_ops=CONVOLUTIONS)
    return _tensor_check("check_conv_transpose2d", fn, cases,
                         lambda c: F.conv_transpose2d(c.x, c.w, stride=c.stride,
                                                      padding=c.padding),
                         _transpose_variants, time_limit, (rule, _REFERENCE_RULE),
                         _NO_CONV_TRANSPOSE)


