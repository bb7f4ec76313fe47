"""Benchmark: a clean `make book` versus a no-change `make book` (figures, not a pass/fail test).

Copies the tracked sources into a temporary folder (so your own ``_build`` is untouched), links
this checkout's ``.venv`` and ``node_modules`` into it, and runs ``make book`` there as a reader
would: each round times a clean build (``_build`` removed) and then a ``make book`` with no
change (which should only check). The two sides are interleaved round by round, so load from
other processes falls on both; minimum, median and spread (max/min) are printed, and each
verdict is stated on the median. The load average is printed too: on a shared machine the
figures are only as quiet as the machine.

Optionally (``--make-test``) it also times ``make test`` in this checkout after a build.

Targets on this 2-core machine, quiet: clean build <= 40 s; no-change ``make book`` <= 5 s;
``make test`` after a build <= 240 s.

Usage: .venv/bin/python bench/build_time.py [--rounds 3] [--make-test]
(The kernels import ``convlab`` from this checkout's editable install, i.e. your working copy.)
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"clean make book": 40.0, "no-change make book": 5.0, "make test after a build": 240.0}


def copy_sources(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)  # keeps file times: make sees .venv as up to date
    for shared in ("node_modules", ".venv"):
        (dest / shared).symlink_to(ROOT / shared)


def timed_make(where: Path, target: str) -> tuple[float, str]:
    """Seconds taken by ``make <target>`` in ``where``, and its output."""
    started = time.perf_counter()
    result = subprocess.run(["make", target], cwd=where, capture_output=True, text=True,
                            check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"make {target} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return elapsed, result.stdout + result.stderr


def report(samples: dict[str, list[float]], loads: list[float]) -> None:
    print(f"load average (1 min) during the runs: min {min(loads):.1f}, max {max(loads):.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'step':<25}{'runs':>5}{'min s':>9}{'median s':>10}{'spread':>8}{'target':>8}  "
          "verdict (median)")
    for step, values in samples.items():
        median = statistics.median(values)
        verdict = "met" if median <= TARGETS[step] else "NOT met"
        print(f"{step:<25}{len(values):>5}{min(values):>9.1f}{median:>10.1f}"
              f"{max(values) / min(values):>7.2f}x{TARGETS[step]:>8.0f}  {verdict}")
    clean, check = samples["clean make book"], samples["no-change make book"]
    ratios = [b / a for a, b in zip(clean, check, strict=True)]
    print(f"no-change / clean, paired per round: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds (default 3)")
    parser.add_argument("--make-test", action="store_true",
                        help="also time `make test` once in this checkout (after a build)")
    args = parser.parse_args()
    for shared in ("node_modules", ".venv"):
        if not (ROOT / shared).is_dir():
            sys.exit(f"{shared} is missing: run `make book` first.")
    samples: dict[str, list[float]] = {"clean make book": [], "no-change make book": []}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="convlab-build-") as tmp:
        where = Path(tmp)
        copy_sources(where)
        for _ in range(args.rounds):
            shutil.rmtree(where / "_build", ignore_errors=True)
            seconds, _ = timed_make(where, "book")
            samples["clean make book"].append(seconds)
            loads.append(os.getloadavg()[0])
            seconds, output = timed_make(where, "book")
            if "jupyter-book build" in output:
                sys.exit(f"a no-change `make book` built again:\n{output[-3000:]}")
            samples["no-change make book"].append(seconds)
            loads.append(os.getloadavg()[0])
    if args.make_test:
        timed_make(ROOT, "book")
        seconds, _ = timed_make(ROOT, "test")
        samples["make test after a build"] = [seconds]
        loads.append(os.getloadavg()[0])
    report(samples, loads)


if __name__ == "__main__":
    main()
