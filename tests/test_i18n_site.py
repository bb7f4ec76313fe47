"""The two built editions side by side (``_build/html`` and ``_build/html/zh``).

Static checks of the built files (marker ``site``), and the language switcher in Chromium
(marker ``browser``). Every other site and browser test runs on the pages of both editions
(``conftest.built_pages``).
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from html.parser import HTMLParser

import pytest

from conftest import EDITION_FOLDERS, ROOT, SITE, UNDER_SUBPATH, Visit, built_pages

sys.path.insert(0, str(ROOT / "book" / "_ext"))

from convlab_i18n import EDITIONS, read_glossary  # noqa: E402

PAGES = built_pages()
# The English site's pages that every edition has (index.html only redirects; 404.html is the
# site's one page for a missing address, at the root, made by book/_ext/convlab_site.py).
ENGLISH = [p for p in PAGES
           if p.split("/")[0] not in EDITION_FOLDERS and p not in ("index.html", "404.html")]
ZH = "zh"
CSS = ROOT / "book" / "_static" / "convlab-i18n.css"


class _Page(HTMLParser):
    """What the checks need from one page: code, section ids, switcher links, head links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []  # (tag, class)
        self.code: list[str] = []
        self.section_ids: list[str] = []
        self.switcher: list[dict[str, str]] = []
        self.alternates: dict[str, str] = {}
        self.html_lang = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.html_lang = values.get("lang", "")
        if tag == "section" and values.get("id"):
            self.section_ids.append(values["id"])
        if tag == "a" and "convlab-language-link" in values.get("class", ""):
            self.switcher.append(values)
        if tag == "link" and values.get("rel") == "alternate" and values.get("hreflang"):
            self.alternates[values["hreflang"]] = values.get("href", "")
        if tag == "pre" and self._in_code():
            self.code.append("")
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr"):
            self.stack.append((tag, values.get("class", "")))

    def handle_endtag(self, tag: str) -> None:
        for n in range(len(self.stack) - 1, -1, -1):
            if self.stack[n][0] == tag:
                del self.stack[n:]
                break

    def handle_data(self, data: str) -> None:
        if any(tag == "pre" for tag, _ in self.stack) and self._in_code():
            self.code[-1] += data

    def _in_code(self) -> bool:
        """Inside a highlighted code block that is not a cell's output."""
        classes = [cls for _, cls in self.stack]
        return (any("highlight" in cls for cls in classes)
                and not any("cell_output" in cls or "output" in cls.split() for cls in classes))


def parse(page: str) -> _Page:
    parsed = _Page()
    parsed.feed((SITE / page).read_text(encoding="utf-8"))
    return parsed


@pytest.mark.site
def test_every_page_is_in_both_editions() -> None:
    english = set(ENGLISH)
    chinese = {p.removeprefix(f"{ZH}/") for p in PAGES if p.startswith(f"{ZH}/")}
    assert english, "run `make book` first"
    assert chinese - {"index.html"} == english


@pytest.mark.site
@pytest.mark.parametrize("page", ENGLISH)
def test_code_is_identical_in_both_editions(page: str) -> None:
    english, chinese = parse(page), parse(f"{ZH}/{page}")
    assert chinese.code == english.code


@pytest.mark.site
def test_chapters_have_code_to_compare() -> None:
    """The code extraction above finds the chapters' code cells (else it compares nothing)."""
    chapter = parse("book/01_convolution.html")
    assert len(chapter.code) > 20
    assert any("nn.Conv2d" in block for block in chapter.code)


@pytest.mark.site
@pytest.mark.parametrize("page", ENGLISH)
def test_sections_have_the_same_ids_in_both_editions(page: str) -> None:
    assert parse(f"{ZH}/{page}").section_ids == parse(page).section_ids


# A display formula as MathJax typeset it (at build time): its assistive MathML.
DISPLAY_MATH = re.compile(r'<mjx-assistive-mml[^>]*display="block">(.*?)</mjx-assistive-mml>', re.S)
WORDS_IN_MATH = re.compile(r"<mtext>[^<]*</mtext>")


def display_formulas(page: str) -> list[str]:
    """Every display formula of a built page, with its words (``\\text{...}``) left out."""
    built = (SITE / page).read_text(encoding="utf-8")
    return [WORDS_IN_MATH.sub("<mtext/>", formula) for formula in DISPLAY_MATH.findall(built)]


@pytest.mark.site
@pytest.mark.parametrize("page", ENGLISH)
def test_display_formulas_are_the_english_ones_with_their_words_translated(page: str) -> None:
    """Only the words of a display formula are translated: the Chinese edition shows the same
    formulas (a translated formula once came out as "::", MyST-Parser issue #980)."""
    english, chinese = display_formulas(page), display_formulas(f"{ZH}/{page}")
    assert len(chinese) == len(english), (
        f"{page}: {len(chinese)} display formulas in Chinese, {len(english)} in English")
    for n, (mine, theirs) in enumerate(zip(chinese, english, strict=True)):
        assert mine == theirs, f"{page}: display formula {n + 1} differs:\n{mine}\n{theirs}"


@pytest.mark.site
def test_the_pages_have_display_formulas_with_words_to_compare() -> None:
    """The comparison above sees the pages' display formulas, words in them included."""
    formulas = [f for page in ENGLISH for f in display_formulas(page)]
    assert len(formulas) > 20 and sum("<mtext/>" in f for f in formulas) > 5


@pytest.mark.site
@pytest.mark.parametrize("page", [p for e in ENGLISH for p in (e, f"{ZH}/{e}")])
def test_language_attributes_switcher_and_alternates(page: str) -> None:
    parsed = parse(page)
    here = EDITIONS[1] if page.startswith(f"{ZH}/") else EDITIONS[0]
    other = EDITIONS[0] if here is EDITIONS[1] else EDITIONS[1]
    english_page = page.removeprefix(f"{ZH}/")
    assert parsed.html_lang == here.html_lang
    # the switcher: one relative link to the same page in the other edition
    assert len(parsed.switcher) == 1
    link = parsed.switcher[0]
    assert link["hreflang"] == other.html_lang
    assert not re.match(r"[a-z]+:|/", link["href"]), "switcher links must be relative"
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page), link["href"]))
    expected = f"{other.folder}/{english_page}" if other.folder else english_page
    assert target == expected and (SITE / target).is_file()
    # hreflang alternates for every edition and x-default (absolute, like og:url)
    assert set(parsed.alternates) == {e.html_lang for e in EDITIONS} | {"x-default"}
    assert parsed.alternates[other.html_lang].endswith("/" + expected)
    assert parsed.alternates["x-default"] == parsed.alternates["en"]


class _Images(HTMLParser):
    """The ``alt`` of every ``<img>`` of a page (``None``: no alt attribute)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.alts: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.alts.append(dict(attrs).get("alt"))


ZH_PAGES = [p for p in PAGES if p.startswith(f"{ZH}/")]
TOGGLE_HINTS = re.compile(r"let toggleHint(Show|Hide) = '([^']*)'")


@pytest.mark.site
@pytest.mark.parametrize("page", ZH_PAGES)
def test_dropdown_hints_are_chinese(page: str) -> None:
    """The hint sphinx-togglebutton shows beside a closed or open dropdown's title on wide
    screens (CSS ``content``, so not in the page's text) is in the edition's language, on
    every page that loads its script."""
    built = (SITE / page).read_text(encoding="utf-8")
    if "togglebutton.js" not in built:  # the redirect page
        assert page == f"{ZH}/index.html", f"{page} does not load sphinx-togglebutton"
        return
    hints = dict(TOGGLE_HINTS.findall(built))
    assert set(hints) == {"Show", "Hide"}, f"{page}: the hints are not where they were: {hints}"
    assert all(re.search(r"[\u4e00-\u9fff]", h) for h in hints.values()), hints


@pytest.mark.site
def test_chinese_pages_have_images() -> None:
    """The test below sees the figures' images (the chapters' matplotlib figures)."""
    images = _Images()
    images.feed((SITE / ZH / "book" / "04_receptive_fields.html").read_text(encoding="utf-8"))
    assert len(images.alts) >= 4 + 2  # four figures with alt texts, the logo in two modes


@pytest.mark.site
@pytest.mark.parametrize("page", [p for p in PAGES if p.startswith(f"{ZH}/")])
def test_every_image_on_a_chinese_page_has_a_chinese_alt(page: str) -> None:
    """Figures (alt texts from cell metadata, through the page's catalogue) and the logo."""
    images = _Images()
    images.feed((SITE / page).read_text(encoding="utf-8"))
    not_chinese = [alt for alt in images.alts
                   if alt is None or not re.search(r"[\u4e00-\u9fff]", alt)]
    assert not not_chinese, f"{page}: images without a Chinese alt: {not_chinese}"


def search_index(folder: str) -> dict:
    text = (SITE / folder / "searchindex.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("(") + 1: text.rindex(")")])


def pages_found(index: dict, word: str) -> set[str]:
    found = index["terms"].get(word, [])
    found = found if isinstance(found, list) else [found]
    titles = index.get("titleterms", {}).get(word, [])
    titles = titles if isinstance(titles, list) else [titles]
    return {index["docnames"][n] for n in [*found, *titles]}


@pytest.mark.site
def test_chinese_search_index_keeps_the_glossary_terms_whole() -> None:
    """jieba segments the Chinese pages, with the glossary's terms as words: 转置卷积 is one
    search term (not only 转置 and 卷积) — here found on the glossary page, which shows every
    term whatever the state of the translations (tests/test_i18n_complete.py asks for the
    chapters that teach them)."""
    index = search_index(ZH)
    for term in read_glossary():
        assert "book/glossary" in pages_found(index, term.chinese), term.chinese


@pytest.mark.site
def test_chinese_fonts_come_from_the_system() -> None:
    css = CSS.read_text(encoding="utf-8")
    assert "@font-face" not in css and "url(" not in css
    for family in ("PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC"):
        assert family in css
    built = (SITE / ZH / "_static" / CSS.name).read_text(encoding="utf-8")
    assert built == css


# ------------------------------------------------------------------------------ in the browser

# The switcher is the same link and script on every page: it is followed from a page without
# explorers, whose loads (this one and the other edition's) are light. A section of it whose id
# both editions keep (every page's translated headings keep their English ids: test_i18n.py).
SWITCH_PAGES = ["book/instructors.html", f"{ZH}/book/instructors.html"]
SECTION = "binder"


def other_edition(page: str) -> str:
    return page.removeprefix(f"{ZH}/") if page.startswith(f"{ZH}/") else f"{ZH}/{page}"


@pytest.mark.browser
@pytest.mark.parametrize("page_path", SWITCH_PAGES)
def test_switcher_keeps_the_section_with_the_keyboard(visit: Visit) -> None:
    """Open a section (#binder), Tab to the switcher, press Enter: the same section of the
    page in the other language opens (at the root and under a sub-path)."""
    start = visit.mark()
    # A page load of its own, on purpose: it checks arriving at a URL with a fragment and
    # following the switcher, which navigates away; the shared page stays where it is.
    page = visit.page.context.new_page()
    visit.watch(page)
    try:
        page.goto(visit.site.url(visit.page_path) + f"#{SECTION}", wait_until="load")
        link = page.locator("a.convlab-language-link")
        assert link.is_visible()
        assert link.get_attribute("href").endswith(f"#{SECTION}")
        for _ in range(100):  # Tab from the top of the page until the switcher has focus
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.classList.contains("
                             "'convlab-language-link')"):
                break
        else:
            pytest.fail("the switcher cannot be reached with Tab")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == visit.site.url(other_edition(visit.page_path)) + f"#{SECTION}"
        assert page.evaluate(f"document.getElementById('{SECTION}') !== null")
        page.wait_for_load_state("networkidle")
    finally:
        page.close()
    visit.assert_clean_since(start)


@pytest.mark.browser
@pytest.mark.parametrize("page_path", SWITCH_PAGES)
def test_switcher_is_in_the_header_on_a_phone(phone_dark_visit: Visit) -> None:
    page = phone_dark_visit.page
    box = page.locator("a.convlab-language-link").bounding_box()
    assert box is not None, "the switcher is not shown on a phone"
    assert 0 <= box["x"] and box["x"] + box["width"] <= 390 and box["y"] < 120
    name = page.locator("a.convlab-language-link").evaluate("a => a.textContent.trim()")
    assert name.endswith(("中文", "English")) and len(name) > len("English")


@pytest.mark.browser
@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", [f"{ZH}/book/01_convolution.html"])
def test_chinese_pages_use_a_chinese_system_font(visit: Visit) -> None:
    family = visit.page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in family and "PingFang SC" in family


# ------------------------------------------------------------------------------ no English left


# What a reader of a Chinese page sees or hears, in the browser: the text of every visible
# block (a paragraph, list item, cell, heading, label, link, SVG text …: a Chinese sentence
# may quote an English name or a PyTorch message, so a block counts as a whole), and the
# aria-label, title, alt, placeholder, aria-valuetext and data-bs-title of every element (not
# itself display: none), plus the document's title. Left out: code (code, pre, kbd, samp),
# math, text marked English (lang="en": the switcher's "English", the glossary's English
# column) and the names of
# another program's English interface (MyST's {guilabel} and {menuselection}).
SEEN_TEXTS = """() => {
  const SKIP = 'code, pre, kbd, samp, math, mjx-container, script, style, noscript, '
    + '.guilabel, .menuselection, [lang^="en"]';
  const BLOCK = 'p, li, td, th, h1, h2, h3, h4, h5, h6, dt, dd, figcaption, caption, label, '
    + 'button, summary, text, .widget-readout, .admonition-title';
  const seen = [];
  const add = (kind, text, el) => {
    text = (text || '').replace(/\\s+/g, ' ').trim();
    if (text) seen.push({kind, text, tag: el.tagName.toLowerCase(),
                         cls: String(el.className && el.className.baseVal !== undefined
                                     ? el.className.baseVal : el.className || '')});
  };
  add('title', document.title, document.documentElement);
  const blocks = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!el || !node.textContent.trim() || el.closest(SKIP)) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    blocks.add(el.closest(BLOCK) || el);
  }
  for (const block of blocks) {
    const copy = block.cloneNode(true);  // its text without code and math
    copy.querySelectorAll(SKIP).forEach(n => n.remove());
    add('text', copy.textContent, block);
  }
  const NAMES = ['aria-label', 'title', 'alt', 'placeholder', 'aria-valuetext', 'data-bs-title'];
  for (const el of document.querySelectorAll(NAMES.map(n => `[${n}]`).join(', '))) {
    // an element that is not rendered is neither seen nor read (ipywidgets' empty description
    // label of an HTML widget: display none, title "null"); a closed menu's items count
    if (el.closest(SKIP) || getComputedStyle(el).display === 'none') continue;
    for (const name of NAMES) if (el.hasAttribute(name)) add(name, el.getAttribute(name), el);
  }
  return seen;
}"""

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# A token of code or data, not a word: an identifier or expression (conv1_2, y.grad_fn,
# requires_grad=True, input[0], MulBackward0, 3×3, 0x7f…), a number.
CODE_TOKEN = re.compile(r"[_.()\[\]=<>{}/\\0-9×#@]")
WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
#: Words a Chinese page may show as they are: names (of the course, programs, a person and a
#: model in the chapters' figures), PyTorch's class and module names and Python's ``id`` (the
#: objects figure shows ``id 0x…``), the kernels' names that the image explorer's kernel slider
#: shows (the values a chapter passes as ``kernel=``, added in the test).
NAMES = {"ConvLab", "PyTorch", "Python", "Jupyter", "JupyterLab", "JupyterHub", "Binder",
         "GitHub", "nbgrader", "nbgitpuller", "Grace", "Hopper", "VGG", "ReLU", "Tensor",
         "autograd", "id"}


def english_words(text: str, names: set[str]) -> list[str]:
    """The English words of ``text`` that are not code, a number or one of ``names``."""
    if CJK.search(text):
        return []
    words = [w for token in text.split() if not CODE_TOKEN.search(token)
             and token.strip(",;:!?'\"“”‘’") not in names
             for w in WORD.findall(token)]
    return [w for w in words if len(w) > 1 and w not in names]


def test_english_words_finds_prose_but_not_code_or_names() -> None:
    names = NAMES | {"sobel-x"}
    assert english_words("Toggle primary sidebar", names) == ["Toggle", "primary", "sidebar"]
    assert english_words("Link to this heading", names) == ["Link", "to", "this", "heading"]
    assert english_words("第 1 章 (Convolution, .ipynb)", names) == []
    assert english_words("Tensor · requires_grad=True", names) == []
    assert english_words("y_cut.grad_fn", names) == []
    assert english_words("sobel-x", names) == []
    assert english_words("ConvLab - Home", names) == ["Home"]
    assert english_words("window", names) == ["window"]


@pytest.mark.browser
@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", ZH_PAGES)
def test_a_chinese_page_shows_no_english_text(visit: Visit) -> None:
    """Every text a reader sees or a screen reader reads on a Chinese page is Chinese, but for
    code, math, names (:data:`NAMES`) and what is marked English (issue #20)."""
    from convlab import draw

    names = NAMES | set(draw.IMAGE_KERNELS)
    english = sorted({f"{seen['kind']} <{seen['tag']} class='{seen['cls'][:40]}'>: "
                      f"{seen['text'][:90]}"
                      for seen in visit.page.evaluate(SEEN_TEXTS)
                      if english_words(seen["text"], names)})
    assert not english, f"{len(english)} English texts on {visit.page_path}:\n" + "\n".join(
        english)
