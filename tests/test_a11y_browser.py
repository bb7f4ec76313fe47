"""Every reader: screen reader, keyboard, phone and dark mode, measured in headless Chromium.

* axe-core (``node_modules/axe-core``, pinned in package.json) on every page, in light and in
  dark mode: no critical and no serious violation, the theme's HTML included.
* A 390×844 phone viewport: neither the page nor any widget, quiz or output is wider than the
  screen, and every slider's readout is on screen.
* Cumulative layout shift is measured by ``bench/transfer_size.py`` (not here: chapter 5 is
  still at about 0.1 while MathJax typesets the first screen).
* Keyboard: slider handles, quiz controls and buttons show a focus ring of at least 3:1
  against the page; MathJax formulas are not Tab stops but carry assistive MathML.
* Every image has a text alternative that is not its file name.

Screenshots at 390 px (light and dark) and in dark mode at 1280 px are written to
``_build/screenshots/a11y/`` for people to look at.
"""

from __future__ import annotations

import html.parser
import re
from pathlib import Path

import pytest

from conftest import ROOT, SCREENSHOTS, SITE, Site, built_pages

pytestmark = [pytest.mark.site, pytest.mark.browser]

# The page-by-page checks run against the site served at the root (the sub-path variant of the
# `site` fixture serves the same files; test_site.py covers it).
AT_ROOT = pytest.mark.parametrize("site", [""], ids=["root"], indirect=True)

PAGES = [p for p in built_pages() if p != "index.html"]  # index.html only redirects
CHAPTERS = [p for p in PAGES if re.match(r"book/0\d_", p)]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

WIDGETS_RENDERED = """() => Array.from(document.querySelectorAll(
        'script[type="application/vnd.jupyter.widget-view+json"]'))
    .every(s => s.parentElement.querySelector('.jupyter-widgets'))"""

# Contrast ratio (WCAG 2) of two CSS colours given as rgb()/rgba() strings.
CONTRAST = """([a, b]) => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [l1, l2] = [lum(rgb(a)), lum(rgb(b))].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
}"""

# The outline of the focused element and the background behind it (first opaque ancestor).
FOCUS_STYLE = """el => {
  const style = getComputedStyle(el);
  let node = el.parentElement, background = 'rgb(255, 255, 255)';
  while (node) {
    const bg = getComputedStyle(node).backgroundColor;
    if (bg && bg !== 'transparent' && !/rgba\\(.*, 0\\)$/.test(bg)) { background = bg; break; }
    node = node.parentElement;
  }
  return {style: style.outlineStyle, width: parseFloat(style.outlineWidth),
          color: style.outlineColor, background};
}"""

# Everything a reader could see that ends beyond the right edge of the screen.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, wide = [];
  if (document.documentElement.scrollWidth > width + 1) {
    wide.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  }
  const selector = '.bd-article .jupyter-widgets, .bd-article .convlab-quiz, '
    + '.bd-article .cell_output, .bd-article img, .bd-article svg, .bd-article table, '
    + '.bd-article mjx-container, .bd-article p, .bd-article .widget-readout';
  for (const el of document.querySelectorAll(selector)) {
    const box = el.getBoundingClientRect();
    // Code blocks and tables scroll inside their own keyboard-focusable boxes (axe checks
    // scrollable-region-focusable); closed details are not shown.
    if (box.width === 0
        || el.closest('.highlight, details:not([open]), .pst-scrollable-table-container')) {
      continue;
    }
    const scrolls = el.scrollWidth > el.clientWidth + 1
      && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    if (box.right > width + 1 || scrolls) {
      wide.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ').slice(0, 3)
        .join('.')} right=${Math.round(box.right)} scrollWidth=${el.scrollWidth}`);
    }
  }
  return wide;
}"""


def _open(browser: object, site: Site, page_path: str, viewport: dict[str, int],
          scheme: str) -> object:
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    page.goto(site.url(page_path), wait_until="load")
    page.wait_for_function(WIDGETS_RENDERED, timeout=30_000)
    page.wait_for_load_state("networkidle")
    page.evaluate("() => window.MathJax && window.MathJax.startup"
                  " ? window.MathJax.startup.promise.then(() => true) : true")
    return page


def _screenshot(page: object, page_path: str, suffix: str) -> None:
    path = SCREENSHOTS / "a11y" / f"{page_path.replace('/', '__').removesuffix('.html')}" \
        f"-{suffix}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def test_axe_core_is_installed() -> None:
    assert AXE.is_file(), "axe-core is missing: run `npm ci` (make book does it)"


@AT_ROOT
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("page_path", PAGES)
def test_axe_finds_no_critical_or_serious_violation(browser: object, site: Site,
                                                    page_path: str, scheme: str) -> None:
    page = _open(browser, site, page_path, DESKTOP, scheme)
    try:
        if page_path != "404.html":  # the stand-alone 404 page has one colour scheme
            theme = page.evaluate("() => document.documentElement.dataset.theme")
            assert theme == scheme, f"the page shows the {theme} theme, not {scheme}"
        if scheme == "dark" and page_path in CHAPTERS:
            _screenshot(page, page_path, "dark-1280")
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        bad = [
            f"{v['impact']} {v['id']} ({v['help']}): "
            + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
            for v in result["violations"] if v["impact"] in ("critical", "serious")
        ]
        assert bad == [], f"{page_path} in {scheme} mode:\n" + "\n".join(bad)
    finally:
        page.context.close()


@AT_ROOT
@pytest.mark.parametrize("page_path", PAGES)
def test_nothing_is_wider_than_a_phone(browser: object, site: Site, page_path: str) -> None:
    # Dark mode changes colours only, so one colour scheme is enough here; chapters are also
    # photographed in dark mode at this width.
    page = _open(browser, site, page_path, PHONE, "light")
    try:
        if page_path in CHAPTERS:
            _screenshot(page, page_path, "light-390")
            page.emulate_media(color_scheme="dark")
            page.wait_for_timeout(300)
            _screenshot(page, page_path, "dark-390")
        wide = page.evaluate(OVERFLOW)
        assert wide == [], f"{page_path} at 390 px:\n" + "\n".join(wide[:15])
    finally:
        page.context.close()


@AT_ROOT
@pytest.mark.parametrize("page_path", CHAPTERS)
def test_formulas_are_read_but_not_tab_stops(browser: object, site: Site,
                                             page_path: str) -> None:
    page = _open(browser, site, page_path, DESKTOP, "light")
    try:
        counts = page.evaluate("""() => ({
            formulas: document.querySelectorAll('mjx-container').length,
            tabStops: document.querySelectorAll('mjx-container[tabindex]:not([tabindex="-1"])')
                .length,
            readable: document.querySelectorAll('mjx-container mjx-assistive-mml math').length})""")
        assert counts["formulas"] > 0, "no formula was typeset"
        assert counts["tabStops"] == 0, f"{counts['tabStops']} formulas are Tab stops"
        assert counts["readable"] == counts["formulas"], counts
    finally:
        page.context.close()


FOCUSABLE = {
    "slider handle": ".convlab-explorer .noUi-handle",
    "quiz answer": ".convlab-quiz input",
    "quiz button": ".convlab-quiz-check",
    "hide-input toggle": "details.hide summary",
}


@AT_ROOT
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_keyboard_focus_is_visible(browser: object, site: Site, scheme: str) -> None:
    page = _open(browser, site, "book/01_convolution.html", DESKTOP, scheme)
    try:
        problems = []
        for what, selector in FOCUSABLE.items():
            target = page.locator(selector).first
            target.scroll_into_view_if_needed()
            # Reach it with the keyboard: from the element itself, Shift+Tab back, then Tab.
            target.focus()
            page.keyboard.press("Shift+Tab")
            page.keyboard.press("Tab")
            if not target.evaluate("el => el === document.activeElement"):
                problems.append(f"Tab misses the {what}")
                continue
            ring = target.evaluate(FOCUS_STYLE)
            if ring["style"] == "none" or ring["width"] < 2:
                problems.append(f"{what}: no focus ring {ring}")
                continue
            ratio = page.evaluate(CONTRAST, [ring["color"], ring["background"]])
            if ratio < 3:
                problems.append(f"{what}: focus ring {ring['color']} on {ring['background']} "
                                f"is {ratio:.2f}:1")
        assert problems == [], "\n".join(problems)
    finally:
        page.context.close()


class _Images(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.mark.parametrize("page_path", PAGES)
def test_every_image_has_a_meaningful_text_alternative(page_path: str) -> None:
    parser = _Images()
    parser.feed((SITE / page_path).read_text(encoding="utf-8"))
    bad = []
    for image in parser.images:
        alt = image.get("alt")
        src = image.get("src") or ""
        if alt is None:
            bad.append(f"{src[:60]}: no alt")
        elif alt.strip() and (Path(alt).suffix in {".png", ".svg", ".jpg"} or "/" in alt
                              or alt == Path(src).name):
            bad.append(f"{src[:60]}: alt is a file name ({alt})")
        elif not alt.strip() and "_images/" in src:
            bad.append(f"{src[:60]}: a figure with an empty alt")
    assert bad == [], "\n".join(bad)


@AT_ROOT
def test_explorer_frame_changes_are_announced(browser: object, site: Site) -> None:
    page = _open(browser, site, "book/01_convolution.html", DESKTOP, "light")
    try:
        explorer = page.locator(".convlab-explorer").first
        regions = explorer.locator("[aria-live=polite]")
        assert regions.count() >= 1, "the explorer has no polite live region"
        before = regions.first.inner_text()
        handles = explorer.locator(".noUi-handle")
        for n in range(handles.count()):  # not every slider changes the caption
            handle = handles.nth(n)
            handle.focus()
            at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute(
                "aria-valuemax")
            page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
            page.wait_for_timeout(700)
            if regions.first.inner_text() not in ("", before):
                break
        said = regions.first.inner_text().strip()
        shown = explorer.evaluate("""root => Array.from(root.querySelectorAll('figcaption'))
            .filter(c => c.offsetParent !== null).map(c => c.textContent.trim()).join(' ')""")
        assert said and said in shown, f"announced {said!r}, shown {shown!r}"
    finally:
        page.context.close()
