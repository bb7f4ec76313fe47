"""Quick checks that grade themselves in the browser — no kernel, no network (all chapters).

Each function returns a :class:`Question`; make it the last expression of a cell. Its
``_repr_html_`` is a small form plus an inline script (``convlab/quiz.js``), so the check works
on the static site (myst-nb copies ``text/html`` outputs into the page) and in a live, trusted
notebook. The correct answer is an argument computed in Python by the caller (with torch or
``convlab``), never typed by hand::

    quiz.number("Output size for i=28, k=5, p=2?", answer=conv_output_size(28, 5, p=2),
                hints={24: "24 is the size without padding: padding adds 2p."},
                revisit="Padding")
    quiz.shape("Shape of conv(x)?", answer=tuple(conv(x).shape))
    quiz.choice("Which layer has more parameters?", ["A", "B", "Same"], correct=2)
    quiz.choice("Which are true?", [...], correct={0, 2})            # checkboxes
    quiz.cells("Which tensors change?", ["a", "b", "c"], changed={"a", "c"})

``hints`` map a *wrong* answer (a number, a shape, an option index, a cell label) to a
message naming the mistake; any other wrong answer gets a generic message plus
"Revisit: <revisit>". The answer data sit in the quiz's ``data-quiz`` attribute: this is a
self-check, not an exam.

The grading rules live twice — here (tested in ``tests/test_quiz.py``) and in ``quiz.js`` — and
are kept small so that the two are obviously the same:

* a number: drop spaces; accept ``[+-]digits[.digits][e±digits]`` (so ``+8``, ``8.0``,
  ``1 000``); correct when ``|x − answer| ≤ tolerance + 1e-9·max(1, |answer|)``;
* a shape: drop a leading ``torch.Size``, turn brackets into spaces, split on commas, spaces,
  ``x``, ``×`` or ``*``; every part must be digits (so ``(1, 8, 14, 14)``, ``1,8,14,14``,
  ``[1 8 14 14]``, ``torch.Size([1, 8, 14, 14])``, ``14x14`` and a trailing comma all work);
* choices and cells: the selected set must equal the correct set; hints are shown for every
  option or cell that is wrongly selected or wrongly left out.

Browser-test contract: root ``div.convlab-quiz[data-kind=number|shape|choice|cells]``, its
inputs, a ``<button>`` "Check" (class ``convlab-quiz-check``) and ``.convlab-quiz-feedback``
which gets ``data-correct="true|false"`` and a text starting "✓ Correct" or "✗ Not quite".
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import numbers
import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Any

from convlab import i18n

_SPACE = re.compile("[ \t\n\r\u00a0\u2009\u202f]")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
_SEP = re.compile("[,xX\u00d7* \t\n\r\u00a0\u2009\u202f]+")
_TORCH_SIZE = re.compile(r"^ *torch\.size", re.IGNORECASE | re.ASCII)
_DIGITS = re.compile("[0-9]+")

CORRECT = "✓ Correct!"


def ui_texts(lang: str = "en") -> dict[str, str]:
    """The quick checks' interface texts in ``lang``, keyed by their English text.

    They travel in each quiz's data (``data-quiz``, key ``"ui"``) so that ``quiz.js`` has no
    text of its own; templates keep their ``{fields}`` (quiz.js fills them in).
    """
    _ = i18n.translator(lang)
    return {
        "Check": _("Check"),
        CORRECT: _("✓ Correct!"),
        "✗ Not quite.": _("✗ Not quite."),
        "{sentence} {next}": _("{sentence} {next}"),
        " Revisit: {revisit}": _(" Revisit: {revisit}"),
        " Try again.": _(" Try again."),
        "Please enter a number, e.g. 12.": _("Please enter a number, e.g. 12."),
        "Please enter a shape, e.g. (1, 8, 14, 14).":
            _("Please enter a shape, e.g. (1, 8, 14, 14)."),
        "Please select an answer.": _("Please select an answer."),
        "The answer has {n} dimensions; yours has {m}.":
            _("The answer has {n} dimensions; yours has {m}."),
        "Wrongly selected: {extra}. Missing: {missing}.":
            _("Wrongly selected: {extra}. Missing: {missing}."),
        "e.g. 12": _("e.g. 12"),
        "e.g. (1, 8, 14, 14)": _("e.g. (1, 8, 14, 14)"),
        " (select all that apply)": _(" (select all that apply)"),
        _UNTRUSTED: _("This check needs its script: re-run this cell (or trust the notebook) "
                      "to use it."),
        "Quick check ({kind}): {question}": _("Quick check ({kind}): {question}"),
        "(open this notebook in Jupyter or the course site to answer it)":
            _("(open this notebook in Jupyter or the course site to answer it)"),
    }

_UNTRUSTED = ("This check needs its script: re-run this cell (or trust the notebook) to use "
              "it.")

_CSS = """<style>
.convlab-quiz{border:1px solid #8886;border-radius:6px;padding:.6em .9em;margin:1em 0}
.convlab-quiz fieldset{border:0;margin:0;padding:0}
.convlab-quiz legend,.convlab-quiz-question{font-weight:600;font-size:inherit;display:block;
margin:0 0 .4em;padding:0}
.convlab-quiz-options label{display:block;margin:.15em 0}
.convlab-quiz input[type=text]{font:inherit;padding:.15em .4em;min-width:12em;color:inherit;
background:var(--jp-layout-color0,transparent);border:1px solid var(--jp-border-color1,#5f6b7a);
border-radius:3px;margin-right:.4em}
.convlab-quiz-check{font:inherit;margin:.4em .4em 0 0;padding:.15em .9em;cursor:pointer;
color:#fff;background:#0063a0;border:1px solid #0063a0;border-radius:3px}
.convlab-quiz :focus-visible{outline:3px solid var(--jp-brand-color1,#0b5cc5);outline-offset:2px}
.convlab-quiz-note{font-weight:400;opacity:.8}
.convlab-quiz-untrusted{display:none}
.convlab-quiz-feedback{margin:.5em 0 0;padding-left:.5em;border-left:4px solid transparent}
.convlab-quiz-feedback[data-correct=true]{border-color:#009E73}
.convlab-quiz-feedback[data-correct=false]{border-color:#D55E00}
</style>"""


@cache
def quiz_js() -> str:
    """The quick checks' JavaScript (``convlab/quiz.js``), read once."""
    return resources.files("convlab").joinpath("quiz.js").read_text(encoding="utf-8")


@cache
def _embedded_js() -> str:
    """quiz.js as embedded in each quiz: comment lines and indentation dropped (smaller pages)."""
    lines = (line.strip() for line in quiz_js().splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//"))


# --------------------------------------------------------------------------- normalisation


def normalise_number(text: str) -> float | None:
    """The number typed in ``text``, or None if it is not one (spaces, ``+``, ``.0`` allowed)."""
    if not isinstance(text, str):
        raise TypeError(f"normalise_number expects a str, got {type(text).__name__}")
    compact = _SPACE.sub("", text)
    return float(compact) if _NUMBER.fullmatch(compact) else None


def normalise_shape(text: str) -> tuple[int, ...] | None:
    """The shape typed in ``text`` as a tuple of ints, or None if it is not one.

    Accepts ``(1, 8, 14, 14)``, ``1,8,14,14``, ``[1 8 14 14]``, ``torch.Size([1, 8, 14, 14])``,
    ``14x14`` and a trailing comma.
    """
    if not isinstance(text, str):
        raise TypeError(f"normalise_shape expects a str, got {type(text).__name__}")
    stripped = _TORCH_SIZE.sub("", _SPACE.sub(" ", text))
    parts = [p for p in _SEP.split(re.sub(r"[()\[\]]", " ", stripped)) if p]
    if not parts or not all(_DIGITS.fullmatch(p) for p in parts):
        return None
    return tuple(int(p) for p in parts)


def _near(x: float, a: float, tolerance: float) -> bool:
    return abs(x - a) <= tolerance + 1e-9 * max(1.0, abs(a))


# --------------------------------------------------------------------------- questions


def _inline(text: str) -> str:
    """Escape ``text`` for HTML and render `backticks` as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


class Question:
    """A self-grading quick check; display it (last expression of a cell) to get the form.

    ``feedback(response)`` grades a response exactly as the browser does and returns
    ``(correct, message)``. ``response`` is the typed text for ``number``/``shape``, an option
    index or a collection of indices (or a string like ``"0, 2"``) for ``choice``, and a
    collection of labels or indices (or a comma-separated string of labels) for ``cells``.
    """

    def __init__(self, kind: str, question: str, data: dict[str, Any],
                 items: list[str] | None = None, lang: str = "en") -> None:
        self.kind = kind
        self.lang = i18n.check_language(lang)
        self.question = str(i18n.translate(question, lang))
        self.items = [str(i18n.translate(item, lang)) for item in items or []]
        self.data = {"kind": kind, **data}
        self.ui = ui_texts(lang)

    @property
    def id(self) -> str:
        """A stable id from the question's content (the same question gives the same id)."""
        payload = json.dumps([self.question, self.items, self.data], sort_keys=True)
        return "cq-" + hashlib.sha1(payload.encode()).hexdigest()[:10]

    def _ui(self, text: str, **fields: Any) -> str:
        """An interface text in the quiz's language, filled in."""
        template = self.ui[text]
        return template.format_map(fields) if fields else template

    # ---- grading (mirrors quiz.js)

    def _not_quite(self, *details: str) -> str:
        """"✗ Not quite." and the ``details``, sentence by sentence, as the language puts
        sentences together (English: a space between; Chinese: none)."""
        return i18n.translator(self.lang).sentences(self._ui("✗ Not quite."),
                                                    *filter(None, details))

    def _wrong(self, detail: str = "") -> tuple[bool, str]:
        revisit = self.data["revisit"]
        text = self._not_quite(detail)
        return False, text + (self._ui(" Revisit: {revisit}", revisit=revisit) if revisit
                              else self._ui(" Try again."))

    def feedback(self, response: Any) -> tuple[bool, str]:
        """``(correct, message)`` for a response, by the same rules as the browser."""
        d = self.data
        if self.kind == "number":
            x = normalise_number(str(response))
            if x is None:
                return False, self._ui("Please enter a number, e.g. 12.")
            if _near(x, d["answer"], d["tolerance"]):
                return True, self._ui(CORRECT)
            for value, text in d["hints"]:
                if _near(x, value, 0):
                    return False, self._not_quite(text)
            return self._wrong()
        if self.kind == "shape":
            if isinstance(response, tuple | list):
                response = ", ".join(str(v) for v in response)
            s = normalise_shape(str(response))
            if s is None:
                return False, self._ui("Please enter a shape, e.g. (1, 8, 14, 14).")
            answer = tuple(d["answer"])
            if s == answer:
                return True, self._ui(CORRECT)
            for value, text in d["hints"]:
                if s == tuple(value):
                    return False, self._not_quite(text)
            if len(s) != len(answer):
                return self._wrong(self._ui("The answer has {n} dimensions; yours has {m}.",
                                            n=len(answer), m=len(s)))
            return self._wrong()
        selected = self._selection(response)
        if self.kind == "choice" and not selected:
            return False, self._ui("Please select an answer.")
        correct = set(d["correct"])
        extra, missing = selected - correct, correct - selected
        if not extra and not missing:
            return True, self._ui(CORRECT)
        texts = [text for index, text in d["hints"] if index in extra or index in missing]
        if texts:
            return False, self._not_quite(*texts)
        if not d["multiple"]:
            return self._wrong()
        return self._wrong(self._ui("Wrongly selected: {extra}. Missing: {missing}.",
                                    extra=len(extra), missing=len(missing)))

    def _selection(self, response: Any) -> set[int]:
        """Selected indices from an index, labels, a collection or a comma-separated string."""
        if isinstance(response, str):
            response = [part.strip() for part in response.split(",") if part.strip()]
        elif isinstance(response, numbers.Integral):
            response = [response]
        elif not isinstance(response, Iterable):
            raise TypeError(f"a {self.kind} response is an index, a label or a collection of "
                            f"them, got {type(response).__name__}")
        indices = set()
        for item in response:
            if self.kind == "cells" and not isinstance(item, numbers.Integral):
                if str(item) not in self.items:
                    raise ValueError(f"{item!r} is not one of the cells {self.items}")
                indices.add(self.items.index(str(item)))
            else:
                index = int(item)
                if not 0 <= index < len(self.items):
                    raise ValueError(f"option {index} does not exist (there are "
                                     f"{len(self.items)} options, numbered from 0)")
                indices.add(index)
        return indices

    # ---- display

    def _repr_html_(self) -> str:
        qid = self.id
        # data-lm-suppress-shortcuts: in JupyterLab, Shift+Enter in a quiz checks the answer
        # instead of re-running the cell (which would wipe the learner's answer).
        attrs = (f'class="convlab-quiz" id="{qid}" data-kind="{self.kind}" '
                 'data-lm-suppress-shortcuts="true" '
                 f'data-quiz="{html.escape(json.dumps(self._page_data()), quote=True)}"')
        if self.kind in ("number", "shape"):
            example = self._ui("e.g. 12" if self.kind == "number" else "e.g. (1, 8, 14, 14)")
            body = (f'<label class="convlab-quiz-question" for="{qid}-in">'
                    f"{_inline(self.question)}</label>"
                    f'<input type="text" id="{qid}-in" autocomplete="off" spellcheck="false" '
                    f'placeholder="{example}" aria-describedby="{qid}-fb">')
        else:
            multiple = self.data["multiple"]
            kind = "checkbox" if multiple else "radio"
            options = "".join(
                f'<label><input type="{kind}" name="{qid}" value="{i}"> '
                f"{_inline(f'`{item}`' if self.kind == 'cells' else item)}</label>"
                for i, item in enumerate(self.items))
            note = (f'<span class="convlab-quiz-note">{self._ui(" (select all that apply)")}'
                    "</span>" if multiple else "")
            body = (f'<fieldset aria-describedby="{qid}-fb"><legend>{_inline(self.question)}'
                    f'{note}</legend><div class="convlab-quiz-options">{options}</div>'
                    "</fieldset>")
        return (f"{_CSS}<div {attrs}>{body}"
                f'<button type="button" class="convlab-quiz-check">{self._ui("Check")}</button>'
                # Hidden by the quiz's own <style>; shows only where a notebook viewer strips
                # styles and scripts from untrusted output (then the check cannot run).
                '<p class="convlab-quiz-untrusted">'
                f"{html.escape(self._ui(_UNTRUSTED))}</p>"
                f'<p class="convlab-quiz-feedback" id="{qid}-fb" role="status" '
                'aria-live="polite"></p></div>'
                f"<script>{_embedded_js()}</script>")

    def _page_data(self) -> dict[str, Any]:
        """The data quiz.js reads: the answer data plus the interface texts (``"ui"``)."""
        return {**self.data, "ui": self.ui}

    def __repr__(self) -> str:
        lines = [self._ui("Quick check ({kind}): {question}", kind=self.kind,
                          question=self.question)]
        lines += [f"  [{i}] {item}" for i, item in enumerate(self.items)]
        lines.append(self._ui("(open this notebook in Jupyter or the course site to answer it)"))
        return "\n".join(lines)


# --------------------------------------------------------------------------- constructors


def _real(value: Any, what: str) -> float | int:
    if hasattr(value, "item") and not isinstance(value, numbers.Number):
        value = value.item()  # a 0-d tensor or numpy scalar
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {value}")
    return int(value) if isinstance(value, numbers.Integral) else float(value)


def _shape(value: Any, what: str) -> list[int]:
    if isinstance(value, str):
        parsed = normalise_shape(value)
        if parsed is None:
            raise ValueError(f"{what}: {value!r} is not a shape")
        return list(parsed)
    if not isinstance(value, Iterable):
        raise TypeError(f"{what} must be a tuple of ints, got {type(value).__name__}")
    items = list(value)
    if not items or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                            and v >= 0 for v in items):
        raise ValueError(f"{what} must be a non-empty tuple of ints ≥ 0, got {value!r}")
    return [int(v) for v in items]


def _plain(text: str) -> str:
    """Feedback is shown as plain text (textContent), so `code` back-ticks are dropped."""
    return text.replace("`", "")


def _text(value: Any, what: str, lang: str = "en") -> str:
    """A non-empty text, translated into ``lang`` (an :class:`~convlab.i18n.Message` or a str
    whose English text is a message id)."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{what} must be a non-empty str, got {value!r}")
    return i18n.translator(lang)(value)


def _revisit(revisit: str, lang: str) -> str:
    return _plain(i18n.translator(lang)(revisit)) if revisit else ""


def number(question: str, answer: Any, *, hints: dict[Any, str] | None = None,
           revisit: str = "", tolerance: float = 0, lang: str = "en") -> Question:
    """A question answered with a number; correct within ``tolerance`` (default: exact).

    ``hints`` map a typical wrong number to a message naming the mistake. Every text (the
    question, hints, ``revisit`` and the interface) is shown in ``lang``
    (:mod:`convlab.i18n`; the English text is the message id).
    """
    value = _real(answer, "answer")
    tolerance = _real(tolerance, "tolerance")
    if tolerance < 0:
        raise ValueError(f"tolerance must be ≥ 0, got {tolerance}")
    pairs = []
    for key, text in (hints or {}).items():
        wrong = _real(key, "a hint's key")
        if _near(wrong, value, tolerance):
            raise ValueError(f"the hint for {key} would be shown for a correct answer "
                             f"({value} ± {tolerance})")
        pairs.append([wrong, _plain(_text(text, f"the hint for {key}", lang))])
    return Question("number", _text(question, "question", lang),
                    {"answer": value, "tolerance": tolerance, "hints": pairs,
                     "revisit": _revisit(revisit, lang)}, lang=lang)


def shape(question: str, answer: Any, *, hints: dict[Any, str] | None = None,
          revisit: str = "", lang: str = "en") -> Question:
    """A question answered with a tensor shape, e.g. ``answer=tuple(conv(x).shape)``.

    ``hints`` map a typical wrong shape (a tuple, or a string like ``"1, 8, 12, 12"``) to a
    message. Texts are shown in ``lang``.
    """
    value = _shape(answer, "answer")
    pairs = []
    for key, text in (hints or {}).items():
        wrong = _shape(key, "a hint's key")
        if wrong == value:
            raise ValueError(f"the hint for {key} would be shown for the correct answer")
        pairs.append([wrong, _plain(_text(text, f"the hint for {key}", lang))])
    return Question("shape", _text(question, "question", lang),
                    {"answer": value, "hints": pairs, "revisit": _revisit(revisit, lang)},
                    lang=lang)


def _indexed_hints(hints: dict[Any, str] | None, index_of: Any,
                   lang: str = "en") -> list[list[Any]]:
    pairs = [[index_of(key), _plain(_text(text, f"the hint for {key!r}", lang))]
             for key, text in (hints or {}).items()]
    return sorted(pairs, key=lambda pair: pair[0])


def choice(question: str, options: list[str], correct: int | set[int], *,
           hints: dict[int, str] | None = None, revisit: str = "",
           lang: str = "en") -> Question:
    """A multiple-choice question: ``correct`` is an index (radio buttons) or a set of indices
    (checkboxes, "select all that apply"). ``hints`` map an option index to a message shown
    when that option is wrongly selected (or, for a set, wrongly left out). Texts (options
    too) are shown in ``lang``."""
    items = [_text(option, "each option", lang) for option in options]
    if len(items) < 2:
        raise ValueError(f"a choice needs at least 2 options, got {len(items)}")

    def index_of(key: Any) -> int:
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or not (
                0 <= key < len(items)):
            raise ValueError(f"option index {key!r} is not in 0..{len(items) - 1}")
        return int(key)

    multiple = isinstance(correct, set | frozenset | list | tuple)
    right = sorted(index_of(c) for c in correct) if multiple else [index_of(correct)]
    if not right:
        raise ValueError("correct must name at least one option")
    return Question("choice", _text(question, "question", lang),
                    {"correct": right, "multiple": multiple,
                     "hints": _indexed_hints(hints, index_of, lang),
                     "revisit": _revisit(revisit, lang)},
                    items, lang=lang)


def cells(question: str, labels: list[str], changed: set[str], *,
          hints: dict[str, str] | None = None, revisit: str = "",
          lang: str = "en") -> Question:
    """"Which of these change?": one checkbox per label; ``changed`` is the set that does.

    An empty selection is a valid answer ("none of them"). ``hints`` map a label to a message
    shown when that label is misjudged (chapter 3's autograd predictions). The labels are code
    (tensor names) and stay as they are; the other texts are shown in ``lang``.
    """
    items = [_text(label, "each label") for label in labels]
    if len(set(items)) != len(items) or not items:
        raise ValueError(f"labels must be distinct and non-empty, got {labels!r}")

    def index_of(key: Any) -> int:
        if key not in items:
            raise ValueError(f"{key!r} is not one of the labels {items}")
        return items.index(key)

    if isinstance(changed, str) or not isinstance(changed, Iterable):
        raise TypeError(f"changed must be a set of labels, got {changed!r}")
    right = sorted(index_of(label) for label in set(changed))
    return Question("cells", _text(question, "question", lang),
                    {"correct": right, "multiple": True,
                     "hints": _indexed_hints(hints, index_of, lang),
                     "revisit": _revisit(revisit, lang)},
                    items, lang=lang)


__all__ = ["Question", "cells", "choice", "normalise_number", "normalise_shape", "number",
           "quiz_js", "shape", "ui_texts"]
