"""Tests for tools/build_stamp.py: a clean build follows code changes, not comments or reverts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("build_stamp", ROOT / "tools" / "build_stamp.py")
build_stamp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_stamp)

MODULE = '''"""A module docstring."""


def area(h: int, w: int) -> int:
    """Area of a grid."""
    return h * w  # rows times columns
'''


def make_tree(root: Path) -> None:
    (root / "convlab").mkdir(parents=True)
    (root / "book" / "_ext").mkdir(parents=True)
    (root / "convlab" / "draw.py").write_text(MODULE, encoding="utf-8")
    (root / "convlab" / "explore.js").write_text("export const x = 1;\n", encoding="utf-8")
    (root / "book" / "_ext" / "site.py").write_text("X = 1\n", encoding="utf-8")
    (root / "requirements.txt").write_text("# pins\ntorch==2.13.0\n", encoding="utf-8")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_comments_docstrings_and_layout_do_not_change_the_hash(tmp_path):
    make_tree(tmp_path)
    before = build_stamp.code_hash(tmp_path)
    draw = tmp_path / "convlab" / "draw.py"
    edit(draw, "# rows times columns", "# a different comment")
    edit(draw, '"""Area of a grid."""', '"""The area of a grid, in cells."""')
    edit(draw, '"""A module docstring."""', '"""Another module docstring."""')
    edit(draw, "return h * w", "return (h\n            * w)")
    edit(tmp_path / "requirements.txt", "# pins", "# the pinned versions")
    assert build_stamp.code_hash(tmp_path) == before


def test_code_changes_change_the_hash_and_a_revert_restores_it(tmp_path):
    make_tree(tmp_path)
    before = build_stamp.code_hash(tmp_path)
    changes = [
        (tmp_path / "convlab" / "draw.py", "return h * w", "return h * w + 1"),
        (tmp_path / "convlab" / "explore.js", "x = 1", "x = 2"),
        (tmp_path / "book" / "_ext" / "site.py", "X = 1", "X = 2"),
        (tmp_path / "requirements.txt", "torch==2.13.0", "torch==2.12.0"),
    ]
    for path, old, new in changes:
        edit(path, old, new)
        assert build_stamp.code_hash(tmp_path) != before, path.name
        edit(path, new, old)
        assert build_stamp.code_hash(tmp_path) == before, path.name


def test_a_docstring_that_is_not_first_is_code(tmp_path):
    make_tree(tmp_path)
    before = build_stamp.code_hash(tmp_path)
    edit(tmp_path / "convlab" / "draw.py", "    return h * w", '    x = "text"\n    return h * w')
    assert build_stamp.code_hash(tmp_path) != before


def test_adding_or_renaming_a_module_changes_the_hash(tmp_path):
    make_tree(tmp_path)
    before = build_stamp.code_hash(tmp_path)
    (tmp_path / "convlab" / "draw.py").rename(tmp_path / "convlab" / "figures.py")
    renamed = build_stamp.code_hash(tmp_path)
    assert renamed != before
    (tmp_path / "convlab" / "extra.py").write_text("", encoding="utf-8")
    assert build_stamp.code_hash(tmp_path) != renamed


def test_check_cleans_the_build_only_when_the_code_changed(tmp_path):
    make_tree(tmp_path)
    build = tmp_path / "_build"
    stamp = build / ".convlab-stamp"

    def fill() -> None:
        for name in (*build_stamp.BUILD_OUTPUTS, "notebooks"):
            (build / name).mkdir(parents=True, exist_ok=True)
            (build / name / "file").write_text("x", encoding="utf-8")

    fill()
    assert build_stamp.check(tmp_path, stamp) is True  # no stamp yet: clean
    assert not any((build / name).exists() for name in build_stamp.BUILD_OUTPUTS)
    assert (build / "notebooks" / "file").is_file()  # only the listed outputs go
    fill()
    edit(tmp_path / "convlab" / "draw.py", "# rows times columns", "# reworded")
    assert build_stamp.check(tmp_path, stamp) is False
    assert all((build / name / "file").is_file() for name in build_stamp.BUILD_OUTPUTS)
    edit(tmp_path / "convlab" / "draw.py", "return h * w", "return w * h")
    assert build_stamp.check(tmp_path, stamp) is True
    assert not any((build / name).exists() for name in build_stamp.BUILD_OUTPUTS)
    assert stamp.read_text(encoding="utf-8").strip() == build_stamp.code_hash(tmp_path)


def test_the_real_tree_hashes_every_convlab_module():
    files = {p.relative_to(ROOT).as_posix() for p in build_stamp.code_files(ROOT)}
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "convlab").glob("*.py")}
    assert modules and modules <= files
    assert "book/_ext/convlab_site.py" in files
