"""The site extension's page fixes touch only their own edition's pages (book/_ext/convlab_site.py).

The Chinese edition is built beside the English one and published into ``_build/html/zh``;
whichever build finishes last must not rewrite the other's pages (the English build once
renamed the Chinese pages' logo landmark back to "Home").
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import convlab_site  # noqa: E402


def _site(root: Path, pages: list[str]) -> None:
    (root / "searchindex.js").parent.mkdir(parents=True, exist_ok=True)
    (root / "searchindex.js").write_text("Search.setIndex({})", encoding="utf-8")
    for page in pages:
        (root / page).parent.mkdir(parents=True, exist_ok=True)
        (root / page).write_text("<html></html>", encoding="utf-8")


def test_own_pages_leave_out_an_edition_published_inside(tmp_path: Path) -> None:
    _site(tmp_path, ["index.html", "book/01_convolution.html", "_static/x.html"])
    _site(tmp_path / "zh", ["index.html", "book/01_convolution.html"])
    own = [p.relative_to(tmp_path).as_posix() for p in convlab_site.own_pages(tmp_path)]
    assert own == ["_static/x.html", "book/01_convolution.html", "index.html"]


def test_a_folder_without_its_own_search_index_is_part_of_the_site(tmp_path: Path) -> None:
    _site(tmp_path, ["index.html", "book/zh.html", "zh-notes/a.html"])
    own = [p.relative_to(tmp_path).as_posix() for p in convlab_site.own_pages(tmp_path)]
    assert own == ["book/zh.html", "index.html", "zh-notes/a.html"]
