"""Checker of chapter 5's ``output_padding`` answer, verified by running ``Conv2d`` then
``ConvTranspose2d`` (not by the formula).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from convlab import sandbox
from convlab.check_runner import DEFAULT_TIME_LIMIT, as_int, finish, run_calls, speaks
from convlab.feedback import CaseResult, CheckResult
from convlab.i18n import message as msg

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
    op, problem = as_int(value, msg("an output_padding"))
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


@speaks
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
        return finish(name, [case], messages)
    calls = [sandbox.Call((c["i"], c["k"], c["s"], c["p"])) for c in _OUTPUT_PADDING_CASES]
    answers = run_calls(answer, calls, time_limit)
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
    if failing and all(as_int(r.got)[0] == 0 for r, _c in failing):
        messages.append(msg("Hint: wrong only when the conv's division was inexact: then "
                            "output_padding = (i + 2p − k) mod s, not 0."))
    elif failing:
        messages.append(msg("Hint: output_padding = (i + 2p − k) mod s: the rows the conv's "
                            "floor dropped."))
    labels = [frozenset({msg("an inexact division")} if (c["i"] + 2 * c["p"] - c["k"]) % c["s"]
                        else set()) for c in _OUTPUT_PADDING_CASES]
    return finish(name, results, messages, answers, labels)

