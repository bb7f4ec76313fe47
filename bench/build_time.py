"""Benchmark: a clean book build versus a rebuild with no change.

Copies the tracked sources into a temporary folder (so your own ``_build`` is untouched),
builds there twice with the same flags as ``make book`` and prints both times and their
ratio. Targets on a 2-core machine: clean build under 180 s, no-change rebuild under 20 s.

Usage: .venv/bin/python bench/build_time.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
FLAGS = ["-W", "-n", "--keep-going"]
TARGETS = {"clean build": 180.0, "no-change rebuild": 20.0}


def copy_sources(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    (dest / "node_modules").symlink_to(ROOT / "node_modules")


def timed_build(where: Path) -> float:
    started = time.perf_counter()
    result = subprocess.run([str(JUPYTER_BOOK), "build", ".", *FLAGS], cwd=where,
                            capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return elapsed


def main() -> None:
    if not (ROOT / "node_modules").is_dir():
        sys.exit("node_modules is missing: run `make book` (or `npm ci`) first.")
    with tempfile.TemporaryDirectory(prefix="convlab-build-") as tmp:
        where = Path(tmp)
        copy_sources(where)
        times = {"clean build": timed_build(where), "no-change rebuild": timed_build(where)}
    print(f"{'step':<20}{'seconds':>10}{'target':>10}  met")
    for step, seconds in times.items():
        met = "yes" if seconds < TARGETS[step] else "NO"
        print(f"{step:<20}{seconds:>10.1f}{TARGETS[step]:>10.0f}  {met}")
    ratio = times["no-change rebuild"] / times["clean build"]
    print(f"rebuild / clean build = {ratio:.2f}")


if __name__ == "__main__":
    main()
