"""Page weight and slider latency of the built site (prints figures; never pass/fail).

Usage: .venv/bin/python bench/page_weight.py [--html _build/html] [--presses 15]

1. For every page under ``_build/html``: HTML bytes and the bytes of embedded widget state.
2. For every page with explorers (``.convlab-explorer``), in headless Chromium: minimum,
   median and spread (max/min) of the time from an ArrowRight key press on a focused slider
   to the next animation frame after a new ``data-frame`` is shown (the frame that paints
   it), with every explorer first set to its largest configuration (every slider at its end,
   the position sliders back at 0; the receptive field explorer with all five layers edited
   to k=5, s=2, p=3, d=3).
   Target: under 50 ms, verdict on the median. Also prints the embedded-state size of every
   explorer in ``convlab`` (every public ``*_explorer`` function), measured in Python.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import importlib
import os
import pkgutil
import re
import socket
import statistics
import sys
import threading
from collections.abc import Callable
from pathlib import Path

# The browser tests' Chromium (tests/conftest.py), or CONVLAB_CHROMIUM.
CHROMIUM = os.environ.get("CONVLAB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
TARGET_MS = 50.0
STATE = re.compile(r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>',
                   re.S)

# In the page: start the clock at the keydown event, stop when the shown frames change.
PROBE = """([root, before]) => { window.__probe = new Promise(resolve => {
  let t0 = null;
  document.addEventListener('keydown', () => { t0 = performance.now(); },
                            {capture: true, once: true});
  const tags = () => Array.from(root.querySelectorAll('[data-frame]'))
                          .map(e => e.getAttribute('data-frame')).join('|');
  const start = performance.now();
  const check = () => {
    if (t0 !== null && tags() !== before)
      requestAnimationFrame(() => resolve(performance.now() - t0));
    else if (performance.now() - start > 3000) resolve(-1);
    else setTimeout(check, 0);
  };
  check();
}); }"""
TAGS = "r => Array.from(r.querySelectorAll('[data-frame]'))" \
       ".map(e => e.getAttribute('data-frame')).join('|')"


def explorers() -> list[Callable[[], object]]:
    """Every explorer in convlab: each public ``*_explorer`` function of its modules (found, not
    listed by hand, so a new explorer is measured too)."""
    import convlab

    found: dict[str, Callable[[], object]] = {}
    for module in sorted(m.name for m in pkgutil.iter_modules(convlab.__path__)):
        mod = importlib.import_module(f"convlab.{module}")
        for name, fn in vars(mod).items():
            if (name.endswith("_explorer") and not name.startswith("_") and callable(fn)
                    and getattr(fn, "__module__", None) == mod.__name__):
                found[f"{module}.{name}"] = fn
    return [found[key] for key in sorted(found)]


def page_sizes(html_dir: Path) -> list[tuple[str, int, int]]:
    """(page, HTML bytes, embedded widget-state bytes) for every page."""
    rows = []
    for page in sorted(html_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        state = sum(len(m.encode()) for m in STATE.findall(text))
        rows.append((str(page.relative_to(html_dir)), len(text.encode()), state))
    return rows


def _serve(html_dir: Path) -> tuple[http.server.ThreadingHTTPServer, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    handler = functools.partial(Quiet, directory=str(html_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, port


#: The receptive field explorer's largest picture: input 224 (set above), five layers, each a
#: convolution with k=5, s=2, p=3, d=3 (all refused-free; r = 373 on 373 drawn pixels).
RF_LARGEST = [("layers", "End"), *(move for n in range(5) for move in (
    ("layer", "Home"), *(("layer", "ArrowRight"),) * n, ("type", "Home"), ("k", "End"),
    ("s", "Home"), ("s", "ArrowRight"), ("p", "End"), ("d", "End")))]


def largest_receptive_field(root: object) -> None:
    """Edit every layer of a receptive field explorer to its largest configuration."""
    for name, key in RF_LARGEST:
        root.query_selector(f".convlab-slider-{name} .noUi-handle").press(key)


def latencies(html_dir: Path, pages: list[str], presses: int) -> None:
    """Print the median key-press-to-new-frame time per explorer slider."""
    from playwright.sync_api import sync_playwright

    server, port = _serve(html_dir)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=ARGS)
            for page_name in pages:
                page = browser.new_page()
                page.goto(f"http://127.0.0.1:{port}/{page_name}")
                try:
                    page.wait_for_selector(".convlab-explorer [data-frame]", timeout=30000)
                except Exception:
                    continue  # no explorer on this page
                for n, root in enumerate(page.query_selector_all(".convlab-explorer")):
                    for slider in root.query_selector_all(".widget-slider"):  # the largest
                        handle = slider.query_selector(".noUi-handle, [role=slider]")
                        last = re.search(r"convlab-slider-(row|col)\b",
                                         slider.get_attribute("class") or "")
                        if handle is not None:
                            handle.press("Home" if last else "End")
                    if "convlab-explorer-rf" in (root.get_attribute("class") or ""):
                        largest_receptive_field(root)
                    for slider in root.query_selector_all(".widget-slider"):
                        name = re.search(r"convlab-slider-(\S+)",
                                         slider.get_attribute("class") or "")
                        handle = slider.query_selector(".noUi-handle, [role=slider]")
                        if handle is None:
                            continue
                        times = []
                        key = "ArrowRight"
                        for _ in range(presses):
                            handle.focus()
                            before = root.evaluate(TAGS)
                            value = handle.get_attribute("aria-valuenow")
                            page.evaluate(PROBE, [root, before])
                            page.keyboard.press(key)
                            if handle.get_attribute("aria-valuenow") == value:  # at an end
                                key = "ArrowLeft" if key == "ArrowRight" else "ArrowRight"
                                continue
                            ms = page.evaluate("() => window.__probe")
                            if ms >= 0:
                                times.append(ms)
                        label = name.group(1) if name else "?"
                        if times:
                            med = statistics.median(times)
                            verdict = "met" if med < TARGET_MS else "NOT met"
                            figures = (f"min {min(times):6.1f}  median {med:6.1f} ms  spread "
                                       f"{max(times) / max(min(times), 0.1):5.2f}x  {verdict}")
                        else:
                            figures = "(no change)"
                        print(f"  {page_name} explorer {n} slider {label:7s} {figures} "
                              f"over {len(times)} changes")
                page.close()
            browser.close()
    finally:
        server.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=Path("_build/html"))
    parser.add_argument("--presses", type=int, default=12)
    args = parser.parse_args()

    from convlab import explore

    print("Embedded widget state per explorer (Python, default ranges):")
    for fn in explorers():
        root = fn()
        n = len(explore.all_widgets(root))
        print(f"  {fn.__name__:28s} {explore.state_size(root) / 1e3:8.1f} kB  {n} widgets")

    if not args.html.is_dir():
        print(f"\n{args.html} does not exist: build the site first (make book); "
              "skipping page sizes and browser timings.")
        return 0
    rows = page_sizes(args.html)
    print(f"\nPages under {args.html} (HTML bytes incl. embedded widget state; budget 1.0 MB):")
    for name, size, state in rows:
        print(f"  {name:45s} {size / 1e6:6.3f} MB  (widget state {state / 1e6:6.3f} MB)")
    with_state = [name for name, _, state in rows if state]
    print(f"\nKey press -> new frame shown (target < {TARGET_MS:g} ms; verdict on the median):")
    latencies(args.html, with_state, args.presses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
