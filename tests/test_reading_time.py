"""The chapters' time line and going-further blocks (book/_ext/convlab_reading_time.py)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from myst_samples import ROOT, chapter, reading_time_module

rt = reading_time_module()


SAMPLE = chapter("""
    # A title

    One two three four five.

    ```{reading-time}
    ```

    ```{code-cell} ipython3
    x = 1

    y = x + 1
    ```

    ```{going-further-start} Going further: more
    ```

    Six seven eight.

    ```{code-cell} ipython3
    z = y * 2
    ```

    ```{going-further-end}
    ```

    ## Exercises

    ```{exercise} Nine ten
    :label: ex-one

    Eleven `twelve(13)` and $k=3$.
    ```

    ```{code-cell} ipython3
    :tags: [exercise-stub]

    raise NotImplementedError
    ```

    ```{solution-start} ex-one
    :class: dropdown
    ```

    ```{code-cell} ipython3
    :tags: [solution]

    answer = 3
    ```

    ```{solution-end}
    ```

    ```{code-cell} ipython3
    print(answer)
    ```

    ## Summary

    Fourteen fifteen.
    """)


def test_parts_are_counted_separately() -> None:
    c = rt.count_chapter(SAMPLE)
    # core: "A title" (2) + 5 words + "Exercises" (heading before the exercise) + "Summary" +
    # "Fourteen fifteen"; code: x = 1, y = x + 1
    assert (c["core"].words, c["core"].code_lines) == (2 + 5 + 1 + 1 + 2, 2)
    # further: 3 words (its title is not counted: a reader who skips the block sees it);
    # one code line
    assert (c["further"].words, c["further"].code_lines) == (3, 1)
    # exercise: title (2) + "Eleven", inline code, "and", inline math (1 word each; the
    # solution's label is not prose); stub, solution and the checker cell after it (3 lines)
    assert (c["exercise"].words, c["exercise"].code_lines, c["exercise"].exercises) == (6, 3, 1)
    assert c.further_blocks == 1


def test_minutes_follow_the_documented_rates() -> None:
    counts = rt.Counts(words=360, code_lines=16, explorers=1, exercises=2)
    expected = (360 / rt.PROSE_WORDS_PER_MIN + 16 / rt.CODE_LINES_PER_MIN
                + rt.EXPLORER_MIN + 2 * rt.EXERCISE_MIN)
    assert counts.minutes() == pytest.approx(expected)


def test_time_line_rounds_and_formats() -> None:
    c = rt.ChapterCounts()
    c["core"].words = 35 * rt.PROSE_WORDS_PER_MIN  # 35 min
    c["exercise"].exercises = 4  # + 20 min
    c["further"].code_lines = 45 * rt.CODE_LINES_PER_MIN  # + 45 min
    assert rt.reading_time_line(c) == (
        "Core route ≈ 35 min (with exercises ≈ 55 min) · everything ≈ 1 h 40 min")
    assert rt.reading_time_line(rt.ChapterCounts()) == (
        "Core route ≈ 5 min (with exercises ≈ 5 min) · everything ≈ 5 min")


COLON_SAMPLE = SAMPLE.replace(
    "```{going-further-start} Going further: more\n```",
    ":::{going-further-start} Going further: more\n:::").replace(
    "```{going-further-end}\n```", ":::{going-further-end}\n:::")


def test_colon_fenced_markers_count_like_backtick_ones() -> None:
    assert COLON_SAMPLE != SAMPLE
    a, b = rt.count_chapter(SAMPLE), rt.count_chapter(COLON_SAMPLE)
    assert a.parts == b.parts and b.further_blocks == 1
    assert [p for p, _ in b.code_cells] == ["core", "further", "exercise", "exercise", "exercise"]


def test_explorers_are_counted_in_code_cells() -> None:
    c = rt.count_chapter(chapter("""
        ```{code-cell} ipython3
        explore.conv_explorer()
        ```
        """))
    assert (c["core"].explorers, c["core"].code_lines) == (1, 1)


@pytest.mark.parametrize("text, words", [
    ("plain words, here.", 3),
    ("a [link text](https://example.org/x) b", 4),
    ("<!-- hidden --> shown", 1),
    ("$$\nx = y + z\n$$\nafter", 1),
    ("(my-label)=\n% a comment\nkept", 1),
    ("see {ref}`the section <sec-x>` and {doc}`intro`", 5),  # roles: their text
    ("don't e.g. x-ray", 3),
])
def test_prose_words(text: str, words: int) -> None:
    assert rt.prose_words(text) == words


def test_markdown_code_blocks_and_directive_options() -> None:
    c = rt.count_chapter(chapter("""
        ```{admonition} Common confusion: sizes
        :class: warning

        Word word.

        ```python
        a = 1
        b = 2
        ```
        ```
        """))
    assert (c["core"].words, c["core"].code_lines) == (3 + 2, 2)


@pytest.mark.parametrize("body, rule", [
    ("```{going-further-start} Going further: a\n```\n\n"
     "```{going-further-start} Going further: b\n```\n", "do not nest"),
    ("```{going-further-end}\n```\n", "without a"),
    ("```{going-further-start} Going further: a\n```\n\ntext\n", "never closed"),
])
def test_unbalanced_markers_are_refused(body: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        rt.count_chapter(chapter(body))


# ------------------------------------------------------------------ the extension in a build


def _build(tmp_path: Path, text: str) -> tuple[int, str, str]:
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})
        extensions = ["myst_nb", "sphinx_togglebutton", "sphinx_exercise",
                      "convlab_reading_time"]
        nb_execution_mode = "off"
        myst_enable_extensions = ["colon_fence", "dollarmath"]
        """))
    (src / "index.md").write_text(text)
    out, warnings = tmp_path / "html", tmp_path / "warnings.txt"
    # a fresh docutils registry per build, as sphinx.testing does: several builds in one process
    with warnings.open("w") as warn, docutils_namespace():
        app = Sphinx(str(src), str(src), str(out), str(tmp_path / "doctrees"), "html",
                     status=None, warning=warn, freshenv=True)
        app.build()
    html = (out / "index.html").read_text() if (out / "index.html").exists() else ""
    return app.statuscode, html, warnings.read_text()


@pytest.mark.parametrize("text", [SAMPLE, COLON_SAMPLE], ids=["backticks", "colons"])
def test_block_renders_collapsible_with_its_cells_and_time_line(tmp_path: Path,
                                                                 text: str) -> None:
    status, html, warnings = _build(tmp_path, text)
    assert status == 0, warnings
    assert "going-further" not in warnings and "reading-time" not in warnings, warnings
    line = rt.reading_time_line(rt.count_chapter(text))
    assert f'<p class="convlab-reading-time">{line}</p>' in html
    block = html[html.index('<div class="going-further dropdown admonition">'):]
    block = block[:block.index("Exercises")]
    assert '<p class="admonition-title">Going further: more</p>' in block
    assert "Six seven eight." in block and "z</span> <span class=\"o\">=</span>" in block
    assert "going-further.css" in html


def test_a_block_title_is_read_as_markdown(tmp_path: Path) -> None:
    # colon fences: a backtick fence's first line cannot hold a backtick (CommonMark)
    text = COLON_SAMPLE.replace("Going further: more", "Going further: `nn.Fold` and *more*")
    status, html, warnings = _build(tmp_path, text)
    assert status == 0, warnings
    assert ('<p class="admonition-title">Going further: <code class="docutils literal '
            'notranslate"><span class="pre">nn.Fold</span></code> and <em>more</em></p>') in html


@pytest.mark.parametrize("body, rule", [
    ("```{going-further-start} More\n```\n\n```{going-further-end}\n```\n",
     "must begin with 'Going further:'"),
    ("```{going-further-start} Going further: a\n```\n\n"
     "```{going-further-start} Going further: b\n```\n\n```{going-further-end}\n```\n",
     "blocks do not nest"),
    ("```{going-further-start} Going further: a\n```\n\n## Heading\n\n"
     "```{going-further-end}\n```\n", "same section"),
])
def test_build_names_the_broken_rule(tmp_path: Path, body: str, rule: str) -> None:
    _, _, warnings = _build(tmp_path, chapter("# T\n\n" + body))
    assert rule in warnings
