"""Sphinx extension: the core route and the "Going further" blocks of a chapter, and its time.

**Going-further blocks.** Optional depth sits between two marker directives, each in a
markdown cell of its own, so the block can hold prose *and* code cells::

    :::{going-further-start} Going further: im2col and one matrix multiply
    :::

    ... markdown and code cells ...

    :::{going-further-end}
    :::

(Backtick fences work too; colon fences are recommended for the markers because a notebook
interface without a MyST renderer shows them as a line of text that names the block, where a
backtick fence would show an empty code box.)

Why markers and not one ``{admonition}``: myst-nb maps a MyST notebook one-to-one onto notebook
cells, so a code cell cannot sit inside a directive (jupyter-book issue #1178); sphinx-exercise
solves the same problem for solutions with gated ``solution-start`` / ``solution-end``
directives, and these markers work the same way.

The title must begin with ``Going further:``. At read time :class:`NestGoingFurther` moves
everything between the markers into one admonition with the classes ``going-further`` and
``dropdown`` (sphinx-togglebutton makes it collapsible, collapsed at first);
``book/_static/going-further.css`` styles it. Start and end must sit in the same section (a
block holds no heading) and blocks do not nest; anything else is a build error naming the rule.

**Time on the page.** A chapter writes ``{reading-time}`` (a directive with no argument, under
its goals); the directive counts the chapter's own source and renders a line such as
"Core route ≈ 35 min (with exercises ≈ 55 min) · everything ≈ 1 h 40 min". Rates, chosen for a
learner who reads technical text carefully and runs and reads every code cell:

* prose: :data:`PROSE_WORDS_PER_MIN` = 180 words per minute (silent reading of non-fiction
  averages about 240; technical text with formulas is slower);
* code: :data:`CODE_LINES_PER_MIN` = 8 lines per minute (read, run, read the output);
* an explorer (a code cell calling ``explore.<name>_explorer(``): :data:`EXPLORER_MIN` = 2
  minutes of play on top of its code line;
* an exercise: :data:`EXERCISE_MIN` = 5 minutes of attempting it, on top of reading its text,
  stub and solution at the rates above.

What is counted (:func:`count_chapter`): prose words are words of markdown text (a word is a
run of letters or digits; inline code and inline math count as one word each; display math,
directive options, HTML and MyST comments, label targets and link targets are not words);
code lines are non-blank lines of code cells and of fenced code blocks in markdown. Each piece
belongs to one of three parts:

* ``further``: inside a going-further block (whatever it contains, exercises included);
* ``exercise``: from an ``{exercise}`` directive up to the next ``{exercise}`` directive,
  heading or going-further marker (so the stub, the solution and the checker cell after it
  belong to the exercise);
* ``core``: everything else.

Core route = core; with exercises = core + exercise; everything = all three. Times are rounded
to 5 minutes. :func:`count_chapter` and :func:`reading_time_line` are pure functions of the
chapter text (tests call them on small MyST samples; ``tests/test_core_route.py`` uses the
same counts for its per-chapter limits).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import jupytext
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.locale import get_translation
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

BOOK_STATIC = Path(__file__).resolve().parent.parent / "_static"
CSS_FILE = "going-further.css"

#: Reading rates (see the module docstring for why).
PROSE_WORDS_PER_MIN = 180
CODE_LINES_PER_MIN = 8
EXPLORER_MIN = 2
EXERCISE_MIN = 5
#: Times are shown rounded to this many minutes (at least this much).
ROUND_MIN = 5

logger = logging.getLogger(__name__)
#: The site extensions' message catalogue (see ``convlab_i18n.py``).
_ = get_translation("convlab")

TITLE_PREFIX = "Going further:"
START, END = "going-further-start", "going-further-end"

Part = Literal["core", "exercise", "further"]
PARTS: tuple[Part, ...] = ("core", "exercise", "further")


# ------------------------------------------------------------------------------ counting


@dataclass
class Counts:
    """Words, code lines, explorers and exercises of one part of a chapter."""

    words: int = 0
    code_lines: int = 0
    explorers: int = 0
    exercises: int = 0

    def minutes(self) -> float:
        """Reading time of this part in minutes at the module's rates."""
        return (self.words / PROSE_WORDS_PER_MIN + self.code_lines / CODE_LINES_PER_MIN
                + self.explorers * EXPLORER_MIN + self.exercises * EXERCISE_MIN)


@dataclass
class ChapterCounts:
    """The counts of a chapter's three parts, its number of going-further blocks and its code
    cells in order, each with the part it belongs to (``tests/test_core_route.py`` reads them)."""

    parts: dict[str, Counts] = field(default_factory=lambda: {p: Counts() for p in PARTS})
    further_blocks: int = 0
    code_cells: list[tuple[Part, str]] = field(default_factory=list)

    def __getitem__(self, part: Part) -> Counts:
        return self.parts[part]


#: Directives whose argument is a label or a title counted elsewhere, not prose.
_UNREAD_ARGUMENTS = {START, END, "reading-time", "solution", "solution-start", "solution-end",
                     "exercise-start", "exercise-end"}
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\s*(?P<info>.*)$")
_DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}\s*(?P<arg>.*)$")
_OPTION = re.compile(r"^\s*:[\w-]+:")
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_EXPLORER = re.compile(r"\bexplore\.\w+_explorer\(")


def prose_words(text: str) -> int:
    """Number of words in a piece of markdown prose (see the module docstring)."""
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)  # HTML comments
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)  # display math
    text = re.sub(r"\{[\w:-]+\}`([^`<]*)(?:<[^`]*>)?`", r" \1 ", text)  # roles: their text
    text = re.sub(r"`[^`\n]+`", " W ", text)  # inline code: one word
    text = re.sub(r"\$[^$\n]+\$", " W ", text)  # inline math: one word
    text = re.sub(r"\]\([^)\s]*\)", "] ", text)  # link targets
    text = re.sub(r"</?[A-Za-z][^>]*>", " ", text)  # HTML tags
    lines = [ln for ln in text.splitlines()
             if not re.match(r"^\s*(%|\([\w-]+\)=\s*$)", ln)]  # MyST comments, targets
    return len(_WORD.findall("\n".join(lines)))


def _directive(info: str) -> tuple[str, str] | None:
    m = _DIRECTIVE.match(info.strip())
    return (m.group("name"), m.group("arg")) if m else None


def count_chapter(text: str) -> ChapterCounts:
    """Count the words, code lines, explorers and exercises of each part of a MyST notebook.

    ``text`` is the whole chapter source (jupytext MyST Markdown). Raises ``ValueError`` when
    the going-further markers do not pair up (a start inside a block, an end without a start,
    a start never ended).
    """
    nb = jupytext.reads(text, fmt="md:myst")
    result = ChapterCounts()
    state = {"further": False, "exercise": False}

    def part() -> Part:
        return "further" if state["further"] else "exercise" if state["exercise"] else "core"

    for cell in nb.cells:
        if cell.cell_type == "code":
            counts = result[part()]
            result.code_cells.append((part(), cell.source))
            counts.code_lines += sum(1 for ln in cell.source.splitlines() if ln.strip())
            counts.explorers += len(_EXPLORER.findall(cell.source))
        elif cell.cell_type == "markdown":
            _count_markdown(cell.source, state, part, result)
    if state["further"]:
        raise ValueError(f"a {{{START}}} block is never closed: add a {{{END}}} marker cell")
    return result


def _count_markdown(source: str, state: dict[str, bool], part: Callable[[], Part],
                    result: ChapterCounts) -> None:
    open_fences: list[tuple[str, bool]] = []  # (fence, is_code_block)
    prose: list[str] = []
    options_allowed = False

    def flush() -> None:
        if prose:
            result[part()].words += prose_words("\n".join(prose))
            prose.clear()

    for line in source.splitlines():
        m = _FENCE.match(line)
        if open_fences:
            fence, is_code = open_fences[-1]
            if m and m.group("fence")[0] == fence[0] and len(m.group("fence")) >= len(fence) \
                    and not m.group("info").strip():
                flush()
                open_fences.pop()
                options_allowed = False
                continue
            if is_code:
                if line.strip():
                    result[part()].code_lines += 1
                continue
        if m and not (open_fences and open_fences[-1][1]):
            d = _directive(m.group("info"))
            flush()
            if d is None:  # a fenced code block (```python)
                open_fences.append((m.group("fence"), True))
                continue
            name, arg = d
            if name == START:
                if state["further"]:
                    raise ValueError(f"a {{{START}}} block cannot start inside another one "
                                     f"(blocks do not nest): {arg!r}")
                state["further"] = True
                state["exercise"] = False
                result.further_blocks += 1
            elif name == END:
                if not state["further"]:
                    raise ValueError(f"{{{END}}} without a {{{START}}} before it")
                state["further"] = False
                state["exercise"] = False
            elif name == "exercise":
                state["exercise"] = True
                if not state["further"]:
                    result["exercise"].exercises += 1
                else:
                    result["further"].exercises += 1
            elif name == "code-cell" or name in ("code", "code-block"):
                open_fences.append((m.group("fence"), True))
                continue
            if name not in _UNREAD_ARGUMENTS:
                prose.append(arg)  # a directive's title is read (a label is not)
            open_fences.append((m.group("fence"), False))
            options_allowed = True
            continue
        if options_allowed and _OPTION.match(line):
            continue
        options_allowed = False
        if re.match(r"^#{1,6}\s", line) and not state["further"]:
            flush()
            state["exercise"] = False
        prose.append(line)
    flush()


def _untranslated(message: str) -> str:
    return message


def _fmt(minutes: float, gettext: Callable[[str], str] = _untranslated) -> str:
    m = max(ROUND_MIN, ROUND_MIN * round(minutes / ROUND_MIN))
    h, rest = divmod(m, 60)
    if not h:
        return str(gettext("{minutes} min")).format(minutes=rest)
    if rest:
        return str(gettext("{hours} h {minutes} min")).format(hours=h, minutes=rest)
    return str(gettext("{hours} h")).format(hours=h)


def reading_time_line(counts: ChapterCounts,
                      gettext: Callable[[str], str] = _untranslated) -> str:
    """The time line shown at the top of a chapter, e.g.
    ``Core route ≈ 35 min (with exercises ≈ 55 min) · everything ≈ 1 h 40 min``.

    ``gettext`` translates its pieces (the build passes the edition's catalogue,
    ``convlab_i18n._``); by default the line is English."""
    core = counts["core"].minutes()
    exercises = core + counts["exercise"].minutes()
    everything = exercises + counts["further"].minutes()
    return str(gettext("Core route ≈ {core} (with exercises ≈ {exercises}) · "
                       "everything ≈ {everything}")).format(
        core=_fmt(core, gettext), exercises=_fmt(exercises, gettext),
        everything=_fmt(everything, gettext))


# ------------------------------------------------------------------------------ Sphinx side


class ReadingTimeDirective(SphinxDirective):
    """``{reading-time}``: the chapter's time line, counted from its own source."""

    has_content = False
    required_arguments = 0

    def run(self) -> list[nodes.Node]:
        path = Path(self.env.doc2path(self.env.docname))
        try:
            counts = count_chapter(path.read_text(encoding="utf-8"))
        except ValueError as err:
            raise self.error(f"{{reading-time}}: {err}") from None
        line = reading_time_line(counts, _)
        # Translated through the extensions' catalogue (numbers change with the chapter), not
        # as a message of the chapter's own catalogue.
        node = nodes.paragraph("", "", classes=["convlab-reading-time"], translatable=False)
        node += nodes.Text(line)
        return [node]


class going_further_start(nodes.Element):  # noqa: N801
    """Marker: a going-further block starts here (replaced by :class:`NestGoingFurther`)."""


class going_further_end(nodes.Element):  # noqa: N801
    """Marker: the going-further block ends here."""


class GoingFurtherStart(SphinxDirective):
    """``{going-further-start} Going further: <topic>`` opens a going-further block."""

    has_content = False
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {"class": directives.class_option}

    def run(self) -> list[nodes.Node]:
        title = self.arguments[0].strip()
        if not title.startswith(TITLE_PREFIX) or not title[len(TITLE_PREFIX):].strip():
            raise self.error(f"{{{START}}}: the title must begin with '{TITLE_PREFIX}' and name "
                             f"the topic, e.g. '{TITLE_PREFIX} im2col timings'; got {title!r}")
        node = going_further_start(title=title, classes=self.options.get("class", []))
        self.set_source_info(node)
        # The title as Markdown reads it (code, math, emphasis), like an admonition's title;
        # the marker holds it until NestGoingFurther makes the block's title of it.
        text_nodes, messages = self.state.inline_text(title, self.lineno)
        node.extend(text_nodes)
        return [node, *messages]


class GoingFurtherEnd(SphinxDirective):
    """``{going-further-end}`` closes the going-further block opened before it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        node = going_further_end()
        self.set_source_info(node)
        return [node]


class NestGoingFurther(SphinxTransform):
    """Move everything between a start and its end marker into one collapsible admonition.

    A marker that does not pair up is reported as a warning at its line (``-W`` makes it fail
    the build) and dropped, leaving the content in the page.
    """

    default_priority = 5  # before sphinx-exercise merges gated solutions (10)

    def apply(self) -> None:
        for start in list(self.document.findall(going_further_start)):
            if start.parent is None:
                continue
            parent = start.parent
            at = parent.index(start)
            end_at = None
            for j in range(at + 1, len(parent.children)):
                child = parent.children[j]
                if isinstance(child, going_further_start):
                    break
                if isinstance(child, going_further_end):
                    end_at = j
                    break
            if end_at is None:
                logger.warning(f"no {{{END}}} after this {{{START}}} in the same section: close "
                               "the block before the next heading or block (a going-further "
                               "block holds no heading, and blocks do not nest)",
                               location=start)
                parent.remove(start)
                continue
            block = nodes.admonition(classes=["going-further", "dropdown", *start["classes"]])
            block.source, block.line = start.source, start.line
            title = nodes.title(start["title"], "")
            title.extend(start.children)  # the title's inline nodes (GoingFurtherStart)
            block += title
            body = parent.children[at + 1:end_at]
            for child in body:
                child.parent = None
            block.extend(body)
            parent.children[at:end_at + 1] = [block]
            block.parent = parent
        for end in list(self.document.findall(going_further_end)):
            logger.warning(f"{{{END}}} without a {{{START}}} before it in the same section",
                           location=end)
            end.parent.remove(end)


def _visit_skip(self: object, node: nodes.Node) -> None:
    raise nodes.SkipNode


def serve_css(app: Sphinx, config: Config) -> None:
    """Serve ``book/_static/going-further.css`` on every page."""
    if str(BOOK_STATIC) not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, str(BOOK_STATIC)]
    app.add_css_file(CSS_FILE)


def setup(app: Sphinx) -> dict[str, object]:
    app.add_node(going_further_start, html=(_visit_skip, None), latex=(_visit_skip, None),
                 text=(_visit_skip, None))
    app.add_node(going_further_end, html=(_visit_skip, None), latex=(_visit_skip, None),
                 text=(_visit_skip, None))
    app.add_directive("reading-time", ReadingTimeDirective)
    app.add_directive(START, GoingFurtherStart)
    app.add_directive(END, GoingFurtherEnd)
    app.add_transform(NestGoingFurther)
    app.connect("config-inited", serve_css)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
