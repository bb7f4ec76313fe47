"""Checkers of chapter 4 (receptive fields): the ``(r, j)`` function and a stack design.

The expected fields come from the formula :func:`convlab.checks_formulas.field_formula`, which
the tests check against autograd; the design checker finds the cheapest stack by search.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import nn

from convlab import feedback, sandbox
from convlab.check_runner import (
    DEFAULT_TIME_LIMIT,
    as_int,
    broken_rules,
    finish,
    not_callable,
    run_calls,
    speaks,
)
from convlab.checks_formulas import field_formula
from convlab.feedback import CaseResult, CheckResult
from convlab.feedback import show as _show
from convlab.i18n import message as msg

# --------------------------------------------------------------------------- chapter 4


RF_CASES: list[list[tuple[int, int, int, int]]] = [
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
        return field_formula([(k, s, p, 1) for k, s, p, _d in layers])

    def start_zero(layers):
        r, j = field_formula(layers)
        return r - 1, j

    def dilation_times_k(layers):
        r, j = 1, 1
        for k, s, _p, d in layers:
            r += (d * k - 1) * j
            j *= s
        return r, j

    def sum_strides(layers):
        return field_formula(layers)[0], 1 + sum(s - 1 for _k, s, _p, _d in layers)

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
    r, problem = as_int(value[0], msg("a receptive-field size"))
    j, problem_j = as_int(value[1], msg("a jump"))
    if r is None or j is None:
        return None, problem or problem_j
    return (r, j), ""


@speaks
def check_receptive_field(fn: Callable[..., Any], *,
                          time_limit: float = DEFAULT_TIME_LIMIT) -> CheckResult:
    """Check ``fn(layers) -> (r, j)``: receptive field size and jump after the last layer.

    Chapter 4. ``layers`` is a list of ``(k, s, p, d)`` tuples (padding does not change r).
    Cases include the empty stack (r = 1, j = 1), strided and dilated stacks. A function that
    returns one ``(r, j)`` pair per layer is accepted (the last pair is checked).
    """
    name = "check_receptive_field"
    result = not_callable(name, fn, "my_receptive_field")
    if result is not None:
        return result
    answers = run_calls(fn, [sandbox.Call((list(layers),)) for layers in RF_CASES], time_limit)
    results, messages = [], []
    answered: list[tuple[list, tuple[int, int]]] = []
    for index, layers in enumerate(RF_CASES):
        expected = field_formula(layers)
        description = "layers=" + (str(layers) if layers else msg("[] (no layers)"))
        failure = answers.failure(index) or broken_rules(answers.outcomes[index])
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
    if any(pair != field_formula(layers) for layers, pair in answered):
        for wrong, hint in _rf_variants():
            if all(wrong(layers) == pair for layers, pair in answered):
                messages.append(msg("Hint: {hint}", hint=hint))
                break
        else:
            if all(pair[1] == field_formula(layers)[1] for layers, pair in answered):
                messages.append(msg("Hint: the jumps are right; r grows by d(k−1)·j_before per "
                                    "layer, starting from 1."))
    labels = [frozenset({msg("strides > 1")} if any(s > 1 for _k, s, _p, _d in layers) else set())
              | frozenset({msg("dilation > 1")} if any(d > 1 for *_, d in layers) else set())
              for layers in RF_CASES]
    return finish(name, results, messages, answers, labels)


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
    return cheapest_stack(target, {k: channels * channels * k * k + (channels if bias else 0)
                                   for k in sizes})


def cheapest_stack(target: int, per_layer: Mapping[int, int]) -> tuple[int, tuple[int, ...]]:
    """``(cost, stack)``: the stride-1 stack of kernel sizes (keys of ``per_layer``, each > 1)
    that reaches receptive field ``target`` at the lowest total ``per_layer`` cost. Every stack
    up to the fewest layers of the smallest kernel that reach it is enumerated."""
    best: tuple[int, tuple[int, ...]] | None = None
    max_layers = max(1, math.ceil((target - 1) / (min(per_layer) - 1)))
    for n in range(1, max_layers + 1):
        for combo in itertools.combinations_with_replacement(sorted(per_layer), n):
            if 1 + sum(k - 1 for k in combo) >= target:
                cost = sum(per_layer[k] for k in combo)
                if best is None or cost < best[0]:
                    best = (cost, combo)
    assert best is not None
    return best


@speaks
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
    r, _j = field_formula(parsed)
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
    result = finish(name, [reach, cheap], messages)
    if result.passed:
        result.messages.append(msg("r = {r} with {params:,} parameters (C = {channels}).",
                                   r=r, params=params, channels=channels))
    return result


