"""The Makefile's parallelism: JOBS is the machine's core count, however many threads torch is
told to use."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def jobs(env: dict[str, str]) -> str:
    done = subprocess.run(["make", "-s", "--no-print-directory", "--eval",
                           "print-jobs: ; @echo $(JOBS)", "print-jobs"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("threads", [None, "1"])
def test_jobs_is_the_core_count_whatever_omp_num_threads_says(threads: str | None) -> None:
    # `make book` and `make test` export OMP_NUM_THREADS=1, and plain `nproc` answers that.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    assert jobs(env) == str(len(os.sched_getaffinity(0)))


def test_jobs_can_be_set_on_the_command_line() -> None:
    done = subprocess.run(["make", "-s", "--no-print-directory", "JOBS=1", "--eval",
                           "print-jobs: ; @echo $(JOBS)", "print-jobs"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"
