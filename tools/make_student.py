"""Write student and instructor notebooks (.ipynb) from the chapters' MyST sources.

Usage: python tools/make_student.py [--src book] [--out _build/notebooks]

For every chapter ``<src>/0*.md`` (jupytext MyST) this writes

* ``<out>/student/<name>.ipynb`` — without solutions: every ``solution`` directive (backtick
  or colon fence), everything between ``solution-start`` and ``solution-end``, and every code
  cell tagged ``solution`` is removed. Stubs (``exercise-stub``) stay, so the checker reports
  "not implemented yet" until the learner writes their code. ``exercise`` directives become a
  bold "Exercise:" heading, which reads well in Jupyter;
* ``<out>/instructor/<name>.ipynb`` — everything, as in the book.

Both have no outputs. A ``solution-start`` without its ``solution-end`` (or the reverse) is an
error naming the file, so a broken chapter never leaks a solution.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import jupytext
import nbformat

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


def _exercise_heading(lines: list[str], title: str) -> list[str]:
    """An exercise directive's body under a bold heading (options like :label: dropped)."""
    body = [line for line in lines if not re.match(r"^:[\w-]+:", line)]
    while body and not body[0].strip():
        body.pop(0)
    return [f"**Exercise: {title.strip()}**\n", "\n", *body, "\n"]


def strip_markdown(text: str, inside: bool, where: str) -> tuple[str, bool]:
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
                out += _exercise_heading(lines[i + 1:end], match["arg"])
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


def student_notebook(nb: nbformat.NotebookNode, where: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solutions (see the module docstring)."""
    cells = []
    inside = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text, inside = strip_markdown(cell.source, inside, where)
            if text.strip():
                cells.append(nbformat.v4.new_markdown_cell(text, metadata=cell.metadata))
        elif not inside and "solution" not in cell.metadata.get("tags", []):
            cells.append(cell)
    if inside:
        raise ValueError(f"{where}: a solution-start is never ended with solution-end")
    student = nbformat.v4.new_notebook(metadata=dict(nb.metadata))
    student.cells = [nbformat.v4.new_markdown_cell(STUDENT_NOTE), *cells]
    return _clean(student)


def make(src: Path, out: Path) -> list[Path]:
    """Write student/ and instructor/ notebooks for every chapter ``src/0*.md``."""
    written = []
    for chapter in sorted(src.glob("0*.md")):
        nb = jupytext.read(chapter)
        student = student_notebook(nb, str(chapter))
        instructor = _clean(jupytext.read(chapter))
        for kind, notebook in (("student", student), ("instructor", instructor)):
            target = out / kind / f"{chapter.stem}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.validate(notebook)
            nbformat.write(notebook, target)
            written.append(target)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("book"))
    parser.add_argument("--out", type=Path, default=Path("_build/notebooks"))
    args = parser.parse_args()
    try:
        written = make(args.src, args.out)
    except ValueError as err:
        print(f"make_student: {err}", file=sys.stderr)
        return 1
    print(f"wrote {len(written) // 2} student and {len(written) // 2} instructor notebooks "
          f"to {args.out}/student and {args.out}/instructor")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
