"""The instructors' page lists, for every stub cell of every chapter, the names it defines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("0*.md"))
INSTRUCTORS = (ROOT / "book" / "instructors.md").read_text(encoding="utf-8")
CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(?P<body>.*?)^```", re.M | re.S)
LABEL = re.compile(r"^```\{exercise\}.*\n(?::[\w-]+:.*\n)*?:label: (?P<label>\S+)", re.M)
ROW = re.compile(r"^\| (?P<chapter>\d) \| `(?P<label>[\w-]+)` \| (?P<names>.+?) \| "
                 r"`(?P<checker>check_\w+)` \|$", re.M)


def defined_names(code: str) -> list[str]:
    """Top-level names a stub defines: ``name`` for values, ``name(params)`` for functions."""
    names = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef):
            names.append(f"{node.name}({', '.join(a.arg for a in node.args.args)})")
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return names


def stub_rows() -> list[tuple[str, str, str, str]]:
    """(chapter, exercise label, names, checker) for every stub cell, read from the chapters."""
    rows = []
    for chapter in CHAPTERS:
        text = chapter.read_text(encoding="utf-8")
        for cell in CELL.finditer(text):
            body = cell.group("body")
            if not re.match(r":tags: \[[^\]]*\bexercise-stub\b", body):
                continue
            label = [m.group("label") for m in LABEL.finditer(text, 0, cell.start())][-1]
            code = "\n".join(line for line in body.splitlines() if not line.startswith(":"))
            names = ", ".join(f"`{n}`" for n in defined_names(code))
            rest = text[cell.end():]
            following = LABEL.search(rest)
            checkers = set(re.findall(r"checks\.(check_\w+)\(",
                                      rest[:following.start() if following else None]))
            assert len(checkers) == 1, (label, checkers)
            rows.append((chapter.name[1], label, names, checkers.pop()))
    return rows


def test_the_table_of_stub_names_matches_the_chapters() -> None:
    table = [(m["chapter"], m["label"], m["names"], m["checker"]) for m in ROW.finditer(
        INSTRUCTORS)]
    assert table == stub_rows()


def test_the_table_is_at_the_end_of_the_page_as_the_page_says() -> None:
    assert "the table at the end of this page lists the names each chapter's stubs" in (
        " ".join(INSTRUCTORS.split()))
    last_heading = re.findall(r"^## (.+)$", INSTRUCTORS, re.M)[-1]
    assert last_heading == "Names the stubs define"
    assert INSTRUCTORS.rstrip().splitlines()[-1].startswith("| 5 |")
