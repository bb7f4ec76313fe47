"""Chinese student notebooks and nbgrader assignments (tools/translate_notebook.py, used by
``make student`` and ``make assignments``): every markdown block translated from the site's
catalogues, code cells unchanged but for ``LANG = "zh_CN"``, no solution in the student copy,
a student notebook that runs with Chinese checker output, and a Chinese assignment that
nbgrader generates and autogrades to full marks."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from babel.messages.pofile import read_po
from myst_samples import HEADER
from test_make_student import assert_no_solution_survives, run_student, unexpected

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ZH = "zh_CN"
LANG_LINE = "LANG = i18n.book_language()"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


translate_notebook = _load("translate_notebook")
make_student = _load("make_student")
CHAPTERS = sorted((ROOT / "book").glob("0*.md"))

# ---- the translation of each kind of block, on a small chapter and catalogue ----------------

TINY = HEADER + """
# A tiny chapter

A paragraph on
two lines with `code` and $x^2$.

- first item,
  continued;
- second item.

| symbol | meaning |
| --- | --- |
| $k$ | kernel size |

$$
\\text{out} = k
$$

```{admonition} Common confusion: padding
:class: warning

Body of the note.
```

```{code-cell} ipython3
from convlab import i18n

LANG = i18n.book_language()  # "en", or "zh_CN" in the Chinese build
print("A paragraph on")
```

```{exercise} Count it
:label: ex-count

Count the weights.
```

```python
not = "translated"
```
"""

MESSAGES = {
    "A tiny chapter": "一个小章节",
    "A paragraph on two lines with `code` and $x^2$.": "一个段落，含 `code` 和 $x^2$。",
    "first item, continued;": "第一项；",
    "second item.": "第二项。",
    "symbol": "符号",
    "meaning": "含义",
    "$k$": "$k$",
    "kernel size": "卷积核大小",
    "\n\\text{out} = k\n": "\n\\text{输出} = k\n",
    "Common confusion: padding": "易混淆点：填充",
    "Body of the note.": "注释正文。",
    "Count it": "数一数",
    "Count the weights.": "数一数权重。",
}

TINY_ZH_MARKDOWN = """# 一个小章节

一个段落，含 `code` 和 $x^2$。

- 第一项；
- 第二项。

| 符号 | 含义 |
| --- | --- |
| $k$ | 卷积核大小 |

$$
\\text{输出} = k
$$

```{admonition} 易混淆点：填充
:class: warning

注释正文。
```"""


def _po(messages: dict[str, str]) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    entries = [f"msgid {quote(k)}\nmsgstr {quote(v)}\n" for k, v in messages.items()]
    return 'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n' + "\n".join(
        entries)


def _tiny_locales(tmp_path: Path, messages: dict[str, str]) -> tuple[Path, Path]:
    src = tmp_path / "book"
    src.mkdir()
    chapter = src / "01_tiny.md"
    chapter.write_text(TINY, encoding="utf-8")
    locales = tmp_path / "locales"
    book = locales / ZH / "LC_MESSAGES" / "book"
    book.mkdir(parents=True)
    (book / "01_tiny.po").write_text(_po(messages), encoding="utf-8")
    (locales / ZH / "notebooks.po").write_text(_po({
        "Exercise": "练习", make_student.STUDENT_NOTE: "*学生版。*"}), encoding="utf-8")
    return chapter, locales


def test_each_kind_of_block_is_translated_and_code_is_kept(tmp_path):
    chapter, locales = _tiny_locales(tmp_path, MESSAGES)
    english = jupytext.read(chapter)
    nb = translate_notebook.translate_chapter(chapter, ZH, locales)
    assert nb.cells[0].source == TINY_ZH_MARKDOWN
    code = nb.cells[1].source
    assert code == english.cells[1].source.replace(
        'LANG = i18n.book_language()  # "en", or "zh_CN" in the Chinese build', 'LANG = "zh_CN"')
    assert 'print("A paragraph on")' in code  # code is never translated
    exercise = nb.cells[2].source
    assert exercise.startswith("```{exercise} 数一数\n:label: ex-count\n\n数一数权重。\n```")
    assert 'not = "translated"' in exercise


def test_a_block_without_translation_is_an_error_naming_it(tmp_path):
    gone = ("second item.", "kernel size", "Count it")
    messages = {k: v for k, v in MESSAGES.items() if k not in gone}
    chapter, locales = _tiny_locales(tmp_path, messages)
    with pytest.raises(translate_notebook.Untranslated) as err:
        translate_notebook.translate_chapter(chapter, ZH, locales)
    assert err.value.blocks == list(gone)  # each once, in the order of the chapter
    assert "01_tiny.md" in str(err.value)


def test_a_fuzzy_translation_counts_as_missing(tmp_path):
    chapter, locales = _tiny_locales(tmp_path, MESSAGES)
    po = locales / ZH / "LC_MESSAGES" / "book" / "01_tiny.po"
    po.write_text(po.read_text(encoding="utf-8").replace(
        'msgid "Body of the note."', '#, fuzzy\nmsgid "Body of the note."'), encoding="utf-8")
    with pytest.raises(translate_notebook.Untranslated, match="Body of the note"):
        translate_notebook.translate_chapter(chapter, ZH, locales)


def test_tiny_student_copy_uses_the_notebook_texts(tmp_path):
    chapter, locales = _tiny_locales(tmp_path, MESSAGES)
    written = make_student.make(chapter.parent, tmp_path / "out", ZH, locales=locales)
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "instructor/zh_CN/01_tiny.ipynb", "student/zh_CN/01_tiny.ipynb"]
    student = nbformat.read(tmp_path / "out" / "student" / ZH / "01_tiny.ipynb", as_version=4)
    assert student.cells[0].source == "*学生版。*"
    assert "**练习：数一数**\n\n数一数权重。" in "\n".join(c.source for c in student.cells)


# ---- the real chapters ------------------------------------------------------------------------

ENGLISH_WORDS = re.compile(r"[A-Za-z]{2,}(?:[ ,;:'-]+[A-Za-z]{2,}){3,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def prose_lines(markdown: str) -> list[str]:
    """The lines a reader reads as prose: no code blocks, directive lines or options, with code
    spans, math and roles' targets removed."""
    lines, fence = [], ""
    for line in markdown.splitlines():
        stripped = line.strip()
        opening = re.match(r"^(`{3,}|:{3,})(\{[\w-]+\})?", stripped)
        if fence:
            if stripped.startswith(fence) and not stripped[len(fence):].strip():
                fence = ""
            continue
        if opening and not opening[2]:
            fence = opening[1]
            continue
        if opening or re.match(r"^:[\w-]+:", stripped):
            continue
        text = re.sub(r"`[^`]*`|\$[^$]*\$|<[^>]*>", "", line)
        lines.append(text)
    return lines


def english_prose(nb: nbformat.NotebookNode) -> list[str]:
    return [line for cell in nb.cells if cell.cell_type == "markdown"
            for line in prose_lines(cell.source)
            if ENGLISH_WORDS.search(line) and not CJK.search(line)]


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("notebooks")
    make_student.make(ROOT / "book", out)
    make_student.make(ROOT / "book", out, ZH)
    return out


def test_the_prose_test_finds_english(notebooks):
    # the check below must be able to fail: every English student notebook has English prose
    for chapter in CHAPTERS:
        english = nbformat.read(notebooks / "student" / f"{chapter.stem}.ipynb", as_version=4)
        assert len(english_prose(english)) > 20, chapter.name


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chinese_notebooks_have_no_english_prose(notebooks, chapter):
    catalogue = ROOT / "locales" / ZH / "LC_MESSAGES" / "book" / f"{chapter.stem}.po"
    with catalogue.open("rb") as handle:
        english_ids = {m.id for m in read_po(handle) if m.id and m.string != m.id}
    for kind in ("student", "instructor"):
        nb = nbformat.read(notebooks / kind / ZH / f"{chapter.stem}.ipynb", as_version=4)
        assert english_prose(nb) == [], f"{kind}/{chapter.stem}"
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        left = [i for i in english_ids if len(i) > 30 and i in text]
        assert left == [], f"{kind}/{chapter.stem}: English blocks left: {left[:3]}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chinese_code_cells_equal_the_english_ones_but_the_language(notebooks, chapter):
    for kind in ("student", "instructor"):
        english = nbformat.read(notebooks / kind / f"{chapter.stem}.ipynb", as_version=4)
        chinese = nbformat.read(notebooks / kind / ZH / f"{chapter.stem}.ipynb", as_version=4)
        en_code = [c.source for c in english.cells if c.cell_type == "code"]
        zh_code = [c.source for c in chinese.cells if c.cell_type == "code"]
        assert len(en_code) == len(zh_code) and len(english.cells) == len(chinese.cells)
        changed = [(e, z) for e, z in zip(en_code, zh_code, strict=True) if e != z]
        assert len(changed) == 1, f"{kind}/{chapter.stem}: {len(changed)} code cells differ"
        en, zh = changed[0]
        en_lines, zh_lines = en.splitlines(), zh.splitlines()
        assert len(en_lines) == len(zh_lines)
        diff = [(a, b) for a, b in zip(en_lines, zh_lines, strict=True) if a != b]
        assert len(diff) == 1 and diff[0][0].startswith(LANG_LINE)
        assert diff[0][1] == 'LANG = "zh_CN"'


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_in_the_chinese_student_notebooks(notebooks, chapter):
    assert_no_solution_survives(notebooks / "student" / ZH / f"{chapter.stem}.ipynb",
                                notebooks / "instructor" / ZH / f"{chapter.stem}.ipynb")
    student = nbformat.read(notebooks / "student" / ZH / f"{chapter.stem}.ipynb", as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert "**练习：" in text and "**Exercise:" not in text


def test_make_student_writes_both_languages(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_student.py"), "--src",
                           str(ROOT / "book"), "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True)
    assert "(zh_CN)" in done.stdout
    for chapter in CHAPTERS:
        for kind in ("student", "instructor"):
            assert (tmp_path / kind / f"{chapter.stem}.ipynb").is_file()
            assert (tmp_path / kind / ZH / f"{chapter.stem}.ipynb").is_file()


@pytest.mark.slow
def test_a_chinese_student_notebook_runs_with_chinese_feedback(notebooks, monkeypatch):
    # the learner's kernel has no CONVLAB_LANG: the notebook itself says zh_CN
    monkeypatch.delenv("CONVLAB_LANG", raising=False)
    errors, nb = run_student(notebooks / "student" / ZH / "01_convolution.ipynb", ROOT / "book")
    assert unexpected(errors) == [], errors
    printed = "".join(o.get("text", "") + "".join(
        o.get("data", {}).get(mime, "") for mime in ("text/plain", "text/html"))
        for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "还没有实现" in printed  # the checker on an untouched stub, in Chinese
    assert "not implemented yet" not in printed


# ---- the Chinese nbgrader course --------------------------------------------------------------

def _nbgrader(course: Path, *args: str) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CONVLAB_LANG", None)
    done = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_the_chinese_assignment_generates_and_grades_a_correct_submission_full(tmp_path):
    chapter = "01_convolution"
    subprocess.run([sys.executable, str(ROOT / "tools" / "make_assignments.py"), "--src",
                    str(ROOT / "book"), "--out", str(tmp_path / "course"), "--seed", "7",
                    "--lang", ZH], check=True)
    course = tmp_path / "course-zh_CN"
    assert not (tmp_path / "course").exists()
    assert 'course_id = "convlab-zh_CN"' in (course / "nbgrader_config.py").read_text()
    source = nbformat.read(course / "source" / chapter / f"{chapter}.ipynb", as_version=4)
    texts = [c.source for c in source.cells if c.cell_type == "markdown"]
    assert texts[0].startswith("# 作业：卷积\n\n")
    assert all(CJK.search(text) for text in texts)
    assert not any(ENGLISH_WORDS.search(line) and not CJK.search(line)
                   for text in texts for line in prose_lines(text))
    setup = next(c.source for c in source.cells if c.metadata["nbgrader"]["grade_id"] == "setup")
    assert 'LANG = "zh_CN"' in setup and "book_language" not in setup

    _nbgrader(course, "generate_assignment", chapter)
    released = nbformat.read(course / "release" / chapter / f"{chapter}.ipynb", as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: "".join(
        line for line in c.source.splitlines(keepends=True)
        if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
        for c in source.cells if c.cell_type == "code" and c.metadata["nbgrader"]["solution"]}
    assert answers
    for cell in released.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and grade_id in answers:
            assert "NotImplementedError" in cell.source  # the released copy has no solution
            cell.source = answers[grade_id]
    target = course / "submitted" / "learner" / chapter / f"{chapter}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(released, target)
    _nbgrader(course, "autograde", chapter)
    graded = nbformat.read(course / "autograded" / "learner" / chapter / f"{chapter}.ipynb",
                           as_version=4)
    reports = ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream")
               for c in graded.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    # the autograder's reports are Chinese too: "<label>（隐藏测试）：20/20 个用例正确"
    assert any(re.match(r"ch1-ex-[\w-]+（隐藏测试）：(\d+)/\1 个用例正确$", line)
               for report in reports for line in report.splitlines()), reports
    assert not any(ENGLISH_WORDS.search(line) and "cases correct" in line
                   for report in reports for line in report.splitlines()), reports
    _nbgrader(course, "export")
    with open(course / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    written = sum(2 for c in source.cells if c.cell_type == "markdown"
                  and c.metadata["nbgrader"].get("grade"))
    # every auto-graded point earned; the written answers wait for the instructor
    assert float(rows[0]["raw_score"]) == float(rows[0]["max_score"]) - written
    assert float(rows[0]["raw_score"]) > 0


# ---- the Chinese site's downloads -------------------------------------------------------------

@pytest.mark.site
def test_the_chinese_instructors_page_links_the_chinese_notebooks():
    # The Chinese edition's own build output (tools/i18n.py builds it into _build/zh/html and
    # then copies it to _build/html/zh): its student-notebook links lead to Chinese notebooks.
    from conftest import SITE

    edition = ROOT / "_build" / "zh" / "html"
    page = (edition / "book" / "instructors.html").read_text(encoding="utf-8")
    links = re.findall(r'href="(\.\./notebooks/[^"]+)"', page)
    assert len(links) >= 6, links
    for link in links:
        target = (edition / "book" / link).resolve()
        assert target.is_file() and edition in target.parents, link
    for chapter in CHAPTERS:
        name = f"{chapter.stem}.ipynb"
        chinese = nbformat.read(edition / "notebooks" / "student" / name, as_version=4)
        english = nbformat.read(SITE / "notebooks" / "student" / name, as_version=4)
        assert english_prose(chinese) == [] and english_prose(english) != [], name
        assert any('LANG = "zh_CN"' in c.source for c in chinese.cells), name
