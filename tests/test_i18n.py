"""The translation machinery (issue "中文版"): catalogues, glossary, stale messages, anchors.

Unit tests: no built site needed. ``tests/test_i18n_site.py`` checks the two built editions,
``tests/test_i18n_complete.py`` whether the Chinese catalogues are complete.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))

from convlab_i18n import EDITIONS, Term, edition_of, page_url, read_glossary  # noqa: E402

# The terms of the style guide, section 8, exactly as it names them.
GUIDE_TERMS = {
    "kernel": "卷积核", "stride": "步长", "padding": "填充", "bias": "偏置",
    "feature map": "特征图", "channel": "通道", "receptive field": "感受野",
    "transposed convolution": "转置卷积", "dilated convolution": "空洞卷积",
    "dilation": "膨胀率", "computational graph": "计算图", "gradient accumulation": "梯度累加",
    "in-place operation": "原地操作", "leaf tensor": "叶子张量",
}


def load_tool() -> ModuleType:
    name = "convlab_i18n_tool"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "i18n.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


# ------------------------------------------------------------------------------ glossary


def test_glossary_has_the_style_guide_terms() -> None:
    terms = {t.english: t.chinese for t in read_glossary()}
    assert {k: terms.get(k) for k in GUIDE_TERMS} == GUIDE_TERMS


def test_glossary_links_point_at_existing_pages_and_headings() -> None:
    """Each ``taught_in`` names a chapter file, and its #anchor is a heading slug of it."""
    for term in read_glossary():
        page, _, anchor = term.taught_in.partition("#")
        source = ROOT / "book" / page
        assert source.is_file(), f"{term.english}: {page} does not exist"
        if anchor:
            slugs = {slug(line.lstrip("#").strip()) for line in
                     source.read_text(encoding="utf-8").splitlines()
                     if re.match(r"#{1,3} ", line)}
            assert anchor in slugs, f"{term.english}: no heading of {page} has slug #{anchor}"


def slug(title: str) -> str:
    """MyST's (GitHub's) heading slug."""
    text = re.sub(r"[`*]", "", title).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def test_glossary_rejects_an_incomplete_row(tmp_path: Path) -> None:
    tsv = tmp_path / "glossary.tsv"
    tsv.write_text("# comment\nenglish\tchinese\ttaught_in\tforms\nstride\t步长\t\t\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match="row 2: english, chinese and taught_in"):
        read_glossary(tsv)


def inconsistent(msgid: str, msgstr: str, terms: list[Term]) -> list[str]:
    return load_tool().term_problems(msgid, msgstr, terms)


def test_consistency_check_finds_a_term_translated_otherwise() -> None:
    terms = read_glossary()
    assert inconsistent("The stride moves the window.", "步幅移动窗口。", terms) == [
        "stride → 步长"]
    assert inconsistent("The stride moves the window.", "步长移动窗口。", terms) == []
    # inline code and math are not prose: `padding=1` asks for no 填充
    assert inconsistent("Use `padding=1` and $s$.", "使用 `padding=1` 和 $s$。", terms) == []
    # a longer term wins: "dilated convolution" needs 空洞卷积, not 膨胀率 or 卷积核
    assert inconsistent("A dilated convolution.", "空洞卷积。", terms) == []


def test_chinese_catalogues_use_the_glossary_terms() -> None:
    """Every translated (non-fuzzy) message that contains an English term uses its Chinese
    term (vacuous for messages not translated yet)."""
    tool = load_tool()
    terms = read_glossary()
    problems = []
    for path in tool.catalogues("zh_CN"):
        with path.open("rb") as source:
            catalog = read_po(source)
        for message in catalog:
            if message.id and message.string and not message.fuzzy:
                for problem in tool.term_problems(message.id, message.string, terms):
                    problems.append(f"{path.relative_to(ROOT)}:{message.lineno}: {problem}")
    assert problems == [], "\n".join(problems)


# ------------------------------------------------------------------------------ editions


def test_editions() -> None:
    assert edition_of(None) is EDITIONS[0] and edition_of("en") is EDITIONS[0]
    assert edition_of("zh_CN").folder == "zh"
    with pytest.raises(Exception, match="not an edition of the course"):
        edition_of("fr")


@pytest.mark.parametrize(("page", "source", "target", "url"), [
    ("book/intro", "en", "zh_CN", "../zh/book/intro.html"),
    ("book/intro", "zh_CN", "en", "../../book/intro.html"),
    ("search", "en", "zh_CN", "zh/search.html"),
    ("search", "zh_CN", "en", "../search.html"),
])
def test_switcher_urls_are_relative(page: str, source: str, target: str, url: str) -> None:
    assert page_url(page, edition_of(source), edition_of(target)) == url


def test_translated_edition_config_derives_from_english() -> None:
    tool = load_tool()
    zh = edition_of("zh_CN")
    overrides = tool.overrides(zh)
    assert overrides["language"] == "zh_CN"
    assert overrides["html_baseurl"].endswith("/zh/")
    assert overrides["nb_execution_cache_path"].endswith(".jupyter_cache_zh")


# ------------------------------------------------------------------------------ catalogues


def write_catalog(path: Path, messages: dict[str, str], fuzzy: set[str] = frozenset()) -> None:
    catalog = Catalog(locale="zh_CN")
    for msgid, msgstr in messages.items():
        catalog.add(msgid, msgstr, flags=("fuzzy",) if msgid in fuzzy else ())
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        write_po(out, catalog)


def test_catalogue_state_counts_untranslated_and_fuzzy(tmp_path: Path) -> None:
    po = tmp_path / "zh_CN" / "LC_MESSAGES" / "page.po"
    write_catalog(po, {"Stride": "步长", "Padding": "", "Bias": "偏置"}, fuzzy={"Bias"})
    state = load_tool().catalogue_state(po)
    assert state.total == 3
    assert [text for _, text in state.untranslated] == ["Padding"]
    assert [text for _, text in state.fuzzy] == ["Bias"]


def test_changed_english_is_reported_stale(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """`make po` after an English paragraph changed: sphinx-intl keeps the old translation,
    marks it fuzzy, and the report names the message."""
    tool = load_tool()
    pot_dir, locales = tmp_path / "pot", tmp_path / "locales"
    old = "The stride is how far the window moves."
    new = "The stride is how far the window moves at each step."
    write_catalog(pot_dir / "page.pot", {old: "", "Padding adds zeros.": ""})
    tool.update_po("zh_CN", root=tmp_path, pot_dir=pot_dir)
    po = locales / "zh_CN" / "LC_MESSAGES" / "page.po"
    with po.open("rb") as source:
        catalog = read_po(source)
    catalog[old].string = "步长是窗口移动的距离。"
    catalog["Padding adds zeros."].string = "填充补零。"
    with po.open("wb") as out:
        write_po(out, catalog)
    write_catalog(pot_dir / "page.pot", {new: "", "Padding adds zeros.": ""})
    tool.update_po("zh_CN", root=tmp_path, pot_dir=pot_dir)
    capsys.readouterr()
    missing = tool.report("zh_CN", locales)
    out = capsys.readouterr().out
    assert missing == 1
    assert f"stale (the English changed; check and clear 'fuzzy'): {new}" in out
    assert "1/2 translated, 0 untranslated, 1 stale" in out
    tool.summarise("zh_CN", locales)  # what the Chinese build prints at its end
    out = capsys.readouterr().out
    assert f"stale (the English changed): {new}" in out
    assert "zh_CN: 0 messages untranslated and 1 stale are shown in English" in out


def test_extension_texts_are_extracted(tmp_path: Path) -> None:
    pot = tmp_path / "convlab.pot"
    load_tool().write_extension_pot(ROOT / "book" / "_ext", pot)
    with pot.open("rb") as source:
        ids = {m.id for m in read_po(source) if m.id}
    assert {"Language", "Read this page in", "Taught in", "{minutes} min", "Click to show",
            "Click to hide",
            "Core route ≈ {core} (with exercises ≈ {exercises}) · everything ≈ {everything}",
            } <= ids


# ------------------------------------------------------------------------------ a translated build

PAGE = textwrap.dedent("""\
    # Padding

    Padding adds zeros around the input.

    ## Stride and padding

    The stride is the step of the window.

    ```python
    nn.Conv2d(1, 1, 3, padding=1)  # code is never translated
    ```

    See [the stride section](#stride-and-padding).
    """)

PO = textwrap.dedent("""\
    msgid ""
    msgstr ""
    "Content-Type: text/plain; charset=utf-8\\n"

    msgid "Padding"
    msgstr "填充"

    msgid "Padding adds zeros around the input."
    msgstr "填充在输入周围补零。"

    msgid "Stride and padding"
    msgstr "步长与填充"

    msgid "The stride is the step of the window."
    msgstr "步长是窗口每次移动的距离。"

    msgid "See [the stride section](#stride-and-padding)."
    msgstr "见[步长一节](#stride-and-padding)。"
    """)


@pytest.mark.slow
def test_translated_headings_keep_their_english_ids(tmp_path: Path) -> None:
    """Sphinx + MyST with a Chinese catalogue: the text is translated, the section ids (and
    the links to them) are those of the English titles, code is untouched."""
    src = tmp_path / "src"
    (src / "locales" / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    (src / "index.md").write_text(PAGE, encoding="utf-8")
    (src / "locales" / "zh_CN" / "LC_MESSAGES" / "index.po").write_text(PO, encoding="utf-8")
    (src / "conf.py").write_text(
        "extensions = ['myst_parser']\nmyst_heading_anchors = 3\nlanguage = 'zh_CN'\n"
        "locale_dirs = ['locales']\ngettext_compact = False\n", encoding="utf-8")
    # In a process of its own: Sphinx keeps parsers registered by earlier builds of the session.
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", "-E", str(src),
                    str(tmp_path / "out")], check=True, timeout=300)
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "步长是窗口每次移动的距离。" in html and "The stride is" not in html
    ids = re.findall(r'<section id="([^"]+)"', html)
    assert ids == ["padding", "stride-and-padding"]
    assert 'href="#stride-and-padding"' in html
    assert "padding</span><span class=\"o\">=</span>" in html  # the code block, untranslated


# ------------------------------------------------------------------------------ figure alt texts


def test_cell_metadata_alt_texts_are_found_with_their_cells(tmp_path: Path) -> None:
    chapter = tmp_path / "01_x.md"
    chapter.write_text(textwrap.dedent("""\
        # Title

        ```{code-cell} ipython3
        ---
        tags: [hide-input]
        mystnb:
          image:
            alt: Two panels. Left, the input;
              right, the output.
        ---
        plot()
        ```

        ```{code-cell} ipython3
        x = 1
        ```

        ```{code-cell} ipython3
        ---
        mystnb:
          image:
            alt: 'A: quoted text'
        ---
        plot()
        ```
        """), encoding="utf-8")
    tool = load_tool()
    assert tool.image_alt_texts(chapter) == [
        ("Two panels. Left, the input; right, the output.", 3), ("A: quoted text", 18)]
    pot_dir = tmp_path / "pot"
    (pot_dir / "book").mkdir(parents=True)
    catalog = Catalog()
    catalog.add("Title", locations=[("../../../book/01_x.md", 1)])
    with (pot_dir / "book" / "01_x.pot").open("wb") as out:
        write_po(out, catalog)
    tool.add_image_alt_texts(tmp_path, pot_dir)
    with (pot_dir / "book" / "01_x.pot").open("rb") as source:
        found = {m.id: m.locations for m in read_po(source) if m.id}
    assert found["Title"] == [("../../../book/01_x.md", 1)]
    assert found["A: quoted text"] == [(Path(os.path.relpath(chapter, pot_dir)).as_posix(), 18)]


@pytest.mark.parametrize("chapter", sorted((ROOT / "book").glob("0*.md")), ids=lambda p: p.stem)
def test_every_figure_alt_text_has_a_chinese_translation(chapter: Path) -> None:
    """The chapters' cell-metadata alt texts are messages of their page's catalogue (`make po`)
    translated into Chinese (the built pages: tests/test_i18n_site.py)."""
    alts = load_tool().image_alt_texts(chapter)
    assert len(alts) == chapter.read_text(encoding="utf-8").count("\n  image:\n    alt:")
    with (ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "book" / f"{chapter.stem}.po").open(
            "rb") as source:
        catalog = read_po(source)
    for alt, _line in alts:
        message = catalog.get(alt)
        assert message is not None and not message.fuzzy, alt
        assert re.search(r"[\u4e00-\u9fff]", message.string), alt
