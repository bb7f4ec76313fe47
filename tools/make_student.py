"""Write student and instructor notebooks (.ipynb) from the chapters' MyST sources.

Usage: python tools/make_student.py [--src book] [--out _build/notebooks] [--lang en zh_CN]

For every chapter ``<src>/0*.md`` (jupytext MyST) this writes

* ``<out>/student/<name>.ipynb`` — without solutions: every ``solution`` directive (backtick
  or colon fence), everything between ``solution-start`` and ``solution-end``, and every code
  cell tagged ``solution`` is removed. Stubs (``exercise-stub``) stay, so the checker reports
  "not implemented yet" until the learner writes their code. ``exercise`` directives become a
  bold "Exercise:" heading, which reads well in Jupyter;
* ``<out>/instructor/<name>.ipynb`` — everything, as in the book.

Both have no outputs. A ``solution-start`` without its ``solution-end`` (or the reverse) is an
error naming the file, so a broken chapter never leaks a solution.

For a translated edition (``--lang zh_CN``) the same notebooks are written into
``<out>/student/<lang>/`` and ``<out>/instructor/<lang>/``, from the chapters translated by
``tools/translate_notebook.py`` (markdown from the site's catalogues, code cells unchanged except
``LANG = "<lang>"``); a block without a translation is an error. By default every language
with a catalogue is written.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import translate_notebook  # noqa: E402

DIRECTIVE = re.compile(r"^ {0,3}(?P<fence>`{3,}|:{3,})\{(?P<name>[\w-]+)\}(?P<arg>.*)$")
SOLUTION_NAMES = {"solution", "solution-start", "solution-end"}
STUDENT_NOTE = ("*Student copy: the solutions are removed. Run each stub cell after writing "
                "your code, then the checker cell below it.*")


def _closing(lines: list[str], start: int, fence: str, where: str) -> int:
    """Index of the line closing the directive opened at ``start`` with ``fence``."""
    closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
    for j in range(start + 1, len(lines)):
        if closing.match(lines[j]):
            return j
    raise ValueError(f"{where}: the directive opened by {lines[start].strip()!r} is never closed")


def _exercise_heading(lines: list[str], title: str, word: str = "Exercise") -> list[str]:
    """An exercise directive's body under a bold heading (options like :label: dropped);
    ``word`` is "Exercise" in the notebook's language."""
    body = [line for line in lines if not re.match(r"^:[\w-]+:", line)]
    while body and not body[0].strip():
        body.pop(0)
    colon = "：" if not word.isascii() else ": "
    return [f"**{word}{colon}{title.strip()}**\n", "\n", *body, "\n"]


def strip_markdown(text: str, inside: bool, where: str,
                   word: str = "Exercise") -> tuple[str, bool]:
    """Remove solutions from one markdown cell; ``inside`` says whether a solution-start block
    is open when the cell begins (it may span code cells). Returns (text, inside at the end)."""
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = DIRECTIVE.match(lines[i].rstrip("\n"))
        name = match["name"] if match else ""
        if name in SOLUTION_NAMES or (name == "exercise" and not inside):
            end = _closing(lines, i, match["fence"], where)
            if name == "solution-start":
                if inside:
                    raise ValueError(f"{where}: solution-start inside another solution-start")
                inside = True
            elif name == "solution-end":
                if not inside:
                    raise ValueError(f"{where}: solution-end without a solution-start")
                inside = False
            elif name == "exercise":
                out += _exercise_heading(lines[i + 1:end], match["arg"], word)
            i = end + 1
            continue
        if not inside:
            out.append(lines[i])
        i += 1
    return "".join(out).strip("\n"), inside


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """No outputs, no execution counts, no jupytext pairing metadata."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("jupytext", None)
    return nb


def student_notebook(nb: nbformat.NotebookNode, where: str, word: str = "Exercise",
                     note: str = STUDENT_NOTE) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solutions (see the module docstring); ``word`` and ``note`` are
    the exercise heading's word and the opening note, in the notebook's language."""
    cells = []
    inside = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text, inside = strip_markdown(cell.source, inside, where, word)
            if text.strip():
                cells.append(nbformat.v4.new_markdown_cell(text, metadata=cell.metadata))
        elif not inside and "solution" not in cell.metadata.get("tags", []):
            cells.append(cell)
    if inside:
        raise ValueError(f"{where}: a solution-start is never ended with solution-end")
    student = nbformat.v4.new_notebook(metadata=dict(nb.metadata))
    student.cells = [nbformat.v4.new_markdown_cell(note), *cells]
    return _clean(student)


def languages(locales: Path = translate_notebook.LOCALES) -> list[str]:
    """English and every language with notebook texts (``locales/<lang>/notebooks.po``)."""
    return ["en", *sorted(path.parent.name for path in locales.glob("*/notebooks.po"))]


def make(src: Path, out: Path, lang: str = "en", flat: bool = False,
         locales: Path = translate_notebook.LOCALES) -> list[Path]:
    """Write student/ and instructor/ notebooks for every chapter ``src/0*.md`` in ``lang``:
    into ``out/<kind>/`` for English (or when ``flat``, as the site does for its own edition),
    else into ``out/<kind>/<lang>/``."""
    written = []
    word, note = "Exercise", STUDENT_NOTE
    if lang != "en":
        texts = translate_notebook.notebook_messages(lang, locales)
        word = translate_notebook.notebook_text(word, texts)
        note = translate_notebook.notebook_text(note, texts)
    for chapter in sorted(src.glob("0*.md")):
        if lang == "en":
            nb, instructor = jupytext.read(chapter), _clean(jupytext.read(chapter))
        else:
            nb = translate_notebook.translate_chapter(chapter, lang, locales)
            instructor = _clean(translate_notebook.translate_chapter(chapter, lang, locales))
        student = student_notebook(nb, str(chapter), word, note)
        for kind, notebook in (("student", student), ("instructor", instructor)):
            folder = out / kind if lang == "en" or flat else out / kind / lang
            target = folder / f"{chapter.stem}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.validate(notebook)
            nbformat.write(notebook, target)
            written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("book"))
    parser.add_argument("--out", type=Path, default=Path("_build/notebooks"))
    parser.add_argument("--lang", nargs="+", default=None,
                        help="languages to write (default: English and every translation)")
    args = parser.parse_args()
    for lang in args.lang or languages():
        try:
            written = make(args.src, args.out, lang)
        except (ValueError, FileNotFoundError) as err:
            print(f"make_student: {err}", file=sys.stderr)
            return 1
        where = "" if lang == "en" else f"/{lang}"
        print(f"wrote {len(written) // 2} student and {len(written) // 2} instructor notebooks "
              f"({lang}) to {args.out}/student{where} and {args.out}/instructor{where}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
