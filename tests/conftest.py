"""Shared fixtures: the built site served on 127.0.0.1, a headless Chromium, and page visits.

Browser tests use Playwright for Python driving Debian's Chromium (``/usr/bin/chromium``);
Playwright's own browser download is never used; ``CONVLAB_CHROMIUM`` names another Chromium or
Chrome binary. (Debian's ``chromium-headless-shell`` costs about a tenth less CPU per page, but
in one of seven full runs a page's network never went idle under it, which never happened in
a dozen runs with ``chromium``; ``CONVLAB_CHROMIUM=/usr/bin/chromium-headless-shell`` runs it.)
The site is served from ``_build/html``, either at the server root or under a sub-path (as
GitHub Pages serves a project site).

**Each page is loaded once per server.** A chapter page holds its explorers' widgets, hundreds
of typeset formulas and many figures, so loading it is the expensive part of a browser test.
The ``visit`` fixture loads a page the first time a test asks for it and hands every later test
of the same page (on the same server) that same open page, with the record of what went wrong
while it was open:

* ``visit.page`` — the Playwright page, loaded, widgets rendered, network idle;
* ``visit.load_problems`` — console errors, page errors, failed requests, HTTP errors and
  requests leaving 127.0.0.1 seen while the page loaded and settled;
* ``visit.problems`` — the same, kept up to date while tests interact with the page;
* ``visit.on_load(name)`` — what an ``on_load`` measurement found on the page as loaded.

To add a browser check, write a test that takes ``visit`` and parametrizes ``page_path``::

    @pytest.mark.parametrize("page_path", CHAPTERS)
    def test_something(visit: Visit) -> None:
        start = visit.mark()
        ...  # interact with visit.page
        visit.assert_clean_since(start)  # nothing went wrong during this test

Tests of one page are run together (``pytest_collection_modifyitems`` below orders every test
using ``visit`` by server and page, keeping their order otherwise), and only one page is open at
a time. Under pytest-xdist each page's tests on one server are one ``xdist_group``
(``pytest_itemcollected``), so ``--dist loadgroup`` gives them to one worker, in that order;
each worker has its own Chromium and servers. A test sees the page as the previous tests of that
page left it: move a slider relative to where it is, not to an absolute value, and put back what
you moved (the explorer traversal counts the states it sees from the defaults). A test that
leaves the page in a state the others do not expect (every slider at an end, a configuration
PyTorch refuses) carries ``@pytest.mark.last_on_page``: it runs after the other tests of its
page. A test that fails closes its page, so the next test gets a fresh load instead of a page in
an unknown state. A page at another URL (a query such as ``search.html?q=...``) is a different
``page_path``.

**Checks that need the page as it loaded** (layout shift since navigation, axe, widths on a
phone, a picture at its default settings) must not see what earlier tests did to it. Such a
check registers a measurement with ``@on_load(name, view=...)``, and its test carries
``@pytest.mark.on_load(name)`` and asserts on ``visit.on_load(name)``. Every load of a page
that such tests read takes their measurements right after it settles, before any test runs on
it: desktop ones first, then those of the ``phone-dark`` view. The views are shown on the same
load (``Visit.show``: ``set_viewport_size`` and ``emulate_media``), not by loading the page
again: the theme follows ``prefers-color-scheme`` (``default_mode: auto``), the CSS is
responsive and the one picture drawn to its box's width (the receptive-field explorer) redraws
on ``resize``. ``phone_dark_visit`` is the same shared load shown in that view for one test.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

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

    def file(self, url: str) -> Path:
        """The built file that ``url``, an address on this server, names."""
        prefix, path = urlparse(self.base).path, unquote(urlparse(url).path)
        assert path.startswith(prefix + "/"), f"{url} is outside this server's {prefix}/"
        return SITE / path[len(prefix) + 1:]


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


#: The sub-path the tests serve the site under. GitHub Pages serves a project site under the
#: repository's name (``/convlab/``, the path of ``html.baseurl`` in ``_config.yml``), and a fork
#: under the fork's name: the tests use a name that no file of the site holds, so that a URL
#: written from the server root (``/_static/…``) and one with the published path written into
#: it (``/convlab/_static/…``) both fall outside the prefix and fail (a 404 from the server).
SUBPATH = "/a-fork"

#: Runs a test of a page under the sub-path only (``SUBPATH``), where every request the page
#: makes must resolve below the prefix: the stricter of the two servers, and the one where every
#: page is loaded and checked (``test_page_loads_clean_offline`` and every check of what a page
#: does in the browser: explorers, quick checks, solutions, accessibility). Once loaded, a page
#: makes no request at all while its sliders move: the slider tests assert that (every widget
#: slider, every explorer's full traversal). The server root serves the same files; only what
#: reads the page's address runs there as well: the root redirect, the language switcher and
#: search (the site's own scripts read nothing else of ``location`` but its ``#anchor``).
UNDER_SUBPATH = pytest.mark.parametrize("site", [SUBPATH], ids=["subpath"], indirect=True)


@pytest.fixture(scope="session", params=["", SUBPATH], ids=["root", "subpath"])
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The built site, served at the root and under ``SUBPATH`` (like GitHub Pages)."""
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

SETTLE_MS = 300  # late console errors (e.g. from widget rendering) arrive within this of it

# After a viewport or colour change: two animation frames (style and layout have caught up),
# then the CSS transitions it started have ended (the theme fades colours over 0.15 s; a page
# loaded in that view shows the end colours at once, and axe must measure those). A transition
# that never ends (some element keeps restarting one) is waited for 1 s at most.
VIEW_SETTLED = """async () => {
    await new Promise(resolve =>
        requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const ended = Promise.all(document.getAnimations()
        .filter(animation => animation instanceof CSSTransition)
        .map(animation => animation.finished.catch(() => null)));
    await Promise.race([ended, new Promise(resolve => setTimeout(resolve, 1000))]);
    return true;
}"""

# How a page is shown: the desktop default, and a phone in dark mode.
VIEWS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
    "phone-dark": {"viewport": {"width": 390, "height": 844}, "color_scheme": "dark"},
}


@dataclass(frozen=True)
class OnLoad:
    """A measurement taken on every load of a page that a collected test asks it of."""

    name: str
    view: str
    measure: Callable[[Visit], object]


#: Every ``on_load`` measurement, in the order they are taken on a load (desktop ones first).
ON_LOAD: dict[str, OnLoad] = {}


def on_load(name: str, view: str = "desktop") -> Callable[[Callable], Callable]:
    """Register ``measure(visit)`` as the measurement ``name``, taken right after the page
    has loaded, before any test touches it, with the page shown as ``view``.

    A test that needs it carries ``@pytest.mark.on_load(name)`` and reads
    ``visit.on_load(name)``: the measurement is taken only on loads of the pages (and servers)
    of such tests. An exception raised by ``measure`` is raised again in those tests."""
    assert view in VIEWS, view

    def register(measure: Callable[[Visit], object]) -> Callable[[Visit], object]:
        assert name not in ON_LOAD, f"two on_load measurements are called {name!r}"
        ON_LOAD[name] = OnLoad(name, view, measure)
        return measure

    return register


@dataclass
class Visit:
    """One load of one page, and everything that went wrong while it was open."""

    site: Site
    page_path: str
    page: object = None
    view: str = "desktop"  # a key of VIEWS: how the page is shown now
    problems: list[str] = field(default_factory=list)
    load_problems: list[str] = field(default_factory=list)
    measured: dict[str, tuple[bool, object]] = field(default_factory=dict)
    settled_at: float = 0.0  # the page's clock (performance.now(), ms) when the load settled
    requests: list[str] = field(default_factory=list)  # every URL requested, in order
    in_flight: dict[int, str] = field(default_factory=dict)  # requests not finished yet

    def watch(self, page: object) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on("requestfailed", lambda req: self.problems.append(
            f"failed request: {req.url} ({req.failure})"))
        page.on("response", self._response)
        page.on("request", self._request)
        page.on("request", lambda req: self.in_flight.__setitem__(id(req), req.url))
        for done in ("requestfinished", "requestfailed"):
            page.on(done, lambda req: self.in_flight.pop(id(req), None))

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
        self.requests.append(request.url)
        if url.hostname != "127.0.0.1":
            self.problems.append(f"request leaves the site: {request.url}")

    def mark(self) -> int:
        """A position in :attr:`problems`, for :meth:`assert_clean_since`."""
        return len(self.problems)

    def assert_clean_since(self, mark: int) -> None:
        """Fail with every problem recorded after ``mark``."""
        new = self.problems[mark:]
        assert new == [], "\n".join(new)

    def requested_since(self, mark: int) -> list[str]:
        """The URLs requested after ``mark`` (from :meth:`mark_requests`)."""
        return self.requests[mark:]

    def mark_requests(self) -> int:
        """A position in :attr:`requests`, for :meth:`requested_since`."""
        return len(self.requests)

    @property
    def on_subpath(self) -> bool:
        return urlparse(self.site.base).path != ""

    def show(self, view: str) -> None:
        """Show the open page as ``view``: its viewport and its colour scheme (the theme
        follows ``prefers-color-scheme`` in its ``auto`` mode; pictures drawn as wide as their
        box redraw on ``resize``), then let style, layout and colour transitions finish."""
        if view == self.view:
            return
        self.page.set_viewport_size(VIEWS[view]["viewport"])
        self.page.emulate_media(color_scheme=VIEWS[view]["color_scheme"])
        self.page.evaluate(VIEW_SETTLED)
        self.view = view

    def on_load(self, name: str) -> object:
        """What ``name`` (an ``on_load`` measurement) measured on this load."""
        if name not in self.measured:
            pytest.fail(f"{name!r} was not measured on this load of {self.page_path}: "
                        f"mark the test with @pytest.mark.on_load({name!r})")
        ok, value = self.measured[name]
        if not ok:
            raise value
        return value

    def close(self) -> None:
        if self.page is not None:
            self.page.context.close()
            self.page = None


def load(browser: object, site: Site, page_path: str, measures: tuple[str, ...] = ()) -> Visit:
    """Open ``page_path`` in a fresh context, wait for its widgets and the network, settle;
    then take the ``measures`` (names of ``on_load`` measurements), desktop ones first."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    context = browser.new_context(**VIEWS["desktop"])
    visit = Visit(site, page_path, context.new_page())
    visit.watch(visit.page)
    visit.page.goto(site.url(page_path), wait_until="load")
    visit.page.wait_for_function(WIDGETS_RENDERED, timeout=30_000)
    # This side's clock, not a value read from the page: a page that redirects (index.html)
    # may be navigating away right now, and a handle into it would go with it.
    rendered_at = time.monotonic()
    try:
        visit.page.wait_for_load_state("networkidle")
    except PlaywrightTimeoutError as err:  # say which requests kept the network busy
        raise AssertionError(f"{page_path}: the network did not go idle; requests still "
                             f"loading: {sorted(visit.in_flight.values())[:10]}") from err
    # At least SETTLE_MS since the widgets rendered: the network's idle wait (no request for
    # 500 ms) has usually spent it already.
    since_rendered_ms = (time.monotonic() - rendered_at) * 1000
    visit.page.wait_for_timeout(max(0.0, SETTLE_MS - since_rendered_ms))
    visit.settled_at = visit.page.evaluate("() => performance.now()")
    visit.load_problems = list(visit.problems)
    for view in VIEWS:
        for item in ON_LOAD.values():
            if item.view == view and item.name in measures:
                visit.show(view)
                try:
                    visit.measured[item.name] = (True, item.measure(visit))
                except Exception as err:  # noqa: BLE001 - raised again in the test that reads it
                    visit.measured[item.name] = (False, err)
    visit.show("desktop")
    return visit


class Visits:
    """The open page visit, reused while tests ask for the same server and page."""

    def __init__(self, browser: object, measures: dict[tuple[str, str], tuple[str, ...]]
                 ) -> None:
        self.browser = browser
        self.measures = measures  # (server prefix, page) -> on_load names its tests read
        self.current: Visit | None = None
        self.loads = 0

    def get(self, site: Site, page_path: str) -> Visit:
        current = self.current
        if current is None or (current.site, current.page_path) != (site, page_path):
            self.close()
            prefix = urlparse(site.base).path
            self.current = load(self.browser, site, page_path,
                                self.measures.get((prefix, page_path), ()))
            self.loads += 1
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.current.close()
            self.current = None


MEASURES = pytest.StashKey[dict[tuple[str, str], tuple[str, ...]]]()


@pytest.fixture(scope="session")
def visits(request: pytest.FixtureRequest, browser: object) -> Iterator[Visits]:
    """The session's page loads (one open at a time); see the module docstring."""
    opened = Visits(browser, request.config.stash.get(MEASURES, {}))
    yield opened
    opened.close()


def _visit(request: pytest.FixtureRequest, visits: Visits, site: Site, page_path: str,
           view: str) -> Iterator[Visit]:
    visit = visits.get(site, page_path)
    visit.show(view)
    yield visit
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        visits.close()  # the next test of this page starts from a fresh load
    elif visits.current is visit:
        visit.show("desktop")


@pytest.fixture
def visit(request: pytest.FixtureRequest, visits: Visits, site: Site,
          page_path: str) -> Iterator[Visit]:
    """The loaded ``page_path`` on ``site``, shared with the other tests of that page."""
    yield from _visit(request, visits, site, page_path, "desktop")


@pytest.fixture
def phone_dark_visit(request: pytest.FixtureRequest, visits: Visits, site: Site,
                     page_path: str) -> Iterator[Visit]:
    """The same shared load of ``page_path``, shown in dark mode at 390×844 for this test
    (and back to the desktop view afterwards)."""
    yield from _visit(request, visits, site, page_path, "phone-dark")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    """Keep each phase's report on the test item (``rep_call``), for the ``visit`` fixture."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _params(item: pytest.Item) -> dict[str, object]:
    return item.callspec.params if hasattr(item, "callspec") else {}


def _uses_visit(item: pytest.Item) -> bool:
    names = getattr(item, "fixturenames", ())
    return "visit" in names or "phone_dark_visit" in names


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under pytest-xdist (``make test`` runs ``-n $(JOBS) --dist loadgroup``), the tests of
    one page on one server form one group, run by one worker in their order: each page is still
    loaded once per server, by the worker that has it."""
    if _uses_visit(item):
        params = _params(item)
        item.add_marker(pytest.mark.xdist_group(
            f"page:{params.get('site', '')}:{params.get('page_path', '')}"))


def _grouping_lost(config: pytest.Config, items: list[pytest.Item]) -> str | None:
    """In a pytest-xdist worker with ``--dist loadgroup``, why the worker's grouping did not
    take, or None. xdist marks each grouped test by appending ``@group`` to its node id, and
    its scheduler reads that mark. pytest 9.2 made node ids read-only, so the mark is silently
    dropped and every worker loads every page (pytest-xdist issue #1386); hence pytest is pinned
    below 9.2 in requirements-dev.txt."""
    if not getattr(config.option, "loadgroup", False):
        return None
    lost = [item.nodeid for item in items
            if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if not lost:
        return None
    return (f"pytest-xdist did not group {len(lost)} tests by page (e.g. {lost[0]}), so "
            "--dist loadgroup would load every page on every worker: use the pytest and "
            "pytest-xdist pinned in requirements-dev.txt (pytest-xdist issue #1386)")


GROUPING_LOST = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A grouped test fails at once, before loading anything, when the grouping was lost.
    (Raising during a worker's collection would only crash xdist without the reason.)"""
    lost = item.config.stash.get(GROUPING_LOST, None)
    if lost and item.get_closest_marker("xdist_group"):
        pytest.fail(lost, pytrace=False)


@pytest.hookimpl(trylast=True)  # after pytest has grouped the tests by server, and xdist by page
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the tests that use ``visit`` or ``phone_dark_visit`` grouped by server and page,
    those marked ``last_on_page`` after the others (see the module docstring), and note which
    ``on_load`` measurements each load takes; run the ``slow`` tests first.

    They keep the slots they were collected in, and their order within one page."""
    lost = _grouping_lost(config, items)
    if lost:
        config.stash[GROUPING_LOST] = lost
    slots = [n for n, item in enumerate(items) if _uses_visit(item)]
    measures: dict[tuple[str, str], list[str]] = {}
    for n in slots:
        params = _params(items[n])
        key = (str(params.get("site", "")), str(params.get("page_path", "")))
        for marker in items[n].iter_markers("on_load"):
            for name in marker.args:
                if name not in ON_LOAD:
                    raise pytest.UsageError(f"{items[n].nodeid}: no on_load measurement "
                                            f"called {name!r}")
                if name not in measures.setdefault(key, []):
                    measures[key].append(name)
    config.stash[MEASURES] = {key: tuple(names) for key, names in measures.items()}

    def key(item: pytest.Item) -> tuple[str, str, bool]:
        params = _params(item)
        return (str(params.get("site", "")), str(params.get("page_path", "")),
                item.get_closest_marker("last_on_page") is not None)

    ordered = sorted((items[n] for n in slots), key=key)
    for n, item in zip(slots, ordered, strict=True):
        items[n] = item
    # The longest tests (`slow`: they run notebooks or builds, up to a minute each) start
    # first, so that under pytest-xdist the short ones fill the other workers' time around
    # them instead of one worker finishing a long test alone at the end. (Page tests keep
    # their places: they must stay together.)
    items.sort(key=lambda item: not (item.get_closest_marker("slow") and not _uses_visit(item)))
