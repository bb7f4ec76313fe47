"""Shared fixtures: the built site served on 127.0.0.1 and a headless Chromium.

Browser tests use Playwright for Python driving Debian's Chromium (``/usr/bin/chromium``);
Playwright's own browser download is never used. The site is served from ``_build/html``,
either at the server root or under a sub-path (as GitHub Pages serves a project site).
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


def built_pages() -> list[str]:
    """Every HTML page of the built site, relative to ``_build/html``."""
    if not SITE.is_dir():
        return []
    return sorted(
        p.relative_to(SITE).as_posix()
        for p in SITE.rglob("*.html")
        if not p.relative_to(SITE).parts[0].startswith(("_", "."))
    )


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
