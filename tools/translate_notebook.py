"""Translate a chapter notebook's markdown cells with the site's gettext catalogue.

Usage: python tools/translate_notebook.py book/01_convolution.md zh_CN [--out x.ipynb]

The Chinese site is built by Sphinx from ``locales/<lang>/LC_MESSAGES/book/<chapter>.po``, whose
message ids are the MyST source of each translatable block (paragraph, heading, list item, table
cell, math block, directive title) with its lines joined by spaces. This module applies the same
catalogue to the chapter's notebook, block by block:

* each markdown cell is parsed with MyST's own markdown-it configuration, which gives every block
  its source lines; the block's text (lines joined by spaces, as Sphinx extracts it) is looked up
  in the catalogue and its lines are replaced by the translation, keeping the indentation and
  the list marker or table layout;
* directives (``{admonition}``, ``{exercise}``, ``{solution}``, ``{going-further-start}`` …):
  the title (the argument) is translated; options (``:label:``, ``:class:``) stay as they are;
  the body is translated the same way, recursively;
* code cells are not touched, except the line ``LANG = i18n.book_language()``, which becomes
  ``LANG = "<lang>"``: a learner's kernel has no ``CONVLAB_LANG``, so the notebook says its
  language explicitly.

A block with no translation is an error (:class:`Untranslated` lists every one), never left in
English silently.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANG_LINE = re.compile(r"^(?P<indent>\s*)LANG = i18n\.book_language\(\).*$", re.MULTILINE)
DIRECTIVE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}(?P<arg>.*)$")
OPTION = re.compile(r"^\s*:[\w-]+:")
#: Directives whose argument is not text (a label, a file) and whose body is not MyST.
VERBATIM = {"code-cell", "code", "code-block", "math", "raw", "eval-rst", "reading-time"}
TITLED = {"admonition", "exercise", "going-further-start", "figure"}

class Untranslated(ValueError):
    """Blocks of a chapter that have no translation in its catalogue."""

    def __init__(self, where: str, blocks: list[str]) -> None:
        self.blocks = blocks
        listed = "\n".join(f"  - {block[:100]!r}" for block in blocks)
        super().__init__(f"{where}: {len(blocks)} markdown block(s) have no translation "
                         f"in the catalogue:\n{listed}")


def catalogue_path(chapter: Path, lang: str, locales: Path = LOCALES) -> Path:
    """``locales/<lang>/LC_MESSAGES/book/<chapter>.po``."""
    return locales / lang / "LC_MESSAGES" / "book" / f"{chapter.stem}.po"


def read_catalogue(path: Path) -> dict[str, str]:
    """Message id → translation, for the translated, non-fuzzy messages of one .po file."""
    from babel.messages.pofile import read_po

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no catalogue for this chapter (run `make po`)")
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {message.id: message.string for message in catalog
            if message.id and isinstance(message.id, str) and message.string
            and not message.fuzzy}


def notebook_messages(lang: str, locales: Path = LOCALES) -> dict[str, str]:
    """``locales/<lang>/notebooks.po``: the exercise titles (Sphinx's gettext builder does not
    extract sphinx-exercise's titles) and the texts the notebook generators write."""
    return read_catalogue(locales / lang / "notebooks.po")


def notebook_text(text: str, messages: dict[str, str], where: str = "notebooks.po") -> str:
    """The translation of a text a generator writes; an error naming it when there is none."""
    if text not in messages:
        raise Untranslated(where, [text])
    return messages[text]


def _parser():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    config = MdParserConfig(enable_extensions={"amsmath", "colon_fence", "dollarmath",
                                               "substitution"})
    return create_md_parser(config, RendererHTML)


@dataclass
class _Translator:
    messages: dict[str, str]
    missing: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.md = _parser()

    def lookup(self, text: str) -> str | None:
        key = " ".join(line.strip() for line in text.strip("\n").split("\n")).strip()
        if key in self.messages:
            return self.messages[key]
        if text in self.messages:  # math blocks keep their newlines
            return self.messages[text]
        self.missing.append(key)
        return None

    def block(self, text: str) -> str:
        """Translate MyST text (a cell or a directive's body)."""
        lines = text.splitlines(keepends=True)
        out = list(lines)
        tokens = self.md.parse(text)
        replaced: dict[int, tuple[int, list[str]]] = {}  # first line → (end, new lines)
        for index, token in enumerate(tokens):
            if token.map is None:
                continue
            start, end = token.map
            if token.type == "inline" and token.content.strip():
                if index and tokens[index - 1].type in ("th_open", "td_open"):
                    continue  # table rows are rewritten cell by cell (tr_open)
                translated = self.lookup(token.content)
                if translated is not None:
                    replaced[start] = (end, self._inline_lines(lines[start:end], translated))
            elif token.type == "tr_open":
                replaced[start] = (end, [self._table_row(lines[start])])
            elif token.type == "math_block":
                translated = self.lookup(token.content if token.content.startswith("\n")
                                         else "\n" + token.content)
                if translated is not None and translated != token.content:
                    first = lines[start]
                    replaced[start] = (end, [first, translated.strip("\n") + "\n",
                                             lines[end - 1]])
            elif token.type in ("fence", "colon_fence"):
                replaced[start] = (end, self._directive(lines[start:end]))
        for start in sorted(replaced, reverse=True):
            end, new = replaced[start]
            out[start:end] = new
        return "".join(out)

    def _inline_lines(self, lines: list[str], translated: str) -> list[str]:
        """A block's source lines replaced by its translation, on one line, with the first
        line's prefix (indentation, heading marks, list marker, quote mark) kept."""
        first = lines[0]
        body = first.lstrip()
        marker = re.match(r"^(#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)", body)
        prefix = first[:len(first) - len(body)] + (marker[0] if marker else "")
        ending = "\n" if lines[-1].endswith("\n") else ""
        return [prefix + translated + ending]

    def _table_row(self, line: str) -> str:
        """One table row (``| a | b |``), cell by cell; the delimiter row stays."""
        if re.match(r"^\s*\|?[\s:|-]+\|?\s*$", line):
            return line
        cells = line.rstrip("\n").split("|")
        inner = cells[1:-1] if line.strip().startswith("|") else cells
        translated = []
        for cell in inner:
            text = cell.strip()
            new = self.lookup(text) if text else ""
            translated.append(f" {new if new is not None else text} ")
        return "|" + "|".join(translated) + "|\n"

    def _directive(self, lines: list[str]) -> list[str]:
        match = DIRECTIVE.match(lines[0].rstrip("\n"))
        if match is None or match["name"] in VERBATIM:
            return lines  # a code block, or a directive without text
        head = lines[0]
        arg = match["arg"].strip()
        if arg and match["name"] in TITLED:
            new = self.lookup(arg)
            if new is not None:
                head = f"{match['indent']}{match['fence']}{{{match['name']}}} {new}\n"
        closing = len(lines) - 1 if len(lines) > 1 and lines[-1].strip().startswith(
            match["fence"][0] * 3) else len(lines)
        body = lines[1:closing]
        options = 0
        while options < len(body) and OPTION.match(body[options]):
            options += 1
        inner = "".join(body[options:])
        translated = self.block(inner) if inner.strip() else inner
        return [head, *body[:options], translated, *lines[closing:]]


def set_language(source: str, lang: str) -> str:
    """A code cell with ``LANG = i18n.book_language()`` set to ``LANG = "<lang>"``."""
    return LANG_LINE.sub(lambda m: f'{m["indent"]}LANG = "{lang}"', source)


def translate(nb: nbformat.NotebookNode, messages: dict[str, str], lang: str,
              where: str = "notebook") -> nbformat.NotebookNode:
    """A translated copy of ``nb`` (a chapter read with jupytext); raises :class:`Untranslated`
    listing every block without a translation."""
    translator = _Translator(messages)
    result = nbformat.v4.new_notebook(metadata=dict(nb.metadata))
    for cell in nb.cells:
        copy = nbformat.from_dict(dict(cell))
        if cell.cell_type == "markdown":
            copy.source = translator.block(cell.source)
        elif cell.cell_type == "code":
            copy.source = set_language(cell.source, lang)
        result.cells.append(copy)
    if translator.missing:
        raise Untranslated(where, translator.missing)
    return result


def translate_chapter(chapter: Path, lang: str,
                      locales: Path = LOCALES) -> nbformat.NotebookNode:
    """The chapter (``book/<name>.md``) as a notebook in ``lang``."""
    messages = {**notebook_messages(lang, locales),
                **read_catalogue(catalogue_path(chapter, lang, locales))}
    return translate(jupytext.read(chapter), messages, lang, str(chapter))


def read_chapter(chapter: Path, lang: str = "en",
                 locales: Path = LOCALES) -> nbformat.NotebookNode:
    """The chapter as a notebook: as written for English, else translated into ``lang``."""
    return jupytext.read(chapter) if lang == "en" else translate_chapter(chapter, lang, locales)


ASSIGNMENT_TITLE = re.compile(r"^# Assignment: (?P<title>.+?)\n\n(?P<intro>.*)$", re.DOTALL)


def translate_assignment(nb: nbformat.NotebookNode, lang: str,
                         locales: Path = LOCALES) -> nbformat.NotebookNode:
    """The texts ``tools/make_assignments.py`` writes itself, in ``lang`` (the exercises' texts
    come from the translated chapter): the title and instructions, the exercise headings, the
    answer template's and model answer's lead-ins, the rubric, the test cells' comments; the
    setup cell sets ``LANG = "<lang>"``. Each text comes from ``locales/<lang>/notebooks.po``;
    one without a translation is an error. For English, ``nb`` itself."""
    if lang == "en":
        return nb
    messages = notebook_messages(lang, locales)

    def text(english: str) -> str:
        return notebook_text(english, messages, f"{locales / lang / 'notebooks.po'}")

    word = text("Exercise")
    leads = {english: text(english)
             for english in ("Your answer cell starts from:", "**Model answer.**")}
    comments = ("# Run this cell for the checker's feedback; graded on fixed public cases.",
                "# Hidden tests: new cases, graded in a clean process when your work is collected.")
    result = nbformat.from_dict(nb)
    for cell in result.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        source = cell.source
        if grade_id == "intro":
            match = ASSIGNMENT_TITLE.match(source)
            if match is None:
                raise Untranslated("assignment", [source])
            source = (f"# {text('Assignment')}：{text(match['title'])}\n\n"
                      f"{text(match['intro'].strip())}")
        elif grade_id == "setup":
            source = set_language(source, lang)
        elif cell.cell_type == "markdown":
            source = source.replace("**Exercise: ", f"**{word}：", 1)
            for english, new in leads.items():
                if source.startswith(english):
                    source = new + source[len(english):]
            for rubric in [m for m in messages if m.startswith("**Rubric")]:
                source = source.replace(rubric, messages[rubric])
        else:
            for comment in comments:
                source = source.replace(comment, text(comment))
        cell.source = source
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapter", type=Path)
    parser.add_argument("lang")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    try:
        nb = translate_chapter(args.chapter, args.lang)
    except (Untranslated, FileNotFoundError) as err:
        print(f"translate_notebook: {err}", file=sys.stderr)
        return 1
    out = args.out or Path(f"{args.chapter.stem}.{args.lang}.ipynb")
    nbformat.write(nb, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
