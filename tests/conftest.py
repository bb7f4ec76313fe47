"""Shared fixtures: the built site served on 127.0.0.1, a headless Chromium, and page visits.

Browser tests use Playwright for Python driving Debian's Chromium (``/usr/bin/chromium``);
Playwright's own browser download is never used. The site is served from ``_build/html``,
either at the server root or under a sub-path (as GitHub Pages serves a project site).

**Each page is loaded once per server.** A chapter page holds up to a thousand widgets and
MathJax, so loading it is the expensive part of a browser test. The ``visit`` fixture loads a
page the first time a test asks for it and hands every later test of the same page (on the same
server) that same open page, with the record of what went wrong while it was open:

* ``visit.page`` — the Playwright page, loaded, widgets rendered, network idle;
* ``visit.load_problems`` — console errors, page errors, failed requests, HTTP errors and
  requests leaving 127.0.0.1 seen while the page loaded and settled;
* ``visit.problems`` — the same, kept up to date while tests interact with the page.

To add a browser check, write a test that takes ``visit`` and parametrizes ``page_path``::

    @pytest.mark.parametrize("page_path", CHAPTERS)
    def test_something(visit: Visit) -> None:
        start = visit.mark()
        ...  # interact with visit.page
        visit.assert_clean_since(start)  # nothing went wrong during this test

Tests of one page are run together (``pytest_collection_modifyitems`` below orders every test
using ``visit`` by server and page, keeping their order otherwise), and only one page is open at
a time. A test sees the page as the previous tests of that page left it: move a slider relative
to where it is, not to an absolute value. A test that fails closes its page, so the next test
gets a fresh load instead of a page in an unknown state. A page that must be loaded in another
state (a URL with a query, another viewport, dark mode) is a different ``page_path`` key or a
fixture of its own, such as ``phone_dark_visit``: the same page loaded once more in dark mode
on a 390×844 phone screen, shared in the same way by every test that takes it (tests of one
page run light first, then dark on the phone).
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = Path(os.environ.get("CONVLAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Static files under an optional URL prefix; anything outside the prefix is a 404."""

    prefix = ""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def translate_path(self, path: str) -> str:
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return str(SITE / "__outside_prefix__")
            path = path[len(self.prefix):]
        return super().translate_path(path)


@dataclass(frozen=True)
class Site:
    """A running static server: ``url(page)`` gives the address of a built page."""

    base: str

    def url(self, page: str = "") -> str:
        return f"{self.base}/{page}"


#: The folders of the translated editions inside ``_build/html`` (``book/_ext/convlab_i18n.py``,
#: ``EDITIONS``): every site test that takes its pages from :func:`built_pages` runs on the
#: pages of every edition.
EDITION_FOLDERS = ("zh",)
#: A chapter page of any edition: ``book/01_convolution.html``, ``zh/book/01_convolution.html``.
CHAPTER_PAGE = re.compile(r"(?:(?:" + "|".join(EDITION_FOLDERS) + r")/)?book/0\d_")


def built_pages() -> list[str]:
    """Every HTML page of the built site (every edition), relative to ``_build/html``."""
    if not SITE.is_dir():
        return []
    return sorted(
        rel.as_posix()
        for rel in (p.relative_to(SITE) for p in SITE.rglob("*.html"))
        if not any(part.startswith(("_", ".")) for part in rel.parts)
    )


def in_every_edition(page: str) -> list[str]:
    """``page`` (of the English site) and the same page in every translated edition."""
    return [page, *(f"{folder}/{page}" for folder in EDITION_FOLDERS)]


def _serve(prefix: str) -> Iterator[Site]:
    handler = type("Handler", (_QuietHandler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(SITE))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}{prefix}")
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session", params=["", "/convlab"], ids=["root", "subpath"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The built site, served at the root and under ``/convlab/`` (like GitHub Pages)."""
    if not (SITE / "index.html").is_file():
        pytest.fail("_build/html is missing: run `make book` before the browser tests.")
    yield from _serve(request.param)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.fail(f"Browser tests need Chromium at {CHROMIUM}: apt-get install -y chromium "
                    "(or set CONVLAB_CHROMIUM to another Chromium/Chrome binary)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


# --------------------------------------------------------------------------- page visits

WIDGET_VIEW = 'script[type="application/vnd.jupyter.widget-view+json"]'

# Resolves once every embedded widget view has been rendered by the HTML manager.
WIDGETS_RENDERED = f"""() => Array.from(document.querySelectorAll('{WIDGET_VIEW}'))
    .every(s => s.parentElement.querySelector('.jupyter-widgets'))"""

SETTLE_MS = 300  # late console errors (e.g. from widget rendering) arrive within this


@dataclass
class Visit:
    """One load of one page, and everything that went wrong while it was open."""

    site: Site
    page_path: str
    page: object = None
    view: str = "desktop"  # a key of VIEWS
    problems: list[str] = field(default_factory=list)
    load_problems: list[str] = field(default_factory=list)

    def watch(self, page: object) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on("requestfailed", lambda req: self.problems.append(
            f"failed request: {req.url} ({req.failure})"))
        page.on("response", self._response)
        page.on("request", self._request)

    def _console(self, msg: object) -> None:
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text}")

    def _response(self, response: object) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def _request(self, request: object) -> None:
        url = urlparse(request.url)
        if url.scheme in ("data", "blob", "about"):
            return
        if url.hostname != "127.0.0.1":
            self.problems.append(f"request leaves the site: {request.url}")

    def mark(self) -> int:
        """A position in :attr:`problems`, for :meth:`assert_clean_since`."""
        return len(self.problems)

    def assert_clean_since(self, mark: int) -> None:
        """Fail with every problem recorded after ``mark``."""
        new = self.problems[mark:]
        assert new == [], "\n".join(new)

    @property
    def on_subpath(self) -> bool:
        return urlparse(self.site.base).path != ""

    def close(self) -> None:
        if self.page is not None:
            self.page.context.close()
            self.page = None


# How a page is shown: the desktop default, and a phone in dark mode (``phone_dark_visit``).
VIEWS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
    "phone-dark": {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark"},
}


def load(browser: object, site: Site, page_path: str, view: str = "desktop") -> Visit:
    """Open ``page_path`` in a fresh context, wait for its widgets and the network, settle."""
    context = browser.new_context(**VIEWS[view])
    visit = Visit(site, page_path, context.new_page(), view=view)
    visit.watch(visit.page)
    visit.page.goto(site.url(page_path), wait_until="load")
    visit.page.wait_for_function(WIDGETS_RENDERED, timeout=30_000)
    visit.page.wait_for_load_state("networkidle")
    visit.page.wait_for_timeout(SETTLE_MS)
    visit.load_problems = list(visit.problems)
    return visit


class Visits:
    """The open page visit, reused while tests ask for the same server and page."""

    def __init__(self, browser: object) -> None:
        self.browser = browser
        self.current: Visit | None = None
        self.loads = 0

    def get(self, site: Site, page_path: str, view: str = "desktop") -> Visit:
        current = self.current
        if current is None or (current.site, current.page_path, current.view) != (
                site, page_path, view):
            self.close()
            self.current = load(self.browser, site, page_path, view)
            self.loads += 1
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


@pytest.fixture(scope="session")
def visits(browser: object) -> Iterator[Visits]:
    """The session's page loads (one open at a time); see the module docstring."""
    opened = Visits(browser)
    yield opened
    opened.close()


def _visit(request: pytest.FixtureRequest, visits: Visits, site: Site, page_path: str,
           view: str) -> Iterator[Visit]:
    yield visits.get(site, page_path, view)
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        visits.close()  # the next test of this page starts from a fresh load


@pytest.fixture
def visit(request: pytest.FixtureRequest, visits: Visits, site: Site,
          page_path: str) -> Iterator[Visit]:
    """The loaded ``page_path`` on ``site``, shared with the other tests of that page."""
    yield from _visit(request, visits, site, page_path, "desktop")


@pytest.fixture
def phone_dark_visit(request: pytest.FixtureRequest, visits: Visits, site: Site,
                     page_path: str) -> Iterator[Visit]:
    """``page_path`` in dark mode at 390×844, shared like ``visit`` by the tests that take it."""
    yield from _visit(request, visits, site, page_path, "phone-dark")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Keep each phase's report on the test item (``rep_call``), for the ``visit`` fixture."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by server
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests that use ``visit`` or ``phone_dark_visit`` grouped by server, page and
    view (see the module docstring).

    They keep the slots they were collected in, and their order within one page."""
    def view(item: pytest.Item) -> str | None:
        names = getattr(item, "fixturenames", ())
        return "desktop" if "visit" in names else "phone-dark" if (
            "phone_dark_visit" in names) else None

    slots = [n for n, item in enumerate(items) if view(item) is not None]

    def key(item: pytest.Item) -> tuple[str, str, str]:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        return (str(params.get("site", "")), str(params.get("page_path", "")), view(item) or "")

    ordered = sorted((items[n] for n in slots), key=key)
    for n, item in zip(slots, ordered, strict=True):
        items[n] = item
