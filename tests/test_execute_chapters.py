"""Tests for tools/execute_chapters.py: notebooks executed ahead of the build, into the cache
myst-nb reads, under the key myst-nb looks up."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
spec = importlib.util.spec_from_file_location("execute_chapters",
                                              ROOT / "tools" / "execute_chapters.py")
execute_chapters = importlib.util.module_from_spec(spec)
sys.modules["execute_chapters"] = execute_chapters  # its worker processes find it by name
spec.loader.exec_module(execute_chapters)

FRONT = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def tiny_book(root: Path, cells: list[str]) -> None:
    """A book of one plain page and one notebook page with ``cells``."""
    (root / "book").mkdir(parents=True)
    (root / "_config.yml").write_text(
        "execute:\n  execute_notebooks: cache\n  cache: _build/.jupyter_cache\n  timeout: 60\n"
        "parse:\n  myst_enable_extensions: [colon_fence, dollarmath]\n", encoding="utf-8")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n  - file: book/nb\n", encoding="utf-8")
    (root / "book" / "intro.md").write_text("# Intro\n\nNo code here.\n", encoding="utf-8")
    body = "".join(f"\n```{{code-cell}} ipython3\n{cell}\n```\n" for cell in cells)
    (root / "book" / "nb.md").write_text(FRONT + "# A notebook\n" + body, encoding="utf-8")


def cached(root: Path) -> list:
    from jupyter_cache import get_cache

    return get_cache(str(root / "_build" / ".jupyter_cache")).list_cache_records()


def test_only_notebook_pages_of_the_toc_are_read(tmp_path: Path) -> None:
    tiny_book(tmp_path, ["1 + 1"])
    files = execute_chapters.toc_files(tmp_path)
    assert [p.name for p in files] == ["intro.md", "nb.md"]
    assert execute_chapters.read_notebook(files[0], tmp_path) is None
    nb = execute_chapters.read_notebook(files[1], tmp_path)
    assert [c.source for c in nb.cells if c.cell_type == "code"] == ["1 + 1"]


def test_a_notebook_is_executed_once_in_its_folder_and_cached(tmp_path: Path, capsys) -> None:
    tiny_book(tmp_path, ["import os\nprint(os.getcwd())",
                         "import os\nprint(os.environ['CONVLAB_LANG'])"])
    assert execute_chapters.main(["en", "--root", str(tmp_path), "--jobs", "1"]) == 0
    assert "Executing 1 notebooks" in capsys.readouterr().out
    from jupyter_cache import get_cache

    cache = get_cache(str(tmp_path / "_build" / ".jupyter_cache"))
    nb = execute_chapters.read_notebook(tmp_path / "book" / "nb.md", tmp_path)
    record = cache.match_cache_notebook(nb)  # the key the build looks up
    executed = cache.get_cache_bundle(record.pk).nb
    texts = [out["text"].strip() for c in executed.cells if c.cell_type == "code"
             for out in c.outputs]
    assert texts == [str(tmp_path / "book"), "en"]
    # a second run finds it and executes nothing
    assert execute_chapters.main(["en", "--root", str(tmp_path), "--jobs", "1"]) == 0
    assert capsys.readouterr().out == ""
    assert len(cached(tmp_path)) == 1


def test_a_failing_notebook_is_reported_and_left_to_the_build(tmp_path: Path, capsys) -> None:
    tiny_book(tmp_path, ["raise ValueError('the cell that fails')"])
    assert execute_chapters.main(["en", "--root", str(tmp_path), "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    assert "book/nb.md [en]: failed" in out and "ValueError" in out
    assert "the build runs it again" in out
    assert cached(tmp_path) == []


def test_jobs_must_be_positive(tmp_path: Path) -> None:
    tiny_book(tmp_path, ["1"])
    with pytest.raises(SystemExit):
        execute_chapters.main(["en", "--root", str(tmp_path), "--jobs", "0"])


@pytest.mark.site
def test_the_build_used_the_records_this_tool_made() -> None:
    """For every chapter of both editions, the newest record in the execution cache is the one
    this tool made, under the key its reading of the chapter gives: had myst-nb hashed a chapter
    otherwise, the build would have executed it again and its own record would be the newest."""
    from jupyter_cache import get_cache

    notebooks = {path: nb for path in execute_chapters.toc_files(ROOT)
                 if (nb := execute_chapters.read_notebook(path, ROOT)) is not None}
    assert len(notebooks) >= 6
    for language, cache_path in execute_chapters.caches(["en", "zh_CN"], ROOT).items():
        cache = get_cache(str(cache_path))
        records = cache.list_cache_records()
        for path, nb in notebooks.items():
            newest = max((r for r in records if r.uri == str(path)), key=lambda r: r.created)
            where = f"{path.name} [{language}]"
            assert newest.description == execute_chapters.DESCRIPTION, (
                f"{where}: the build executed it itself (was it built without `make book`?)")
            assert newest.pk == cache.match_cache_notebook(nb).pk, where
