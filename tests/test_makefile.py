"""The Makefile's parallelism: JOBS is the machine's core count, however many threads torch is
told to use; the tests run one worker more (TEST_JOBS), or one at a time with JOBS=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def jobs(env: dict[str, str], variable: str = "JOBS", *args: str) -> str:
    done = subprocess.run(["make", "-s", "--no-print-directory", *args, "--eval",
                           f"print-jobs: ; @printf '%s\\n' '$({variable})'", "print-jobs"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.parametrize("threads", [None, "1"])
def test_jobs_is_the_core_count_whatever_omp_num_threads_says(threads: str | None) -> None:
    # `make book` and `make test` export OMP_NUM_THREADS=1, and plain `nproc` answers that.
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    if threads is not None:
        env["OMP_NUM_THREADS"] = threads
    cores = len(os.sched_getaffinity(0))
    assert jobs(env) == str(cores)
    assert jobs(env, "TEST_JOBS") == str(cores + 1 if cores > 1 else 1)


def test_jobs_can_be_set_on_the_command_line() -> None:
    done = subprocess.run(["make", "-s", "--no-print-directory", "JOBS=1", "--eval",
                           "print-jobs: ; @echo $(JOBS)", "print-jobs"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"


@pytest.mark.parametrize(("given", "workers"), [("1", "1"), ("2", "3"), ("4", "5")])
def test_the_tests_run_one_worker_more_than_jobs_unless_one(given: str, workers: str) -> None:
    assert jobs(dict(os.environ), "TEST_JOBS", f"JOBS={given}") == workers
    assert f"-n {workers} " in jobs(dict(os.environ), "PARALLEL", f"JOBS={given}") + " "


def test_python_writes_its_byte_code_cache() -> None:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(["make", "-s", "--no-print-directory", "--eval",
                           "print-env: ; @echo \"[$$PYTHONDONTWRITEBYTECODE]\"", "print-env"],
                          cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_nbformat_imports_without_the_slow_iri_checker() -> None:
    """make removes rfc3987-syntax after installing (Makefile, SLOW_IMPORT): jsonschema would
    import it with nbformat and build its parsers, about 1 s in every such process."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, jsonschema, nbformat; "
         "print(sorted(m for m in ('rfc3987_syntax', 'lark') if m in sys.modules))"],
        capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
