"""Browser tests of the built site (``_build/html``) in headless Chromium, offline.

For every page, served under a sub-path (as on GitHub Pages; ``conftest.SUBPATH``): no console
errors, no failed requests, no request leaving 127.0.0.1, a title and a main heading; the pages
that read their own address (the root redirects, search) at the server root too. For every
widget area: each slider, moved with the keyboard, changes what is displayed, and no slider move
requests anything (so a URL prefix cannot change what moving them does). What a page does once
loaded (sliders, explorer frames, quick checks, solutions) is checked on that same load
(``UNDER_SUBPATH``). Each page is loaded once per server and every check of that page runs on
that load (the ``visit`` fixture, see ``conftest.py``). Screenshots of every page (its first
screen, or all of it with ``CONVLAB_FULL_SCREENSHOTS=1``) and of every explorer before and after
its sliders move are saved under ``_build/screenshots/`` for people to look at."""

from __future__ import annotations

import os
import re

import pytest

from conftest import CHAPTER_PAGE, SCREENSHOTS, SITE, SUBPATH, UNDER_SUBPATH, Visit, built_pages

pytestmark = [pytest.mark.site, pytest.mark.browser]

PAGES = built_pages()
# What a reader first sees of each page; CONVLAB_FULL_SCREENSHOTS=1 captures whole pages (a
# chapter page is many screens long: each whole-page capture takes seconds).
FULL_PAGE_SCREENSHOTS = os.environ.get("CONVLAB_FULL_SCREENSHOTS") == "1"
CHAPTERS = [p for p in PAGES if CHAPTER_PAGE.match(p)]

# What a reader sees of one widget area: the displayed frames, not the controls.
DISPLAYED = """root => Array.from(root.querySelectorAll(
        '.widget-html-content, .widget-image, img, [data-frame]'))
    .filter(el => el.offsetParent !== null)
    .map(el => el.getAttribute('data-frame') || el.getAttribute('src') || el.innerHTML)
    .join('\\n')"""


def screenshot_name(visit: Visit, suffix: str = "") -> str:
    where = "subpath" if visit.on_subpath else "root"
    return f"{where}/{visit.page_path.replace('/', '__').removesuffix('.html')}{suffix}.png"


def test_site_has_every_page_of_the_toc() -> None:
    expected = {"book/intro.html", "book/instructors.html", "book/explorers.html"} | {
        f"book/{name}.html"
        for name in (
            "01_convolution",
            "02_multichannel_kernels",
            "03_detach_and_autograd",
            "04_receptive_fields",
            "05_transposed_convolution",
        )
    }
    assert expected <= set(PAGES), f"missing pages: {sorted(expected - set(PAGES))}"


# Pages whose scripts read their own address (the root redirects, search): loaded at the server
# root as well as under the sub-path (conftest.UNDER_SUBPATH).
READ_THEIR_ADDRESS = [p for p in PAGES if p.rsplit("/", 1)[-1] in ("index.html", "search.html")]


@pytest.mark.parametrize(
    ("site", "page_path"),
    [(SUBPATH, p) for p in PAGES] + [("", p) for p in READ_THEIR_ADDRESS],
    ids=[f"subpath-{p}" for p in PAGES] + [f"root-{p}" for p in READ_THEIR_ADDRESS],
    indirect=["site"],
)
def test_page_loads_clean_offline(visit: Visit, page_path: str) -> None:
    page = visit.page
    if page_path == "index.html":  # the redirect to the first page
        page.wait_for_url(re.compile(r"book/intro\.html$"))
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
    assert page.title().strip(), "the page has no <title>"
    heading = page.locator("main h1:visible").first
    assert heading.is_visible(), "the main heading does not render"
    assert heading.inner_text().strip()
    if visit.on_subpath:  # one screenshot per page is enough to look at
        path = SCREENSHOTS / screenshot_name(visit)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=FULL_PAGE_SCREENSHOTS)
    problems = visit.problems if page_path == "index.html" else visit.load_problems
    assert problems == [], "\n".join(problems)


WIDGET_PAGES = [
    p for p in PAGES
    if "application/vnd.jupyter.widget-view+json" in (SITE / p).read_text(encoding="utf-8")
]


def test_chapters_have_explorers() -> None:
    assert set(CHAPTERS) <= set(WIDGET_PAGES), (
        f"chapters without a slider explorer: {sorted(set(CHAPTERS) - set(WIDGET_PAGES))}"
    )


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", WIDGET_PAGES)
def test_every_slider_changes_what_is_displayed(visit: Visit) -> None:
    page, start, sent = visit.page, visit.mark(), visit.mark_requests()
    # Element handles, not locators: a locator finds its element again in the whole page at
    # every use (the widgets' elements stay while their values change).
    handles = page.query_selector_all(".widget-subarea .noUi-handle[role=slider]")
    assert handles, "a page with widgets should have at least one slider"
    for handle in handles:
        area = handle.evaluate_handle("h => h.closest('.widget-subarea')").as_element()
        slider = handle.evaluate_handle("h => h.closest('div[class*=\"widget-slider\"]')")
        handle.scroll_into_view_if_needed()
        before_value = handle.get_attribute("aria-valuenow")
        before = area.evaluate(DISPLAYED)
        handle.focus()
        back = "ArrowLeft"
        handle.press("ArrowRight")
        if handle.get_attribute("aria-valuenow") == before_value:  # already at the end
            handle.press("ArrowLeft")
            back = "ArrowRight"
        after_value = handle.get_attribute("aria-valuenow")
        label = slider.evaluate("s => s.querySelector('label').innerText")
        assert after_value != before_value, f"slider {label!r} did not move with the keyboard"
        page.wait_for_function(
            f"([root, before]) => ({DISPLAYED})(root) !== before",
            arg=[area, before],
            timeout=5_000,
        )
        # Labelled, and announcing the value the reader sees (not an option index).
        assert handle.get_attribute("aria-label") == label.strip()
        page.wait_for_function(
            "([h, s]) => h.getAttribute('aria-valuetext')"
            " === s.querySelector('div[class*=\"widget-readout\"]').textContent.trim()",
            arg=[handle, slider],
            timeout=2_000,
        )
        handle.press(back)  # the shared page as it was, for the page's other tests
        assert handle.get_attribute("aria-valuenow") == before_value, f"{label!r} is not back"
    visit.assert_clean_since(start)
    assert visit.requested_since(sent) == [], "moving the sliders requested files"


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", CHAPTERS)
def test_solutions_are_hidden_until_clicked(visit: Visit) -> None:
    page, start = visit.page, visit.mark()
    solutions = page.locator("div.solution.dropdown")
    assert solutions.count() > 0, "every chapter has exercises with revealable solutions"
    first = solutions.first
    first.scroll_into_view_if_needed()
    body = first.locator("section, .cell").first
    assert not body.is_visible(), "a solution is visible before it is clicked"
    first.locator(".admonition-title").click()
    body.wait_for(state="visible", timeout=5_000)
    visit.assert_clean_since(start)


QUIZ_PAGES = [p for p in PAGES if 'class="convlab-quiz"' in (SITE / p).read_text(encoding="utf-8")]


def test_every_chapter_has_at_least_three_quick_checks() -> None:
    for page in CHAPTERS:
        count = (SITE / page).read_text(encoding="utf-8").count('class="convlab-quiz"')
        assert count >= 3, f"{page} has {count} quick checks"


def _hinted_wrong_answer(kind: str, data: dict) -> tuple[object, str] | None:
    """A wrong answer the quiz has a specific hint for, and the start of that hint."""
    for value, message in data.get("hints", []):
        if kind in ("number", "shape"):
            return value, " ".join(message.split())
        if value not in data["correct"]:  # choice/cells: a wrongly ticked option
            return {value}, " ".join(message.split())
    return None


def _give(quiz: object, kind: str, answer: object) -> None:
    """Enter one answer with the keyboard: a number, a shape or a set of ticked options."""
    if kind == "number":
        box = quiz.query_selector("input[type=text]")
        box.fill(f"{answer:g}")
        box.press("Enter")
    elif kind == "shape":
        box = quiz.query_selector("input[type=text]")
        box.fill("(" + ", ".join(map(str, answer)) + ")")
        box.press("Enter")
    else:
        for i, option in enumerate(quiz.query_selector_all(".convlab-quiz-options input")):
            if option.is_checked() != (i in answer):
                option.focus()
                option.press("Space")
        quiz.query_selector("button.convlab-quiz-check").press("Enter")


def _answer(quiz: object, data: dict, kind: str, right: bool) -> None:
    """Type or tick an answer, right or wrong, the way a reader would (keyboard only)."""
    if kind in ("number", "shape"):
        box = quiz.query_selector("input[type=text]")
        if kind == "number":
            value = data["answer"] if right else data["answer"] + 1000
            text = f" {value:g} " if right else str(value)
        else:
            dims = list(data["answer"]) if right else [data["answer"][0] + 1, *data["answer"][1:]]
            text = "(" + ", ".join(map(str, dims)) + ",)"  # a trailing comma is accepted
        box.fill(text)
        box.press("Enter")
        return
    options = quiz.query_selector_all(".convlab-quiz-options input")
    correct = set(data["correct"])
    chosen = correct if right else {next(i for i in range(len(options)) if i not in correct)}
    for i, box in enumerate(options):
        if box.is_checked() != (i in chosen):
            box.focus()
            box.press("Space")
    quiz.query_selector("button.convlab-quiz-check").press("Enter")


# Click every going-further block's title: open the closed blocks, or close the open ones.
TOGGLE_GOING_FURTHER = """() => document.querySelectorAll('.going-further > .admonition-title')
    .forEach(title => title.click())"""


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", QUIZ_PAGES)
def test_quick_checks_grade_answers_in_the_browser(visit: Visit) -> None:
    import json

    page, start = visit.page, visit.mark()
    # Quick checks inside going-further blocks are graded too: open the collapsed blocks first,
    # and close them again afterwards for the page's other tests. (Opening them is not what
    # this test checks, so they are clicked in one go by script: a pointer click waits for each
    # title to be visible and stable on screen. tests/test_route_site.py checks the blocks.)
    page.evaluate(TOGGLE_GOING_FURTHER)
    kinds = set()
    # Element handles, not locators: a locator finds its element again in the whole page at
    # every use (a quick check's elements stay; only the feedback's text changes).
    for quiz in page.query_selector_all("div.convlab-quiz"):
        quiz.scroll_into_view_if_needed()
        kind = quiz.get_attribute("data-kind")
        data = json.loads(quiz.get_attribute("data-quiz"))
        feedback = quiz.query_selector(".convlab-quiz-feedback")
        assert feedback.get_attribute("aria-live") == "polite"
        wrong_possible = kind in ("number", "shape") or len(set(data["correct"])) < len(
            quiz.query_selector_all(".convlab-quiz-options input"))
        if wrong_possible:
            _answer(quiz, data, kind, right=False)
            assert feedback.get_attribute("data-correct") == "false", kind
            assert feedback.inner_text().startswith("✗"), "wrong is said in words too"
        hinted = _hinted_wrong_answer(kind, data)
        if hinted is not None:
            answer, message = hinted
            _give(quiz, kind, answer)
            assert feedback.get_attribute("data-correct") == "false"
            assert message[:40] in " ".join(feedback.inner_text().split()), (
                f"the specific hint for {answer!r} is not shown ({kind})")
        _answer(quiz, data, kind, right=True)
        assert feedback.get_attribute("data-correct") == "true", (kind, data)
        assert feedback.inner_text().startswith("✓")
        kinds.add(kind)
    page.evaluate(TOGGLE_GOING_FURTHER)
    assert kinds, "no quick check found"
    visit.assert_clean_since(start)


def test_every_quick_check_kind_appears_on_the_site() -> None:
    html = "".join((SITE / p).read_text(encoding="utf-8") for p in QUIZ_PAGES)
    for kind in ("number", "shape", "choice", "cells"):
        assert f'data-kind="{kind}"' in html, f"no {kind} quick check on the site"


# Every frame of an explorer names the parameters it was computed for (data-frame="k=3 s=1");
# each name that is a slider must equal what that slider's readout shows.
FRAMES_MATCH_SLIDERS = """root => {
    const readouts = {};
    for (const slider of root.querySelectorAll('[class*="convlab-slider-"]')) {
        const name = Array.from(slider.classList).find(c => c.startsWith('convlab-slider-'))
            .slice('convlab-slider-'.length);
        const readout = slider.querySelector('.widget-readout');
        const select = slider.querySelector('select');
        readouts[name] = readout ? readout.textContent.trim()
            : select ? select.options[select.selectedIndex].text.trim() : null;
    }
    // a value that is a word (a layer type) is shown in the page's language: the table the
    // page script translates with (the spec's strings; tests/test_explorers_browser.py checks it)
    const picture = root.querySelector('.convlab-js-picture[data-spec]');
    const strings = picture ? JSON.parse(picture.getAttribute('data-spec')).strings || {} : {};
    const wrong = [];
    for (const el of root.querySelectorAll('[data-frame]')) {
        if (el.offsetParent === null) continue;
        for (const pair of el.getAttribute('data-frame').split(' ')) {
            const [name, raw] = pair.split('=');
            const value = strings[raw] || raw;
            if (name in readouts && readouts[name] !== null && readouts[name] !== value)
                wrong.push(`${name}: frame ${value}, slider ${readouts[name]}`);
        }
    }
    return wrong;
}"""

# The layers of one explorer picture are drawn on top of each other: same top-left corner.
LAYERS_ALIGNED = """root => {
    const corners = new Set();
    for (const grid of root.querySelectorAll('.widget-gridbox')) {
        const svgs = Array.from(grid.querySelectorAll('svg')).filter(s => s.offsetParent !== null);
        if (svgs.length < 2) continue;
        const boxes = svgs.map(s => s.getBoundingClientRect());
        const first = boxes[0];
        if (boxes.some(b => Math.abs(b.left - first.left) > 1 || Math.abs(b.top - first.top) > 1))
            corners.add('misaligned');
    }
    return corners.size === 0;
}"""


def _explorer_pages() -> list[str]:
    return [p for p in WIDGET_PAGES if "convlab-explorer" in (SITE / p).read_text(encoding="utf-8")]


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", _explorer_pages())
def test_explorer_frames_match_their_sliders(visit: Visit) -> None:
    page, start = visit.page, visit.mark()
    explorers = page.query_selector_all(".convlab-explorer")  # element handles, as above
    assert explorers
    for n, root in enumerate(explorers):
        root.scroll_into_view_if_needed()
        root.screenshot(path=str(SCREENSHOTS / screenshot_name(visit, f"-explorer{n}-before")))
        assert root.evaluate(FRAMES_MATCH_SLIDERS) == []
        assert root.evaluate(LAYERS_ALIGNED), "the layers of a picture do not overlay"
        for handle in root.query_selector_all(".noUi-handle[role=slider]"):
            before = handle.get_attribute("aria-valuenow")
            handle.focus()
            back = "ArrowLeft"
            handle.press("ArrowRight")
            if handle.get_attribute("aria-valuenow") == before:
                handle.press("ArrowLeft")
                back = "ArrowRight"
            page.wait_for_function(FRAMES_MATCH_SLIDERS.replace(
                "return wrong;", "return wrong.length === 0;"), arg=root,
                timeout=5_000)
            handle.press(back)  # the shared page as it was, for the page's other tests
            page.wait_for_function(FRAMES_MATCH_SLIDERS.replace(
                "return wrong;", "return wrong.length === 0;"), arg=root,
                timeout=5_000)
        root.screenshot(path=str(SCREENSHOTS / screenshot_name(visit, f"-explorer{n}-after")))
    visit.assert_clean_since(start)


@pytest.mark.parametrize("page_path", ["search.html?q=output_padding"])
def test_search_finds_the_chapter_that_teaches_a_term(visit: Visit) -> None:
    page = visit.page
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=15_000)
    titles = page.locator("#search-results li a").all_inner_texts()
    assert any("Transposed convolution" in title for title in titles), titles
    visit.assert_clean_since(0)  # its own load: nothing went wrong at all
