"""Benchmark: clean builds (English only, both editions) and a no-change `make book` (figures,
not a pass/fail test).

Copies the tracked sources into a temporary folder (so your own ``_build`` is untouched), links
this checkout's ``.venv`` and ``node_modules`` into it, and times, as a reader would run them:

* **clean, English only**: ``_build`` removed, then what ``make book`` runs for the English
  edition alone (``tools/build_stamp.py``, ``tools/execute_chapters.py en`` and
  ``jupyter-book build . -W -n --keep-going``, with the Makefile's one-thread settings);
* **clean make book**: ``_build`` removed, then ``make book`` (both editions, built at the same
  time);
* **no-change make book**: ``make book`` again right after, which should only check.

The sides are interleaved round by round in a rotating order of the two clean builds, so load
from other processes falls on all of them; minimum, median and spread (max/min) are printed,
and each verdict is stated on the median (of the times, and of the paired per-round ratios for
the both-editions budget). The load average is printed too: on a shared machine the figures
are only as quiet as the machine.

Optionally (``--make-test``) it also times ``make test`` in this checkout after a build.

Targets (issues #20 and #21) on this 2-core machine, quiet: a clean build (of the book, English)
<= 40 s; both editions <= 2x English only; no-change ``make book`` <= 5 s; ``make test`` after a
build <= 240 s.

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
EN, BOTH, CHECK, TEST = ("clean, English only", "clean make book", "no-change make book",
                         "make test after a build")
TARGETS = {EN: 40.0, CHECK: 5.0, TEST: 240.0}
TARGET_BOTH_RATIO = 2.0
# As the Makefile sets them for `make book` (see its comment on threads).
THREADS = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def copy_sources(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)  # keeps file times: make sees .venv as up to date
    for shared in ("node_modules", ".venv"):
        (dest / shared).symlink_to(ROOT / shared)


def timed(where: Path, command: list[str], env: dict[str, str] | None = None
          ) -> tuple[float, str]:
    """Seconds taken by ``command`` in ``where``, and its output; exits if it fails."""
    started = time.perf_counter()
    result = subprocess.run(command, cwd=where, capture_output=True, text=True, check=False,
                            env=None if env is None else {**os.environ, **env})
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return elapsed, result.stdout + result.stderr


def english_only(where: Path) -> float:
    """A clean build of the English edition alone, as ``make book`` runs it."""
    shutil.rmtree(where / "_build", ignore_errors=True)
    bin_dir = where / ".venv" / "bin"
    started = time.perf_counter()
    timed(where, [str(bin_dir / "python"), "tools/build_stamp.py"], THREADS)
    timed(where, [str(bin_dir / "python"), "tools/execute_chapters.py", "en"], THREADS)
    timed(where, [str(bin_dir / "jupyter-book"), "build", ".", "-W", "-n", "--keep-going"],
          THREADS)
    return time.perf_counter() - started


def both_editions(where: Path) -> tuple[float, float]:
    """A clean ``make book`` and the no-change ``make book`` right after it."""
    shutil.rmtree(where / "_build", ignore_errors=True)
    clean, _ = timed(where, ["make", "book"])
    check, output = timed(where, ["make", "book"])
    if "jupyter-book build" in output:
        sys.exit(f"a no-change `make book` built again:\n{output[-3000:]}")
    return clean, check


def stats(values: list[float]) -> str:
    """runs, min, median and spread (max/min) for a table row."""
    return (f"{len(values):>5}{min(values):>9.2f}{statistics.median(values):>10.2f}"
            f"{max(values) / min(values):>7.2f}x")


def report(samples: dict[str, list[float]], loads: list[float]) -> None:
    print(f"load average (1 min) during the runs: min {min(loads):.1f}, max {max(loads):.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'step':<25}{'runs':>5}{'min s':>9}{'median s':>10}{'spread':>8}{'target':>9}  "
          "verdict (median)")
    for step, values in samples.items():
        target = TARGETS.get(step)
        verdict = ""
        if target is not None:
            met = "met" if statistics.median(values) <= target else "NOT met"
            verdict = f"{target:>8.0f}s  {met}"
        print(f"{step:<25}{stats(values)}{verdict}")
    pairs = {
        f"both / English only (target <= {TARGET_BOTH_RATIO:g})": (samples[EN], samples[BOTH]),
        "no-change / clean make book": (samples[BOTH], samples[CHECK]),
    }
    print(f"{'paired per round':<40}{'min':>7}{'median':>8}{'spread':>8}  verdict (median)")
    for name, (base, other) in pairs.items():
        ratios = [b / a for a, b in zip(base, other, strict=True)]
        median = statistics.median(ratios)
        verdict = ""
        if name.startswith("both"):
            verdict = "met" if median <= TARGET_BOTH_RATIO else "NOT met"
        print(f"{name:<40}{min(ratios):>7.3f}{median:>8.3f}{max(ratios) / min(ratios):>7.2f}x"
              f"  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds (default 3)")
    parser.add_argument("--make-test", action="store_true",
                        help="also time `make test` once in this checkout (after a build)")
    args = parser.parse_args()
    for shared in ("node_modules", ".venv"):
        if not (ROOT / shared).is_dir():
            sys.exit(f"{shared} is missing: run `make book` first.")
    samples: dict[str, list[float]] = {EN: [], BOTH: [], CHECK: []}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="convlab-build-") as tmp:
        where = Path(tmp)
        copy_sources(where)
        for r in range(args.rounds):
            for side in ((EN, BOTH) if r % 2 == 0 else (BOTH, EN)):
                if side == EN:
                    samples[EN].append(english_only(where))
                else:
                    clean, check = both_editions(where)
                    samples[BOTH].append(clean)
                    samples[CHECK].append(check)
                loads.append(os.getloadavg()[0])
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in samples.items()),
                  flush=True)
    if args.make_test:
        timed(ROOT, ["make", "book"])
        seconds, _ = timed(ROOT, ["make", "test"])
        samples[TEST] = [seconds]
        loads.append(os.getloadavg()[0])
    report(samples, loads)


if __name__ == "__main__":
    main()
