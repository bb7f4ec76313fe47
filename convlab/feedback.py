"""Checker results, scores and the feedback text learners read (all chapters' checkers).

A checker in :mod:`convlab.checks` builds one :class:`CaseResult` per case and returns a
:class:`CheckResult`. The score is always *correct cases / all cases*: a case that raised, did
not finish, was not run or broke the exercise's rule counts as failed. The headline says how
many cases were correct and what happened to the others ("11 of 14 cases correct; with d > 1
your code raised NotImplementedError").

Every text is a :class:`convlab.i18n.Message` (English, remembering its template), so checkers
need no language while they collect cases; ``CheckResult.lang`` (the checker's ``lang``
argument) says in which language the feedback is displayed.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from convlab import i18n
from convlab.i18n import message as msg
from convlab.sandbox import Outcome, Run

MAX_SHOWN = 3
"""Failing cases shown in detail."""

WIDTH = 86
"""Characters per feedback line: fits a code-output block of the book without scrolling."""

NOT_IMPLEMENTED = msg("not implemented yet — replace the `raise NotImplementedError(...)` line "
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

    def line(self, lang: str = "en") -> str:
        """One line of feedback for this case, in ``lang``."""
        mark = "✓" if self.passed else "✗"
        description = i18n.translate(self.description, lang)
        if self.passed:
            return f"  {mark} {description}"
        problem = (i18n.translate(self.message, lang) if self.message else
                   msg("expected {expected}, got {got}", expected=show(self.expected),
                       got=show(self.got)).translate(lang))
        return "  " + msg("{mark} {case}: {problem}", mark=mark, case=description,
                          problem=problem).translate(lang)


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
    lang: str = "en"  # the language of the feedback (convlab.i18n)

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
            return msg("{mark} {name}: {headline}", mark=mark, name=self.name,
                       headline=self.headline).translate(self.lang)
        return msg("{mark} {name}: {count}.", mark=mark, name=self.name,
                   count=count_text(self.cases, self.passed)).translate(self.lang)

    def feedback(self) -> str:
        """The full feedback: summary, failing cases (at most three), then the messages."""
        lines = [self.summary()]
        failing = [case for case in self.cases if not case.passed]
        if self.headline == NOT_IMPLEMENTED:
            failing = []  # every case says the same: the stub is still there
        lines += [case.line(self.lang) for case in failing[:MAX_SHOWN]]
        if len(failing) > MAX_SHOWN:
            more = len(failing) - MAX_SHOWN
            lines.append("  " + (msg("… and {n} more failing cases.", n=more) if more > 1 else
                                 msg("… and 1 more failing case.")).translate(self.lang))
        lines += [i18n.translate(m, self.lang) for m in self.messages]
        return "\n".join(lines)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.feedback()

    __str__ = __repr__

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Notebook display: the feedback wrapped to the page width (no sideways scrolling)."""
        printer.text("\n".join(wrap(line) for line in self.feedback().splitlines()))


def count_text(cases: Sequence[CaseResult], passed: bool | None = None) -> i18n.Message:
    """How many cases were correct: "all 14 cases correct", "3 of 14 cases correct", ...

    ``passed`` (default: every case passed) chooses between the two forms.
    """
    n, n_ok = len(cases), sum(case.passed for case in cases)
    if passed is None:
        passed = n_ok == n
    if n == 1:
        return msg("correct") if n_ok else msg("not correct yet")
    if passed:
        return msg("all {n} cases correct", n=n) if n > 1 else msg("correct")
    return msg("{n_ok} of {n} cases correct", n_ok=n_ok, n=n) if n > 1 else (
        msg("not correct yet"))


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
            return msg("tensor of shape {shape} {values}", shape=str(tuple(value.shape)),
                       values=str(value.tolist()))
        return msg("tensor of shape {shape}", shape=str(tuple(value.shape)))
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
            return msg("not implemented for this case (your code raised NotImplementedError)")
        if error.line:
            return msg("your code raised {error}: {message} (at {line})",
                       error=error.type_name, message=error.message, line=error.line)
        return msg("your code raised {error}: {message}", error=error.type_name,
                   message=error.message)
    if outcome.status == "exited" and error is not None:
        if error.type_name == "SystemExit":
            return msg("your code called sys.exit({code}) (SystemExit); the check reported it "
                       "and went on", code=repr(error.exit_code))
        return msg("your code ended its process with os._exit({code})", code=error.exit_code)
    if outcome.status == "crashed" and error is not None:
        return msg("your code crashed its process ({message})", message=error.message)
    if outcome.status == "timed out":
        return msg("did not finish within the time limit ({seconds} s for all cases), so it "
                   "was stopped", seconds=f"{time_limit:g}")
    if outcome.status == "output limit":
        return msg("printed too much, so it was stopped")
    if outcome.status == "not run":
        return msg("not run: the check had stopped your code before this case")
    return msg("did not return a value ({status})", status=outcome.status)


def joined(parts: Sequence[str], how: str = "; ") -> str:
    """``parts`` joined by ``"; "``, ``" or "`` or ``" and "`` — as a text each language
    words itself (the parts stay translatable)."""
    if how not in ("; ", " or ", " and "):
        raise ValueError(f"joined() joins with '; ', ' or ' or ' and ', not {how!r}")
    if not parts:
        return ""
    text: str = parts[0]
    for part in parts[1:]:
        if how == " or ":
            text = msg("{a} or {b}", a=text, b=part)
        elif how == " and ":
            text = msg("{a} and {b}", a=text, b=part)
        else:
            text = msg("{a}; {b}", a=text, b=part)
    return text


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
            events.append(msg("with {when} your code raised NotImplementedError", when=when))
        elif len(stub) == 1:
            events.append(msg("for {case} your code raised NotImplementedError",
                              case=cases[stub[0]].description))
        else:
            events.append(msg("in {n} cases your code raised NotImplementedError",
                              n=len(stub)))
    raised = [i for i, o in enumerate(outcomes) if o is not None and o.status == "raised"
              and i not in stub]
    if raised:
        kinds = sorted({outcomes[i].error.type_name for i in raised})  # type: ignore[union-attr]
        events.append(msg("1 case raised {errors}", errors=joined(kinds, " or "))
                      if len(raised) == 1 else
                      msg("{n} cases raised {errors}", n=len(raised),
                          errors=joined(kinds, " or ")))
    exits = [i for i, s in enumerate(status) if s == "exited"]
    if exits:
        events.append(msg("your code tried to exit in 1 case (reported, nothing was ended)")
                      if len(exits) == 1 else
                      msg("your code tried to exit in {n} cases (reported, nothing was ended)",
                          n=len(exits)))
    crashes = [i for i, s in enumerate(status) if s == "crashed"]
    if crashes:
        events.append(msg("your code crashed its process in 1 case") if len(crashes) == 1 else
                      msg("your code crashed its process in {n} cases", n=len(crashes)))
    forbidden = sorted({name for o in outcomes if o is not None for name in o.forbidden})
    if forbidden:
        events.append(forbidden_text(forbidden))
    stopped = [i for i, s in enumerate(status) if s in ("timed out", "output limit")]
    if stopped and run is not None:
        i = stopped[0]
        not_run = status.count("not run")
        after = ""
        if not_run == 1:
            after = msg("; the 1 case after it was not run")
        elif not_run:
            after = msg("; the {n} cases after it were not run", n=not_run)
        if status[i] == "timed out":
            events.append(msg("your code did not finish within {seconds} s ({case}) and was "
                              "stopped{after}", seconds=f"{run.time_limit:g}",
                              case=cases[i].description, after=after))
        else:
            events.append(msg("your code printed more than {limit} characters, so it was "
                              "stopped at {case}{after}", limit=f"{run.output_limit:,}",
                              case=cases[i].description, after=after))
    if not events:
        return ""
    return msg("{count}; {events}.", count=count_text(cases), events=joined(events))


def forbidden_text(names: Sequence[str]) -> str:
    """"your code calls F.conv2d, which this exercise rules out" (names joined by "and")."""
    return msg("your code calls {names}, which this exercise rules out",
               names=joined(list(names), " and "))


def printed(run: Run | None) -> list[str]:
    """Messages quoting what the learner's code printed (a few lines), if anything."""
    if run is None or not run.output_bytes:
        return []
    lines = run.output.splitlines()
    shown = [f"  | {line[:WIDTH - 4]}" for line in lines[:_OUTPUT_LINES]]
    if run.stopped == "output limit":
        head = msg("Your code printed more than {limit} characters and was stopped; the first "
                   "lines:", limit=f"{run.output_limit:,}")
    elif len(lines) > _OUTPUT_LINES or run.output_truncated:
        head = msg("Your code printed {total} characters; the first lines:",
                   total=f"{run.output_bytes:,}")
    else:
        head = msg("Your code printed:")
    return [head, *shown]


__all__ = ["CaseResult", "CheckResult", "MAX_SHOWN", "NOT_IMPLEMENTED", "WIDTH",
           "common_label", "count_text", "forbidden_text", "headline", "joined", "printed",
           "problem", "show", "wrap"]
