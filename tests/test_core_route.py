"""Each chapter's core route stands on its own: a reader who skips every going-further block
still follows it (issue 17).

How a code cell is "inside" a going-further block: chapters mark a block with two marker cells,
```` ```{going-further-start} Going further: … ```` and ```` ```{going-further-end} ````
(``book/_ext/convlab_reading_time.py``; on the site everything between them is one collapsible
admonition with the class ``going-further``). MyST cannot put a code cell inside an
``{admonition}`` (a notebook's cells are siblings), so the markers delimit the block, the way
sphinx-exercise's ``solution-start`` / ``solution-end`` delimit a solution with code cells.
The cells between the markers are the block's; every other code cell is on the route (the
exercises included). The classification is :func:`count_chapter`'s, the same the time line uses.

The separation check runs the route as a reader who skips the blocks would: statement by
statement (a compound statement's header, then its body in order), it tracks which part made
the latest binding of each top-level name (assignment, import, ``def``, ``class``, ``for``,
``with … as``, ``except … as``, ``:=``). A route cell that
reads a name whose latest binding was made in a going-further cell depends on that block — a
skipping reader would have no such name, or a different value.
"""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest
from IPython.core.inputtransformer2 import TransformerManager
from myst_samples import ROOT, chapter, reading_time_module

rt = reading_time_module()
CHAPTERS = sorted((ROOT / "book").glob("0[1-5]_*.md"))

#: At most this many words of prose on a chapter's core route (exercises and going-further
#: blocks not counted), as the style guide asks.
CORE_WORDS = 2500

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _stored(node: ast.AST) -> set[str]:
    """Names a node binds: Name stores, function arguments, imports, except/match captures."""
    names: set[str] = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
            names.add(sub.id)
        elif isinstance(sub, ast.arg):
            names.add(sub.arg)
        elif isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(sub.name)
        elif isinstance(sub, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in sub.names)
        elif isinstance(sub, ast.ExceptHandler) and sub.name:
            names.add(sub.name)
    return names


def _free_loads(node: ast.AST) -> set[str]:
    """Names ``node`` reads from outside itself (a nested scope's own names are not free)."""
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    loads: set[str] = set()
    for child in ast.iter_child_nodes(node):
        loads |= _free_loads(child)
    if isinstance(node, _SCOPES):
        inner = _stored(node) - ({node.name} if isinstance(node, (ast.FunctionDef,
                                 ast.AsyncFunctionDef, ast.ClassDef)) else set())
        loads -= inner
    return loads


def _top_level_bindings(stmt: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the notebook's namespace."""
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    bound: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            continue  # names bound inside a nested scope stay there
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        stack.extend(ast.iter_child_nodes(node))
    return bound


def _statements(source: str) -> list[ast.stmt]:
    """A code cell's statements (IPython syntax such as ``%timeit`` turned into Python)."""
    return ast.parse(TransformerManager().transform_cell(source)).body


def _events(stmt: ast.stmt) -> list[tuple[str, set[str]]]:
    """A statement's reads and top-level bindings in the order they run: ``("load", names)`` and
    ``("bind", names)``. A compound statement runs its header first (a ``for`` loop's iterable,
    then its target; an ``if``/``while`` test; a ``with`` item, then its ``as`` name), then its
    body statement by statement; any other statement reads first, then binds."""
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        events = [("load", _free_loads(stmt.iter)), ("bind", _top_level_bindings(stmt.target))]
        body = stmt.body + stmt.orelse
    elif isinstance(stmt, (ast.If, ast.While)):
        events, body = [("load", _free_loads(stmt.test))], stmt.body + stmt.orelse
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        events = []
        for item in stmt.items:
            events.append(("load", _free_loads(item.context_expr)))
            if item.optional_vars is not None:
                events.append(("bind", _top_level_bindings(item.optional_vars)))
        body = stmt.body
    elif isinstance(stmt, ast.Try):
        events = [e for sub in stmt.body for e in _events(sub)]
        for handler in stmt.handlers:
            if handler.type is not None:
                events.append(("load", _free_loads(handler.type)))
            if handler.name:
                events.append(("bind", {handler.name}))
            events.extend(e for sub in handler.body for e in _events(sub))
        body = stmt.orelse + stmt.finalbody
    else:
        return [("load", _free_loads(stmt)), ("bind", _top_level_bindings(stmt))]
    for sub in body:
        events.extend(_events(sub))
    return events


def route_dependencies(cells: list[tuple[str, str]]) -> list[str]:
    """For code cells ``(part, source)`` in order, the uses of going-further names on the route.

    Returns messages ``"route cell N reads 'x', last bound in going-further cell M"``
    (cells numbered from 1 among code cells); empty when the route stands on its own.
    """
    latest: dict[str, tuple[str, int]] = {}  # name -> (part, cell number) of latest binding
    found: list[str] = []
    for n, (part, source) in enumerate(cells, start=1):
        for stmt in _statements(source):
            for kind, names in _events(stmt):
                for name in sorted(names):
                    if kind == "bind":
                        latest[name] = (part, n)
                    elif (part != "further" and name in latest
                          and latest[name][0] == "further"):
                        found.append(f"route cell {n} reads {name!r}, last bound in "
                                     f"going-further cell {latest[name][1]}")
    return found


# ------------------------------------------------------------------ the mechanism on samples


def _cells(*pairs: tuple[str, str]) -> list[tuple[str, str]]:
    return [(part, textwrap.dedent(src)) for part, src in pairs]


def test_a_route_cell_reading_a_block_name_is_found() -> None:
    cells = _cells(("core", "import torch\nx = torch.ones(3)"),
                   ("further", "w = x * 2\ndef helper(t):\n    return t + 1"),
                   ("core", "y = helper(x) + w"))
    assert route_dependencies(cells) == [
        "route cell 3 reads 'helper', last bound in going-further cell 2",
        "route cell 3 reads 'w', last bound in going-further cell 2",
    ]


def test_a_block_rebinding_a_route_name_is_found() -> None:
    cells = _cells(("core", "x = 1"), ("further", "x = 2"), ("exercise", "print(x)"))
    assert route_dependencies(cells) == [
        "route cell 3 reads 'x', last bound in going-further cell 2"]


def test_route_rebinding_first_and_local_names_are_independent() -> None:
    cells = _cells(
        ("further", "import math as m\nx = 2\ni = 0\nfor k in range(3):\n    pass"),
        ("core", "x = 5\ny = x + 1"),  # bound on the route before it is read
        ("core", "sq = [i * i for i in range(3)]\nf = lambda k: k + 1\n"
                 "def g(m):\n    return m + 1"),  # comprehension, lambda, argument: local
        ("core", "%timeit -n 1 y + 1"),  # IPython syntax parses
    )
    assert route_dependencies(cells) == []


def test_names_bound_inside_a_compound_statement_before_use_are_the_routes() -> None:
    cells = _cells(
        ("further", "layers = [1]\nrow = 0\ne = None\nf = None"),
        ("core", "for layers in ([2], [3]):\n    row = layers[0]\n    print(row)"),
        ("core", "with open('x') as f:\n    pass\ntry:\n    pass\n"
                 "except OSError as e:\n    print(e, f)"),
    )
    assert route_dependencies(cells) == []


def test_a_loop_reading_a_block_name_before_binding_it_is_found() -> None:
    cells = _cells(("further", "total = 0"),
                   ("core", "for i in range(3):\n    total = total + i"),
                   ("core", "for i in range(3):\n    if i:\n        print(total)"))
    assert route_dependencies(cells) == [
        "route cell 2 reads 'total', last bound in going-further cell 1"]


def test_markers_split_a_chapter_into_route_and_block_cells() -> None:
    text = chapter("""
        ```{code-cell} ipython3
        a = 1
        ```

        ```{going-further-start} Going further: b
        ```

        ```{code-cell} ipython3
        b = a + 1
        ```

        ```{going-further-end}
        ```

        ```{code-cell} ipython3
        c = b
        ```
        """)
    cells = rt.count_chapter(text).code_cells
    assert [part for part, _ in cells] == ["core", "further", "core"]
    assert route_dependencies(cells) == [
        "route cell 3 reads 'b', last bound in going-further cell 2"]


# ------------------------------------------------------------------ the chapters


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_route_does_not_depend_on_going_further_blocks(path: Path) -> None:
    cells = rt.count_chapter(path.read_text(encoding="utf-8")).code_cells
    assert route_dependencies(cells) == []


def _over_limit() -> dict[str, int]:
    words = {p.stem: rt.count_chapter(p.read_text(encoding="utf-8"))["core"].words
             for p in CHAPTERS}
    return {stem: n for stem, n in words.items() if n > CORE_WORDS}


def test_core_route_prose_is_at_most_2500_words() -> None:
    assert _over_limit() == {}


def test_every_chapter_has_a_going_further_block() -> None:
    blocks = {p.stem: rt.count_chapter(p.read_text(encoding="utf-8")).further_blocks
              for p in CHAPTERS}
    assert [stem for stem, n in blocks.items() if n < 1] == []


def test_every_chapter_opens_with_its_time_line() -> None:
    """The ``{reading-time}`` directive sits in the chapter's opening, before its first
    ``##`` section."""
    missing = []
    for p in CHAPTERS:
        opening = p.read_text(encoding="utf-8").split("\n## ", 1)[0]
        if "{reading-time}" not in opening:
            missing.append(p.stem)
    assert missing == []


# ------------------------------------------------------------------ quick checks on the route

#: Each chapter asks at least this many quick checks on its core route (issue 17, item 7).
MIN_CORE_CHECKS = 3

_CODE_START = re.compile(r"^(```+|~~~+)(\{code-cell\}|\w)")


def _quiz_revisits(source: str) -> list[str | None]:
    """The ``revisit=`` text of every ``quiz.<kind>(...)`` call in a code cell (``None`` when a
    call has no literal ``revisit``)."""
    found: list[str | None] = []
    for node in ast.walk(ast.parse(TransformerManager().transform_cell(source))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "quiz"):
            texts = [k.value.value for k in node.keywords
                     if k.arg == "revisit" and isinstance(k.value, ast.Constant)
                     and isinstance(k.value.value, str)]
            found.append(texts[0] if texts else None)
    return found


def _plain(text: str) -> str:
    """A heading or a revisit pointer as a reader sees it: no markup, math spelled out."""
    text = text.replace("\\times", "×").replace("^\\top", "ᵀ")
    text = re.sub(r"[`$\\*]", "", text)
    return " ".join(text.split()).strip().lower()


def route_headings(text: str) -> list[str]:
    """The chapter's section headings outside going-further blocks and code, as plain text."""
    headings, further, fence = [], False, ""
    for line in text.splitlines():
        if fence:
            if line.strip() == fence:
                fence = ""
            continue
        m = _CODE_START.match(line)
        if m:
            fence = m.group(1)
            continue
        if "{going-further-start}" in line:
            further = True
        elif "{going-further-end}" in line:
            further = False
        elif not further and re.match(r"^#{2,6} ", line):
            headings.append(_plain(line.lstrip("#")))
    return headings


def revisit_target(revisit: str) -> str:
    """The section a revisit pointer names: its first 'quoted title', else all of it."""
    m = re.search(r"(?:^|\s)'([^']+)'(?=[:,.\s]|$)", revisit)
    return _plain(m.group(1) if m else revisit)


def test_revisit_targets_are_read_like_a_reader_would() -> None:
    text = chapter("""
        ## `backward()` is backpropagation plus accumulation

        ```{code-cell} ipython3
        # a comment, not a heading
        ```

        ### Three $3\\times3$ convolutions see as far as one $7\\times7$
        """)
    assert route_headings(text) == ["backward() is backpropagation plus accumulation",
                                    "three 3×3 convolutions see as far as one 7×7"]
    assert revisit_target("'Three 3×3 convolutions see as far as one 7×7': each "
                          "layer adds 2") == "three 3×3 convolutions see as far as one 7×7"
    assert revisit_target("backward() is backpropagation") == "backward() is backpropagation"
    assert revisit_target("The formula in 'How big is the output?': o = ...") == \
        "how big is the output?"
    source = 'quiz.number("q", answer=1, revisit="\'A\': why")\nquiz.choice("q", [], correct=0)'
    assert _quiz_revisits(source) == ["'A': why", None]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_route_has_quick_checks_that_point_to_route_sections(path: Path) -> None:
    """At least three quick checks on the core route, each with a ``revisit`` pointer that
    names (the start of) a section heading on the route — not one inside a going-further
    block, and not a section that does not exist."""
    text = path.read_text(encoding="utf-8")
    headings = route_headings(text)
    route_checks, bad = 0, []
    for part, source in rt.count_chapter(text).code_cells:
        if part != "core" or "quiz." not in source:
            continue
        for revisit in _quiz_revisits(source):
            route_checks += 1
            if revisit is None:
                bad.append("a quick check without a revisit pointer")
            elif not any(h.startswith(revisit_target(revisit)) for h in headings):
                bad.append(f"revisit {revisit_target(revisit)!r} names no route section")
    assert bad == []
    assert route_checks >= MIN_CORE_CHECKS
