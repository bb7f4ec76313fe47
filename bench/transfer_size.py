"""What a reader downloads per chapter, and how soon its widgets show (prints figures only).

Usage: .venv/bin/python bench/transfer_size.py [--html _build/html] [--runs 3]

For every chapter page, served from 127.0.0.1 and loaded in headless Chromium with an empty
cache: the bytes of every response (raw, and gzip-compressed as a web server would send them),
the largest files, and the time from navigation start until every embedded widget is rendered
and the cumulative layout shift (both medians over ``--runs`` loads). Targets (issue 19): at
most 1.5 MB gzip per chapter, widgets visible within 1.5 s, CLS at most 0.1 (the CLS target is
also a browser test, tests/test_a11y_browser.py, on every page). Nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import statistics
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
TARGET_GZIP_MB = 1.5
TARGET_WIDGETS_S = 1.5

# Records (in the page) the moment every embedded widget view has been rendered, and sums the
# layout shifts (cumulative layout shift, CLS; target ≤ 0.1).
WATCH_WIDGETS = """(() => {
  window.__cls = 0;
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) { if (!e.hadRecentInput) { window.__cls += e.value; } }
  }).observe({type: 'layout-shift', buffered: true});
  const views = () => Array.from(document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]'));
  const tick = () => {
    const all = views();
    if (document.readyState !== 'loading'
        && all.every(s => s.parentElement.querySelector('.jupyter-widgets'))) {
      window.__widgetsAt = all.length ? performance.now() : 0;
    } else { requestAnimationFrame(tick); }
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
    """(bytes of every response by path, seconds until widgets rendered, CLS), one cold load."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_WIDGETS)
    page = context.new_page()
    responses: list[object] = []
    page.on("response", lambda response: responses.append(response))
    page.goto(url, wait_until="load", timeout=180_000)
    page.wait_for_function("() => window.__widgetsAt !== undefined", timeout=180_000)
    page.wait_for_load_state("networkidle", timeout=180_000)
    bodies: dict[str, bytes] = {}
    for response in responses:
        try:
            bodies[urlparse(response.url).path] = response.body()
        except Exception:  # a redirect or an aborted request has no body
            pass
    seconds = page.evaluate("() => window.__widgetsAt") / 1000
    page.wait_for_timeout(1000)  # late shifts count too
    cls = page.evaluate("() => window.__cls")
    context.close()
    return bodies, seconds, cls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=Path("_build/html"))
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    chapters = sorted(p.relative_to(args.html).as_posix()
                      for p in (args.html / "book").glob("0*.html"))
    if not chapters:
        print(f"No chapters under {args.html}: build the site first (make book).")
        return 0
    from playwright.sync_api import sync_playwright

    server = _serve(args.html)
    base = f"http://127.0.0.1:{server.server_port}/"
    print(f"Per chapter (cold cache, {args.runs} loads; targets: ≤ {TARGET_GZIP_MB} MB gzip, "
          f"widgets ≤ {TARGET_WIDGETS_S} s):")
    print(f"  {'page':36s} {'files':>5s} {'raw MB':>7s} {'gzip MB':>7s} {'÷target':>7s} "
          f"{'widgets s':>9s} {'÷target':>7s} {'CLS':>6s}")
    largest: dict[str, tuple[int, int]] = {}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                        args=ARGS)
            for chapter in chapters:
                times, shifts, bodies = [], [], {}
                for _ in range(args.runs):
                    bodies, seconds, cls = measure(browser, base + chapter)
                    times.append(seconds)
                    shifts.append(cls)
                raw = sum(len(b) for b in bodies.values())
                zipped = {path: len(gzip.compress(b, 6)) for path, b in bodies.items()}
                gz = sum(zipped.values())
                med = statistics.median(times)
                print(f"  {chapter:36s} {len(bodies):5d} {raw / 1e6:7.2f} {gz / 1e6:7.2f} "
                      f"{gz / 1e6 / TARGET_GZIP_MB:7.2f} {med:9.2f} "
                      f"{med / TARGET_WIDGETS_S:7.2f} {statistics.median(shifts):6.3f}")
                for path, body in bodies.items():
                    if not path.endswith(".html"):
                        largest[path.split("/_static/")[-1]] = (len(body), zipped[path])
            browser.close()
    finally:
        server.shutdown()
    print("\nLargest shared files (raw / gzip kB):")
    for name, (raw_size, gz_size) in sorted(largest.items(), key=lambda kv: -kv[1][0])[:10]:
        print(f"  {name:60s} {raw_size / 1e3:8.0f} {gz_size / 1e3:8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
