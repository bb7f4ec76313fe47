"""Every reader: screen reader, keyboard, phone and dark mode, measured in headless Chromium.

Each page is loaded once, and every check of that page runs on that load (the ``visit``
fixture, see ``tests/conftest.py``). What must see the page as it loaded is measured right
after the load, before any test touches the page (``on_load``): axe in light mode and the
layout shift on the desktop, then, on the same load shown in dark mode on a 390×844 phone screen
(``Visit.show``), the widths and axe in dark mode. The other checks run on the shared page
(``visit``, or ``phone_dark_visit`` for the same page shown on the phone in dark mode).

* axe-core (``node_modules/axe-core``, pinned in package.json) on every page, in light and in
  dark mode: no critical and no serious violation, the theme's HTML included.
* Cumulative layout shift, from navigation until at least 1 s after the page settled, is at
  most 0.1 on every page (a PerformanceObserver sums the layout-shift entries).
* On the phone: neither the page nor any widget, quiz or output is wider than the screen, and
  every slider's readout is on screen.
* Keyboard: slider handles, quiz controls and buttons show a focus ring of at least 3:1
  against the page (light and dark); formulas (typeset by MathJax when the site is built) are
  not Tab stops but carry assistive MathML.
* Every image has a text alternative that is not its file name (read from the built HTML).
* Every icon on screen shows its glyph (the theme's Font Awesome webfont; the all-icons script
  is not loaded, see ``book/_ext/convlab_site.py``).
* Explorer frame changes are announced by a polite live region.
* Weight: a chapter page and every same-origin file it loads (the browser's resource list) add
  up to at most 1.5 MB gzip-compressed, measured from the built files (no timing).

Screenshots of every chapter in dark mode at 390 px are written to ``_build/screenshots/a11y/``
for people to look at.
"""

from __future__ import annotations

import gzip
import html.parser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import (
    CHAPTER_PAGE,
    ROOT,
    SCREENSHOTS,
    SITE,
    UNDER_SUBPATH,
    Visit,
    built_pages,
    on_load,
)

pytestmark = [pytest.mark.site, pytest.mark.browser]

# The page-by-page checks run against the site served under a sub-path (conftest.UNDER_SUBPATH).

PAGES = [p for p in built_pages() if p != "index.html"]  # index.html only redirects
CHAPTERS = [p for p in PAGES if CHAPTER_PAGE.match(p)]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
MAX_CLS = 0.1
AFTER_WIDGETS_MS = 1000  # layout shifts are summed until at least this long after the widgets
# Minor or moderate axe rules that we fixed and keep fixed.
ALSO_REFUSED = {"empty-table-header", "region"}
MAX_CHAPTER_GZIP_BYTES = 1_500_000  # issue 19: at most 1.5 MB gzip per chapter page
# Chromium keeps this many resource-timing entries by default; a fuller list is cut short.
RESOURCE_BUFFER = 250

# The cumulative layout shift of the page so far: every layout-shift entry since navigation
# (the browser buffers them) that no user input caused.
CLS = """() => new Promise(resolve => {
  new PerformanceObserver((list, observer) => {
    observer.disconnect();
    resolve(list.getEntries().filter(e => !e.hadRecentInput)
      .reduce((sum, e) => sum + e.value, 0));
  }).observe({type: 'layout-shift', buffered: true});
  // No entry at all: the observer is never called back.
  setTimeout(() => resolve(0), 500);
})"""

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


def _screenshot(visit: Visit, suffix: str) -> None:
    name = visit.page_path.replace("/", "__").removesuffix(".html")
    path = SCREENSHOTS / "a11y" / f"{name}-{suffix}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(path), full_page=True)


def _axe(visit: Visit, scheme: str) -> list[str]:
    """The critical and serious violations (and those of ALSO_REFUSED) axe finds on the page
    as shown now, after checking that the page shows the ``scheme`` theme."""
    page, page_path = visit.page, visit.page_path
    if page_path != "404.html":  # the stand-alone 404 page has one colour scheme
        theme = page.evaluate("() => document.documentElement.dataset.theme")
        assert theme == scheme, f"the page shows the {theme} theme, not {scheme}"
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['impact']} {v['id']} ({v['help']}): "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"] if v["impact"] in ("critical", "serious")
        or v["id"] in ALSO_REFUSED
    ]
    return bad


def test_axe_core_is_installed() -> None:
    assert AXE.is_file(), "axe-core is missing: run `npm ci` (make book does it)"


# ------------------------------------------------------------ the page as loaded (on_load)
# In this order, right after the page settles and before any test touches it.

@on_load("axe light")
def _axe_light(visit: Visit) -> list[str]:
    return _axe(visit, "light")


@on_load("layout shift")
def _layout_shift(visit: Visit) -> tuple[float, float]:
    """The cumulative layout shift from navigation until at least AFTER_WIDGETS_MS after the
    page settled (its widgets rendered, the network idle; nothing scrolled or pressed yet),
    and when it was measured (ms since navigation). Taken after axe's light-mode run, which
    reads the page without moving anything, so that most of the wait is spent on axe."""
    since_settled = visit.page.evaluate("() => performance.now()") - visit.settled_at
    visit.page.wait_for_timeout(max(0.0, AFTER_WIDGETS_MS - since_settled))
    return visit.page.evaluate(CLS), visit.page.evaluate("() => performance.now()")


@on_load("phone widths", view="phone-dark")
def _phone_widths(visit: Visit) -> list[str]:
    """Everything wider than the 390 px screen (dark mode changes colours only, so the dark
    phone view serves both); a screenshot of every chapter as shown."""
    if visit.page_path in CHAPTERS:
        _screenshot(visit, "dark-390")
    return visit.page.evaluate(OVERFLOW)


@on_load("axe dark", view="phone-dark")
def _axe_dark(visit: Visit) -> list[str]:
    return _axe(visit, "dark")


@UNDER_SUBPATH
@pytest.mark.on_load("layout shift")
@pytest.mark.parametrize("page_path", PAGES)
def test_layout_shift_is_small(visit: Visit) -> None:
    cls, until = visit.on_load("layout shift")
    assert cls <= MAX_CLS, (f"{visit.page_path}: cumulative layout shift {cls:.3f} > {MAX_CLS} "
                            f"(measured until {until / 1000:.1f} s)")


# ------------------------------------------------------------ the shared desktop load (light)


# The page itself and every file it has fetched since navigation (scripts, styles, fonts,
# images, the formulas' fonts), as the browser recorded them.
LOADED_URLS = """() => [location.href,
    ...performance.getEntriesByType('resource').map(entry => entry.name)]"""


def gzip_size(path: Path) -> int:
    """Bytes of ``path`` compressed as a web server sends it (gzip, level 6)."""
    return len(gzip.compress(path.read_bytes(), 6))


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", CHAPTERS)
def test_chapter_transfer_stays_within_the_budget(visit: Visit) -> None:
    urls = visit.page.evaluate(LOADED_URLS)
    assert len(urls) < RESOURCE_BUFFER, "the browser's resource list is full: count incomplete"
    files = set()
    for url in urls:
        parsed = urlparse(url)
        if parsed.scheme in ("http", "https") and parsed.hostname == "127.0.0.1":
            files.add(visit.site.file(url))
    missing = sorted(str(f.relative_to(SITE)) for f in files if not f.is_file())
    assert missing == [], f"loaded but not in the built site: {missing}"
    sizes = {f.relative_to(SITE).as_posix(): gzip_size(f) for f in files}
    total = sum(sizes.values())
    largest = sorted(sizes.items(), key=lambda item: -item[1])[:6]
    assert total <= MAX_CHAPTER_GZIP_BYTES, (
        f"{visit.page_path}: {total:,} bytes gzip in {len(sizes)} files "
        f"(budget {MAX_CHAPTER_GZIP_BYTES:,}); largest: "
        + ", ".join(f"{name} {size:,}" for name, size in largest))
    assert sizes.get(visit.page_path, 0) > 0 and len(sizes) > 10, sorted(sizes)


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", PAGES)
@pytest.mark.on_load("axe light")
def test_axe_finds_no_critical_or_serious_violation_in_light_mode(visit: Visit) -> None:
    bad = visit.on_load("axe light")
    assert bad == [], f"{visit.page_path} in light mode:\n" + "\n".join(bad)


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", CHAPTERS)
def test_formulas_are_read_but_not_tab_stops(visit: Visit) -> None:
    counts = visit.page.evaluate("""() => ({
        formulas: document.querySelectorAll('mjx-container').length,
        tabStops: document.querySelectorAll('mjx-container[tabindex]:not([tabindex="-1"])')
            .length,
        readable: document.querySelectorAll('mjx-container mjx-assistive-mml math').length})""")
    assert counts["formulas"] > 0, "no formula was typeset"
    assert counts["tabStops"] == 0, f"{counts['tabStops']} formulas are Tab stops"
    assert counts["readable"] == counts["formulas"], counts


# Every icon on screen (<i class="fa-…">, drawn with the theme's Font Awesome webfont and the
# glyphs in convlab.css) that shows no glyph: no ::before content, or nothing drawn.
BLANK_ICONS = """async () => {
  await document.fonts.ready;
  return Array.from(document.querySelectorAll('i[class*="fa-"]'))
    .filter(i => i.getClientRects().length > 0)
    .filter(i => !/^"\\S+"$/.test(getComputedStyle(i, '::before').content)
      || i.getBoundingClientRect().width === 0)
    .map(i => i.className);
}"""


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", PAGES)
def test_every_icon_shows_a_glyph(visit: Visit) -> None:
    blank = visit.page.evaluate(BLANK_ICONS)
    assert blank == [], f"{visit.page_path}: icons without a glyph: {blank}"
    loaded = visit.page.evaluate("""() => Array.from(document.fonts)
        .filter(f => f.family.includes('Font Awesome') && f.status === 'loaded').length""")
    icons = visit.page.evaluate("""() => document.querySelectorAll('i[class*="fa-"]').length""")
    assert icons == 0 or loaded > 0, "no Font Awesome webfont was loaded"


FOCUSABLE = {
    "slider handle": ".convlab-explorer .noUi-handle",
    "quiz answer": ".convlab-quiz input",
    "quiz button": ".convlab-quiz-check",
    "hide-input toggle": "details.hide summary",
}
FOCUS_PAGE = "book/01_convolution.html"


def _focus_rings(visit: Visit) -> None:
    page, problems = visit.page, []
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
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    assert problems == [], f"{visit.view}:\n" + "\n".join(problems)


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", [FOCUS_PAGE])
def test_keyboard_focus_is_visible_in_light_mode(visit: Visit) -> None:
    _focus_rings(visit)


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", [FOCUS_PAGE])
def test_explorer_frame_changes_are_announced(visit: Visit) -> None:
    page = visit.page
    explorer = page.locator(".convlab-explorer").first
    explorer.scroll_into_view_if_needed()
    regions = explorer.locator("[aria-live=polite]")
    assert regions.count() >= 1, "the explorer has no polite live region"
    before = regions.first.inner_text()
    handles = explorer.locator(".noUi-handle")
    moved = []
    for n in range(handles.count()):  # not every slider changes the caption
        handle = handles.nth(n)
        handle.focus()
        at_end = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
        page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
        moved.append((handle, "ArrowRight" if at_end else "ArrowLeft"))
        page.wait_for_timeout(700)
        if regions.first.inner_text() not in ("", before):
            break
    said = regions.first.inner_text().strip()
    shown = explorer.evaluate("""root => Array.from(
        root.querySelectorAll('.convlab-caption, figcaption'))
        .filter(c => c.offsetParent !== null).map(c => c.textContent.trim()).join(' ')""")
    for handle, back in reversed(moved):  # the shared page as it was, for its other tests
        handle.press(back)
    assert said and said in shown, f"announced {said!r}, shown {shown!r}"


# ------------------------------------------------------------ the same load: dark, on a phone

@UNDER_SUBPATH
@pytest.mark.on_load("phone widths")
@pytest.mark.parametrize("page_path", PAGES)
def test_nothing_is_wider_than_a_phone(visit: Visit) -> None:
    wide = visit.on_load("phone widths")
    assert wide == [], f"{visit.page_path} at 390 px:\n" + "\n".join(wide[:15])


@UNDER_SUBPATH
@pytest.mark.on_load("axe dark")
@pytest.mark.parametrize("page_path", PAGES)
def test_axe_finds_no_critical_or_serious_violation_in_dark_mode(visit: Visit) -> None:
    bad = visit.on_load("axe dark")
    assert bad == [], f"{visit.page_path} in dark mode:\n" + "\n".join(bad)


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", [FOCUS_PAGE])
def test_keyboard_focus_is_visible_in_dark_mode(phone_dark_visit: Visit) -> None:
    _focus_rings(phone_dark_visit)


# ------------------------------------------------------------ the built HTML (no browser)

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
        elif alt.strip() and (Path(alt).suffix in {".png", ".svg", ".jpg", ".webp"} or "/" in alt
                              or alt == Path(src).name):
            bad.append(f"{src[:60]}: alt is a file name ({alt})")
        elif not alt.strip() and "_images/" in src:
            bad.append(f"{src[:60]}: a figure with an empty alt")
    assert bad == [], "\n".join(bad)
