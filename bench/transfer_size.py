"""What a reader downloads per chapter, and how soon its widgets show (prints figures only).

Usage: .venv/bin/python bench/transfer_size.py [--html _build/html] [--html OTHER] [--runs 3]

For every chapter page, served from 127.0.0.1 and loaded in headless Chromium with an empty
cache: the bytes of every response (raw, and gzip-compressed as a web server would send them),
the largest files, the time from navigation start until the widgets are visible, and the
cumulative layout shift. "Visible" is the later of two moments: every embedded widget view is
rendered, and the article is shown (no ``convlab-typesetting`` class on <html>: earlier builds
hid the article while MathJax typeset in the browser; formulas are now typeset when the site is
built, so the article shows as soon as it is parsed, and builds of both kinds can be compared).
Times are min / median / spread (max - min) over ``--runs`` loads.

Give ``--html`` twice to compare two builds (e.g. a copy of main's ``_build/html`` and yours):
their loads are interleaved (A, B, A, B, ...) so that the machine's load, which varies, falls
on both alike. Targets (issue 19): at most 1.5 MB gzip per chapter (also a browser test,
tests/test_a11y_browser.py), widgets visible within 1.5 s, CLS at most 0.1. Nothing here
passes or fails.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import os
import statistics
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

# The browser tests' Chromium (tests/conftest.py), or CONVLAB_CHROMIUM.
CHROMIUM = os.environ.get("CONVLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
TARGET_GZIP_MB = 1.5
TARGET_WIDGETS_S = 1.5

# Records (in the page) the moment every embedded widget view has been rendered and the moment
# the article is shown (no ``convlab-typesetting`` class on <html>, which earlier builds set
# while MathJax typeset), and sums the layout shifts
# (cumulative layout shift, CLS; target ≤ 0.1).
WATCH_WIDGETS = """(() => {
  window.__cls = 0;
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) { if (!e.hadRecentInput) { window.__cls += e.value; } }
  }).observe({type: 'layout-shift', buffered: true});
  const views = () => Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  const tick = () => {
    if (document.readyState !== 'loading') {
      if (window.__shownAt === undefined
          && !document.documentElement.classList.contains('convlab-typesetting')) {
        window.__shownAt = performance.now();
      }
      const all = views();
      if (window.__widgetsAt === undefined
          && all.every(s => s.parentElement.querySelector('.jupyter-widgets'))) {
        window.__widgetsAt = all.length ? performance.now() : 0;
      }
    }
    if (window.__shownAt === undefined || window.__widgetsAt === undefined) {
      requestAnimationFrame(tick);
    }
  };
  requestAnimationFrame(tick);
})();"""


def _serve(html_dir: Path) -> http.server.ThreadingHTTPServer:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(html_dir)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(browser: object, url: str) -> tuple[dict[str, bytes], float, float]:
    """(bytes of every response by path, seconds until widgets visible, CLS), one cold load."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_WIDGETS)
    page = context.new_page()
    responses: list[object] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="load", timeout=180_000)
    page.wait_for_function("() => window.__widgetsAt !== undefined"
                           " && window.__shownAt !== undefined", timeout=180_000)
    page.wait_for_load_state("networkidle", timeout=180_000)
    bodies: dict[str, bytes] = {}
    for response in responses:
        try:
            bodies[urlparse(response.url).path] = response.body()
        except Exception:  # a redirect or an aborted request has no body
            pass
    seconds = page.evaluate("() => Math.max(window.__widgetsAt, window.__shownAt)") / 1000
    page.wait_for_timeout(1000)  # late shifts count too
    cls = page.evaluate("() => window.__cls")
    context.close()
    return bodies, seconds, cls


def _spread(times: list[float]) -> str:
    return (f"{min(times):5.2f} {statistics.median(times):5.2f} "
            f"{max(times) - min(times):5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, action="append",
                        help="a built site (default _build/html); give it twice to compare")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default="", help="only chapters whose path contains this")
    args = parser.parse_args()
    sites = args.html or [Path("_build/html")]
    chapters = sorted(p.relative_to(sites[0]).as_posix()
                      for p in (sites[0] / "book").glob("0*.html") if args.only in p.name)
    if not chapters:
        print(f"No chapters under {sites[0]}: build the site first (make book).")
        return 0
    from playwright.sync_api import sync_playwright

    servers = [_serve(site) for site in sites]
    bases = [f"http://127.0.0.1:{server.server_port}/" for server in servers]
    print(f"Per chapter (cold cache, {args.runs} loads per site, interleaved; targets: "
          f"≤ {TARGET_GZIP_MB} MB gzip, widgets visible ≤ {TARGET_WIDGETS_S} s):")
    print(f"  {'page':36s} {'site':>4s} {'files':>5s} {'raw MB':>7s} {'gzip MB':>7s} "
          f"{'÷target':>7s}  {'visible s: min median spread':28s} {'÷target':>7s} {'CLS':>6s}")
    largest: dict[str, tuple[int, int]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=ARGS)
            for chapter in chapters:
                times = [[] for _ in sites]
                shifts = [[] for _ in sites]
                bodies: list[dict[str, bytes]] = [{} for _ in sites]
                for _ in range(args.runs):
                    for n, base in enumerate(bases):
                        bodies[n], seconds, cls = measure(browser, base + chapter)
                        times[n].append(seconds)
                        shifts[n].append(cls)
                for n in range(len(sites)):
                    raw = sum(len(b) for b in bodies[n].values())
                    zipped = {path: len(gzip.compress(b, 6)) for path, b in bodies[n].items()}
                    gz = sum(zipped.values())
                    med = statistics.median(times[n])
                    print(f"  {chapter:36s} {chr(65 + n):>4s} {len(bodies[n]):5d} "
                          f"{raw / 1e6:7.2f} {gz / 1e6:7.2f} {gz / 1e6 / TARGET_GZIP_MB:7.2f}  "
                          f"{_spread(times[n]):28s} {med / TARGET_WIDGETS_S:7.2f} "
                          f"{statistics.median(shifts[n]):6.3f}")
                    if n == len(sites) - 1:
                        for path, body in bodies[n].items():
                            if not path.endswith(".html"):
                                largest[path.split("/_static/")[-1]] = (len(body), zipped[path])
            browser.close()
    finally:
        for server in servers:
            server.shutdown()
    if len(sites) > 1:
        print("\nSites: " + ", ".join(f"{chr(65 + n)} = {site}" for n, site in enumerate(sites)))
    print(f"\nLargest shared files of {sites[-1]} (raw / gzip kB):")
    for name, (raw_size, gz_size) in sorted(largest.items(), key=lambda kv: -kv[1][0])[:10]:
        print(f"  {name:60s} {raw_size / 1e3:8.0f} {gz_size / 1e3:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
