"""Running a learner's code for the checkers, and turning the cases into a result.

The learner's function runs in a child process (:mod:`convlab.sandbox`) under a time limit;
:func:`run_calls` collects what it returned, and :func:`finish` builds the
:class:`~convlab.feedback.CheckResult` (score = correct cases / all cases) whose words come from
:mod:`convlab.feedback`. :func:`speaks` gives every checker its ``lang`` keyword.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from convlab import feedback, i18n, sandbox
from convlab.feedback import CaseResult, CheckResult
from convlab.feedback import show as _show
from convlab.i18n import message as msg

DEFAULT_TIME_LIMIT = 10.0
"""Seconds a checker lets the learner's code run (all cases together) before stopping it."""


def speaks(checker: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
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



def finish(name: str, cases: list[CaseResult], messages: list[str],
           calls: Calls | None = None, labels: Sequence[frozenset[str]] = ()) -> CheckResult:
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
class Calls:
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

    def repeated(self, n: int) -> Calls:
        """One call judged in ``n`` cases (its outcome stands behind each of them)."""
        return Calls(self.outcomes * n, self.problems * n, self.run, self.time_limit)

    def value(self, index: int) -> Any:
        outcome = self.outcomes[index]
        return None if outcome is None else outcome.value


def run_calls(fn: Callable[..., Any], calls: Sequence[sandbox.Call], time_limit: float,
              rules: Sequence[sandbox.Rule] = (),
              observe: Callable[[sandbox.Call, Any], Any] | None = None) -> Calls:
    """Run ``fn`` on every call in a killable child process (calls that cannot bind the
    learner's signature are not made: their problem says why)."""
    problems = [signature_problem(fn, c.args, dict(c.kwargs)) for c in calls]
    sent = [i for i, text in enumerate(problems) if not text]
    run = sandbox.run(fn, [calls[i] for i in sent], time_limit=time_limit, rules=rules,
                      observe=observe) if sent else None
    outcomes: list[sandbox.Outcome | None] = [None] * len(calls)
    for j, i in enumerate(sent):
        outcomes[i] = run.outcomes[j]  # type: ignore[union-attr]
    return Calls(outcomes, problems, run, time_limit)


def broken_rules(outcome: sandbox.Outcome | None) -> str:
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


def signature_problem(fn: Callable[..., Any], args: tuple, kwargs: dict) -> str:
    """Explain why ``fn(*args, **kwargs)`` cannot be called, or return ''."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ""
    try:
        signature.bind(*args, **kwargs)
    except TypeError as err:
        shown = ", ".join([short(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        return (msg("the checker calls your function as fn({shown}), but Python says: {err}. "
                    "Check the parameter names and defaults in the exercise.",
                    shown=shown, err=err))
    return ""


def short(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return msg("<tensor {shape}>", shape=tuple(value.shape))
    return repr(value)


def not_callable(name: str, fn: Any, example: str) -> CheckResult | None:
    """A result explaining that ``fn`` should have been a function, or None if it is one."""
    if callable(fn):
        return None
    return CheckResult(False, [], [
        msg("{name} expects a function, but got {kind} {fn}. Pass the function itself, "
            "without calling it: {name}({example}), not {name}({example}(...)).",
            name=name, kind=type(fn).__name__, fn=_show(fn), example=example)],
        name=name)


def as_int(value: Any, what: str = msg("a size")) -> tuple[int | None, str]:
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


