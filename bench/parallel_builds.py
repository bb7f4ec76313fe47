"""Benchmark and safety check: clean builds with the notebooks executed in parallel ahead of
Sphinx (``tools/execute_chapters.py``, as ``make book`` runs it) pass every time and give the
pages a serial build gives.

Copies the tracked sources into a temporary folder (your ``_build`` is untouched), links this
checkout's ``.venv`` and ``node_modules``, then:

1. **serial reference**: a clean English build in which myst-nb executes each notebook itself,
   one after the other (``jupyter-book build`` alone);
2. **parallel runs** (``--runs``, default 10): clean English builds with the notebooks executed
   ``--jobs`` at a time first (``tools/build_stamp.py``, ``tools/execute_chapters.py en``,
   ``jupyter-book build``), one after the other.

Each run must succeed, and every page must equal the reference's once what differs between any
two executions is set aside: widget model ids (random UUIDs), memory addresses a cell prints,
the times chapter 1 measures, the order of the widget models (keyed by those ids) and the key
order of the widgets' JSON (myst-nb renders a notebook it has just executed from memory, and one
from its cache as the JSON file it stored, with sorted keys). Prints each run's time, the pages
that differ (with their first differing lines) and a verdict.

Usage: .venv/bin/python bench/parallel_builds.py [--runs 10] [--jobs 2]
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from build_time import THREADS, copy_sources, timed

ROOT = Path(__file__).resolve().parent.parent
WIDGET_JSON = re.compile(
    r'(<script type="application/vnd\.jupyter\.widget-(?:state|view)\+json">)(.*?)(</script>)',
    re.S)
RANDOM = [
    (re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])"), "<id>"),  # widget model ids
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "<uuid>"),
    (re.compile(r"\b0x[0-9a-f]{6,16}\b"), "<address>"),  # storage addresses printed by cells
    # chapter 1 times its loops against F.conv2d and prints the milliseconds and the ratio
    (re.compile(r"\d+\.\d+ ms +\d+\.\d+ x F\.conv2d"), "<ms> <ratio> x F.conv2d"),
]


def normalised(html: str) -> str:
    """A page without what differs between two executions of the same notebooks."""
    def without_ids(text: str) -> str:
        for pattern, placeholder in RANDOM:
            text = pattern.sub(placeholder, text)
        return text

    def canonical(match: re.Match[str]) -> str:
        data = json.loads(match.group(2))
        if isinstance(data.get("state"), dict):  # the page's widget models, keyed by random ids
            data["state"] = sorted(without_ids(json.dumps(model, sort_keys=True))
                                   for model in data["state"].values())
        return match.group(1) + json.dumps(data, sort_keys=True) + match.group(3)

    return without_ids(WIDGET_JSON.sub(canonical, html))


def pages(site: Path) -> dict[str, str]:
    """Every published HTML page of a build, normalised."""
    return {p.relative_to(site).as_posix(): normalised(p.read_text(encoding="utf-8"))
            for p in sorted(site.rglob("*.html"))
            if not any(part.startswith(("_", ".")) for part in p.relative_to(site).parts)}


def differences(reference: dict[str, str], other: dict[str, str]) -> list[str]:
    """The pages that differ, each with its first differing lines."""
    found = [f"pages only in one build: {sorted(set(reference) ^ set(other))}"] \
        if set(reference) != set(other) else []
    for name in sorted(set(reference) & set(other)):
        if reference[name] != other[name]:
            diff = [line[:160] for line in difflib.unified_diff(
                reference[name].splitlines(), other[name].splitlines(), lineterm="", n=0)
                if line[:1] in "+-" and not line.startswith(("+++", "---"))]
            found.append(f"{name}: {len(diff)} lines differ, e.g. {diff[:2]}")
    return found


def clean_build(where: Path, jobs: int | None) -> float:
    """A clean English build; with ``jobs``, the notebooks are executed ahead, in parallel."""
    shutil.rmtree(where / "_build", ignore_errors=True)
    python = str(where / ".venv" / "bin" / "python")
    started = time.perf_counter()
    timed(where, [python, "tools/build_stamp.py"], THREADS)
    if jobs is not None:
        timed(where, [python, "tools/execute_chapters.py", "en", "--jobs", str(jobs)], THREADS)
    timed(where, [str(where / ".venv" / "bin" / "jupyter-book"), "build", ".", "-W", "-n",
                  "--keep-going"], THREADS)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="parallel clean builds (10)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="notebooks executed at a time (default: the cores)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="convlab-parallel-") as tmp:
        where = Path(tmp)
        copy_sources(where)
        serial = clean_build(where, None)
        reference = pages(where / "_build" / "html")
        print(f"serial reference: {serial:.1f} s, {len(reference)} pages", flush=True)
        times, failed = [], 0
        for run in range(1, args.runs + 1):
            seconds = clean_build(where, args.jobs)  # exits with the log if a build fails
            times.append(seconds)
            found = differences(reference, pages(where / "_build" / "html"))
            failed += bool(found)
            print(f"run {run}: {seconds:.1f} s, "
                  + ("pages equal the serial build's" if not found else "DIFFERENT:"), flush=True)
            for line in found:
                print(f"  {line}")
    print(f"parallel clean builds: min {min(times):.1f} s, "
          f"median {statistics.median(times):.1f} s, spread {max(times) / min(times):.2f}x; "
          f"serial {serial:.1f} s")
    verdict = "all passed with the serial build's pages" if failed == 0 else f"{failed} differed"
    print(f"verdict: {args.runs - failed} of {args.runs} runs passed; {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
