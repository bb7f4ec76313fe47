"""The language of every text convlab makes, passed explicitly (all chapters; issue "中文版").

The English text is the message id. A chapter reads the book's language once, in its first code
cell, and passes it to every convlab call that makes reader-visible text::

    from convlab import i18n
    LANG = i18n.book_language()          # "en", or "zh_CN" in the Chinese build
    quiz.number("Output size for i=28, k=5, p=2?", answer=..., lang=LANG)

Nothing here is global state: the language is an argument; :func:`book_language` only reads the
environment variable ``CONVLAB_LANG`` when it is called (the Chinese build sets it in its kernel).

Texts with values are templates with named fields, ``"Output size {o}"``; the template is the
message id, the fields are filled in after translation (``str.format``). Two ways to use them:

* ``_ = translator(lang)`` then ``_("Output size {o}", o=5)`` — translate and fill in now;
* ``message("Output size {o}", o=5)`` — a :class:`Message`: a ``str`` equal to the English text
  that also remembers its template and fields, so code that only *collects* texts (checkers,
  feedback) needs no language; whoever displays it calls :func:`translate` with the language.

Translations live in ``convlab/locales/<lang>/LC_MESSAGES/convlab.po`` (package data, read with
Babel; ``tools/extract_messages.py`` keeps it in step with the sources and the chapters). At
run time a message without a translation — missing or fuzzy — falls back to English; the tests
(``tests/test_i18n_convlab.py``) fail instead on any of convlab's own messages left untranslated
(:func:`untranslated`). The texts the chapters pass (quick checks, captions) share the catalogue
and are translated with the chapters' prose.
"""

from __future__ import annotations

import json
import os
import re
import string
import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from typing import Any

ENGLISH = "en"
SUPPORTED = ("en", "zh_CN")
"""The languages convlab speaks; English is the source language (the message ids)."""

ENV_VAR = "CONVLAB_LANG"
"""The environment variable the book build sets to choose the chapters' language."""

DOMAIN = "convlab"


_JS_STRING = r'"(?:[^"\\\n]|\\.)*"'
_JS_CALL = re.compile(r"\bt\(\s*(" + _JS_STRING + r"(?:\s*\+\s*" + _JS_STRING + r")*)")


def js_message_ids(source: str) -> list[tuple[str, int]]:
    """The message ids of a script: the text of each ``t("…")`` call (a string literal, or
    literals joined with ``+``) with its line number."""
    found = []
    for match in _JS_CALL.finditer(source):
        pieces = re.findall(_JS_STRING, match.group(1))
        text = "".join(json.loads(piece) for piece in pieces)
        found.append((text, source.count("\n", 0, match.start()) + 1))
    return found


def check_language(lang: Any) -> str:
    """``lang`` if it is one of :data:`SUPPORTED`, else a ``ValueError`` naming them."""
    if not isinstance(lang, str) or lang not in SUPPORTED:
        raise ValueError(f"unknown language {lang!r}: convlab supports "
                         f"{', '.join(repr(s) for s in SUPPORTED)}")
    return lang


def book_language(environ: Mapping[str, str] | None = None) -> str:
    """The book's language: ``CONVLAB_LANG`` from the environment (default ``"en"``).

    Called once, explicitly, in each chapter's first code cell; an unknown value is an error
    naming the supported languages.
    """
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "").strip() or ENGLISH
    try:
        return check_language(value)
    except ValueError as err:
        raise ValueError(f"{ENV_VAR}={value!r}: {err}") from None


def catalogue_path(lang: str) -> Any:
    """Where the catalogue of ``lang`` lives (a Traversable inside the package)."""
    return resources.files("convlab").joinpath(
        "locales", check_language(lang), "LC_MESSAGES", f"{DOMAIN}.po")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """English message id → translation, for the translated, non-fuzzy messages of ``lang``.

    English has no catalogue (the ids are the English texts). Read once per language.
    """
    if check_language(lang) == ENGLISH:
        return {}
    from babel.messages.pofile import read_po  # Babel comes with Sphinx (pinned)

    path = catalogue_path(lang)
    if not path.is_file():
        return {}
    with path.open("rb") as handle:
        po = read_po(handle, locale=lang, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in po
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def gettext(text: str, lang: str) -> str:
    """The translation of the English ``text`` in ``lang`` (the template, not filled in).

    A message without a translation falls back to English.
    """
    if check_language(lang) == ENGLISH:
        return text
    return catalogue(lang).get(text, text)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a monospace or figure font: a wide (CJK) character counts 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fields_of(template: str) -> set[str]:
    """The named fields of a template: ``{"o", "i"}`` for ``"o = {o} for i = {i:d}"``."""
    return {name.split(".")[0].split("[")[0]
            for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, lang: str, fields: Mapping[str, Any] | None = None) -> str:
    """``template`` translated into ``lang`` and filled in with ``fields``.

    Fields that are :class:`Message` objects are translated too. Without fields the text is
    returned as it is (so braces in a plain text need no escaping).
    """
    text = gettext(template, lang)
    if not fields:
        return text
    return text.format_map({k: translate(v, lang) for k, v in fields.items()})


class Message(str):
    """A text that is its English rendering *and* knows its template and fields.

    It behaves as a ``str`` everywhere (so English output is unchanged); :func:`translate`
    renders it in another language.
    """

    template: str
    fields: dict[str, Any]

    def __new__(cls, template: str, /, **fields: Any) -> Message:
        english = template.format_map(fields) if fields else template
        self = super().__new__(cls, english)
        self.template = template
        self.fields = fields
        return self

    def translate(self, lang: str) -> str:
        """This text in ``lang`` (a plain ``str``)."""
        return render(self.template, lang, self.fields)


def message(template: str, /, **fields: Any) -> Message:
    """A :class:`Message`: translate it later with :func:`translate` (or pass it to convlab).

    A text given without fields becomes a message whose id is the text itself (a
    :class:`Message` is returned as it is).
    """
    if isinstance(template, Message) and not fields:
        return template
    return Message(template, **fields)


def translate(text: Any, lang: str) -> Any:
    """``text`` in ``lang`` if it is a :class:`Message`; any other value unchanged."""
    if isinstance(text, Message):
        return text.translate(lang)
    return text


class Translator:
    """Translates convlab's texts into one language: ``_("Output size {o}", o=5)``."""

    def __init__(self, lang: str) -> None:
        self.lang = check_language(lang)

    def __call__(self, template: str, /, **fields: Any) -> str:
        """``template`` (an English text or template) in this language, filled in."""
        if isinstance(template, Message):
            return template.translate(self.lang)
        return render(template, self.lang, fields)

    def sentences(self, *texts: str) -> str:
        """``texts`` one after the other, as this language puts sentences together (the
        message ``"{sentence} {next}"``: English leaves a space between them, Chinese none)."""
        joined = texts[0]
        for text in texts[1:]:
            joined = render("{sentence} {next}", self.lang, {"sentence": joined, "next": text})
        return joined

    def __repr__(self) -> str:
        return f"Translator({self.lang!r})"


def translator(lang: str) -> Translator:
    """A :class:`Translator` for ``lang`` (checked against :data:`SUPPORTED`)."""
    return Translator(lang)


def untranslated(lang: str, msgids: Iterable[str]) -> list[str]:
    """The message ids among ``msgids`` that ``lang``'s catalogue does not translate (tests)."""
    if check_language(lang) == ENGLISH:
        return []
    known = catalogue(lang)
    return sorted(m for m in set(msgids) if m not in known)


__all__ = ["ENGLISH", "ENV_VAR", "SUPPORTED", "Message", "Translator", "book_language",
           "catalogue", "catalogue_path", "check_language", "fields_of", "gettext", "message",
           "render", "translate", "translator", "untranslated"]
