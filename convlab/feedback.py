"""Checker results, scores and the feedback text learners read (all chapters' checkers).

A checker in :mod:`convlab.checks` builds one :class:`CaseResult` per case and returns a
:class:`CheckResult`. The score is always *correct cases / all cases*: a case that raised, did
not finish, was not run or broke the exercise's rule counts as failed. The headline says how
many cases were correct and what happened to the others ("11 of 14 cases correct; with d > 1
your code raised NotImplementedError").
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from convlab.sandbox import Outcome, Run

MAX_SHOWN = 3
"""Failing cases shown in detail."""

WIDTH = 86
"""Characters per feedback line: fits a code-output block of the book without scrolling."""

NOT_IMPLEMENTED = ("not implemented yet — replace the `raise NotImplementedError(...)` line "
                   "with your code, run that cell, then run this check again.")

_OUTPUT_LINES = 8  # lines of the learner's printed output quoted in the feedback


@dataclass
class CaseResult:
    """One case of a check: what was asked, what was expected, what came back."""

    description: str
    passed: bool
    expected: Any = None
    got: Any = None
    message: str = ""

    def line(self) -> str:
        """One line of feedback for this case."""
        mark = "✓" if self.passed else "✗"
        text = f"  {mark} {self.description}"
        if not self.passed:
            text += f": {self.message}" if self.message else (
                f": expected {show(self.expected)}, got {show(self.got)}")
        return text


@dataclass
class CheckResult:
    """The outcome of a checker: ``passed``, the individual ``cases`` and the ``messages``.

    Its ``repr`` is the full feedback text, so a notebook cell ending with a checker call shows
    the feedback once. ``bool(result)`` is ``result.passed``; ``result.score`` is the fraction
    of cases passed (for grading scripts).
    """

    passed: bool
    cases: list[CaseResult] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    name: str = "check"
    headline: str = ""  # replaces the case count in the summary (e.g. "not implemented yet")

    @property
    def score(self) -> float:
        """Correct cases / all cases (1.0 or 0.0 for checks without cases)."""
        if not self.cases:
            return 1.0 if self.passed else 0.0
        return sum(case.passed for case in self.cases) / len(self.cases)

    def summary(self) -> str:
        """One line: the check's name, a mark, how many cases passed and what happened."""
        mark = "✓" if self.passed else "✗"
        if self.headline:
            return f"{mark} {self.name}: {self.headline}"
        n_ok = sum(case.passed for case in self.cases)
        if self.passed:
            count = f"all {len(self.cases)} cases correct" if len(self.cases) > 1 else "correct"
            return f"✓ {self.name}: {count}."
        count = f"{n_ok} of {len(self.cases)} cases correct" if len(self.cases) > 1 else (
            "not correct yet")
        return f"✗ {self.name}: {count}."

    def feedback(self) -> str:
        """The full feedback: summary, failing cases (at most three), then the messages."""
        lines = [self.summary()]
        failing = [case for case in self.cases if not case.passed]
        if self.headline == NOT_IMPLEMENTED:
            failing = []  # every case says the same: the stub is still there
        lines += [case.line() for case in failing[:MAX_SHOWN]]
        if len(failing) > MAX_SHOWN:
            more = len(failing) - MAX_SHOWN
            lines.append(f"  … and {more} more failing case{'s' if more > 1 else ''}.")
        lines += self.messages
        return "\n".join(lines)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.feedback()

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Notebook display: the feedback wrapped to the page width (no sideways scrolling)."""
        printer.text("\n".join(wrap(line) for line in self.feedback().splitlines()))


def wrap(line: str) -> str:
    """Wrap one feedback line to the page width, continuation lines indented under the text."""
    if len(line) <= WIDTH:
        return line
    stripped = line.lstrip(" ")
    lead = line[: len(line) - len(stripped)]
    return textwrap.fill(stripped, width=WIDTH, initial_indent=lead,
                         subsequent_indent=lead + "  ", break_long_words=False,
                         break_on_hyphens=False)


def show(value: Any) -> str:
    """A short, readable rendering of a value for feedback."""
    if isinstance(value, torch.Tensor):
        if value.numel() <= 16:
            return f"tensor of shape {tuple(value.shape)} {value.tolist()}"
        return f"tensor of shape {tuple(value.shape)}"
    if isinstance(value, torch.Size):
        return str(tuple(value))
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(repr(v) for v in sorted(value, key=repr)) + "}" if value else "{}"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's object with a broken __repr__
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= 80 else text[:77] + "..."


def problem(outcome: Outcome, time_limit: float) -> str:
    """Why a call that did not return counts as failed, in words (one case's message)."""
    error = outcome.error
    if outcome.status == "raised" and error is not None:
        if error.is_a("NotImplementedError"):
            return "not implemented for this case (your code raised NotImplementedError)"
        where = f" (at {error.line})" if error.line else ""
        return f"your code raised {error.type_name}: {error.message}{where}"
    if outcome.status == "exited" and error is not None:
        if error.type_name == "SystemExit":
            return (f"your code called sys.exit({error.exit_code!r}) (SystemExit); the check "
                    "reported it and went on")
        return f"your code ended its process with os._exit({error.exit_code})"
    if outcome.status == "crashed" and error is not None:
        return f"your code crashed its process ({error.message})"
    if outcome.status == "timed out":
        return (f"did not finish within the time limit ({time_limit:g} s for all cases), so "
                "it was stopped")
    if outcome.status == "output limit":
        return "printed too much, so it was stopped"
    if outcome.status == "not run":
        return "not run: the check had stopped your code before this case"
    return f"did not return a value ({outcome.status})"


def common_label(chosen: Sequence[int], others: Sequence[int],
                 labels: Sequence[frozenset[str]]) -> str:
    """A label every chosen case has and no other case has ('d > 1'), or ''."""
    if not chosen:
        return ""
    shared = frozenset.intersection(*(labels[i] for i in chosen))
    for label in sorted(shared):
        if not any(label in labels[i] for i in others):
            return label
    return ""


def headline(cases: Sequence[CaseResult], outcomes: Sequence[Outcome | None],
             run: Run | None, labels: Sequence[frozenset[str]] = ()) -> str:
    """The summary line of a check that ran the learner's code: a count and what happened.

    ``outcomes[i]`` is the sandbox outcome behind ``cases[i]`` (``None`` if the case was not
    sent, e.g. its call could not bind the learner's signature); ``labels[i]`` names features
    of case ``i`` ("d > 1", "padding") used to say *when* something happened. Returns '' when
    every call returned (the plain count then serves).
    """
    n = len(cases)
    n_ok = sum(case.passed for case in cases)
    status = [o.status if o is not None else "" for o in outcomes]
    if n and all(o is not None and o.status == "raised" and o.error is not None
                 and o.error.is_a("NotImplementedError") for o in outcomes):
        return NOT_IMPLEMENTED
    events: list[str] = []
    labels = list(labels) or [frozenset() for _ in cases]
    stub = [i for i, o in enumerate(outcomes) if o is not None and o.status == "raised"
            and o.error is not None and o.error.is_a("NotImplementedError")]
    if stub:
        returned = [i for i, s in enumerate(status) if s == "returned"]
        when = common_label(stub, returned, labels)
        if when:
            events.append(f"with {when} your code raised NotImplementedError")
        elif len(stub) == 1:
            events.append(f"for {cases[stub[0]].description} your code raised "
                          "NotImplementedError")
        else:
            events.append(f"in {len(stub)} cases your code raised NotImplementedError")
    raised = [i for i, o in enumerate(outcomes) if o is not None and o.status == "raised"
              and i not in stub]
    if raised:
        kinds = sorted({outcomes[i].error.type_name for i in raised})  # type: ignore[union-attr]
        events.append(f"{_count(len(raised), 'case')} raised {' or '.join(kinds)}")
    exits = [i for i, s in enumerate(status) if s == "exited"]
    if exits:
        events.append(f"your code tried to exit in {_count(len(exits), 'case')} (reported, "
                      "nothing was ended)")
    crashes = [i for i, s in enumerate(status) if s == "crashed"]
    if crashes:
        events.append(f"your code crashed its process in {_count(len(crashes), 'case')}")
    forbidden = sorted({name for o in outcomes if o is not None for name in o.forbidden})
    if forbidden:
        events.append(f"your code calls {' and '.join(forbidden)}, which this exercise rules out")
    stopped = [i for i, s in enumerate(status) if s in ("timed out", "output limit")]
    if stopped and run is not None:
        i = stopped[0]
        not_run = status.count("not run")
        after = (f"; the {_count(not_run, 'case')} after it {'was' if not_run == 1 else 'were'}"
                 " not run") if not_run else ""
        if status[i] == "timed out":
            events.append(f"your code did not finish within {run.time_limit:g} s "
                          f"({cases[i].description}) and was stopped{after}")
        else:
            events.append(f"your code printed more than {run.output_limit:,} characters, so it "
                          f"was stopped at {cases[i].description}{after}")
    if not events:
        return ""
    count = f"all {n} cases correct" if n_ok == n else f"{n_ok} of {n} cases correct"
    if n == 1:
        count = "correct" if n_ok else "not correct yet"
    return f"{count}; " + "; ".join(events) + "."


def printed(run: Run | None) -> list[str]:
    """Messages quoting what the learner's code printed (a few lines), if anything."""
    if run is None or not run.output_bytes:
        return []
    lines = run.output.splitlines()
    shown = [f"  | {line[:WIDTH - 4]}" for line in lines[:_OUTPUT_LINES]]
    total = f"{run.output_bytes:,} characters"
    if run.stopped == "output limit":
        head = (f"Your code printed more than {run.output_limit:,} characters and was stopped; "
                "the first lines:")
    elif len(lines) > _OUTPUT_LINES or run.output_truncated:
        head = f"Your code printed {total}; the first lines:"
    else:
        head = "Your code printed:"
    return [head, *shown]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


__all__ = ["CaseResult", "CheckResult", "MAX_SHOWN", "NOT_IMPLEMENTED", "WIDTH",
           "common_label", "headline", "printed", "problem", "show", "wrap"]
