"""The printed output of every cell appears once, in one piece, on the page and in the notebook.

A cell that prints over time reaches the build as several ``stdout`` chunks. myst-nb merges them
for the page (``nb_merge_streams``), but it used to merge them in place and write the
downloadable ``_sources/<page>.ipynb`` with the later chunks still in it, so those lines showed
twice there (``book/_ext/convlab_site.py`` now writes the merged list back). These checks read
the built files (marker ``site``: run after ``make book``).
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import SITE

pytestmark = pytest.mark.site

NOTEBOOKS = sorted((SITE / "_sources").rglob("*.ipynb"))


def _code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [cell for cell in cells if cell["cell_type"] == "code"]


def _text(output: dict) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def test_every_chapter_notebook_is_built():
    assert len([p for p in NOTEBOOKS if re.match(r"0\d_", p.name)]) == 5


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_downloaded_notebook_has_one_stream_per_cell_and_name(path):
    for index, cell in enumerate(_code_cells(path)):
        names = [o["name"] for o in cell.get("outputs", []) if o["output_type"] == "stream"]
        assert len(names) == len(set(names)), (
            f"{path.name}, code cell {index}: stream outputs {names} — split output "
            f"(starts {''.join(cell['source'])[:60]!r})")


def test_gan_cell_prints_each_result_once_on_one_line():
    """Chapter 3's GAN cell: the two outcomes, once each, label and value on one line."""
    (path,) = [p for p in NOTEBOOKS if p.name.startswith("03_")]
    for cell in _code_cells(path):
        if "G's .grad:" in "".join(cell["source"]):
            text = "".join(_text(o) for o in cell["outputs"] if o["output_type"] == "stream")
            lines = text.splitlines()
            assert [line.split(":")[0] for line in lines] == ["detach=True ", "detach=False"]
            assert lines[0] == "detach=True : G's .grad: all None"
            assert lines[1].startswith("detach=False: G's .grad: filled, norms ")
            page = (SITE / "book" / path.name).with_suffix(".html").read_text(encoding="utf-8")
            shown = html.unescape(re.sub(r"<[^>]+>", "", page))
            assert shown.count(lines[0]) == 1 and shown.count(lines[1]) == 1
            return
    pytest.fail("chapter 3 has no cell printing G's .grad")


class _OutputBlocks(HTMLParser):
    """Per cell output area (div.cell_output), the classes of its output blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.areas: list[list[str]] = []
        self._depth = 0  # div nesting inside the current cell_output, 0 = outside

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "div":
            return
        classes = (dict(attrs).get("class") or "").split()
        if self._depth:
            self._depth += 1
            if self._depth == 2 and "output" in classes:
                self.areas[-1].append(" ".join(c for c in classes if c != "output"))
        elif "cell_output" in classes:
            self._depth = 1
            self.areas.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag == "div" and self._depth:
            self._depth -= 1


CHAPTER_PAGES = sorted((SITE / "book").glob("0*.html"))


@pytest.mark.parametrize("page", CHAPTER_PAGES, ids=[p.stem for p in CHAPTER_PAGES])
def test_page_shows_each_cells_stdout_in_one_block(page):
    parser = _OutputBlocks()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.areas, f"{page.name}: no cell outputs found"
    for index, blocks in enumerate(parser.areas):
        streams = [b for b in blocks if b.startswith("stream")]
        assert len(streams) == len(set(streams)), f"{page.name}, output area {index}: {blocks}"
