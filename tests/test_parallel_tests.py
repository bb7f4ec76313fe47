"""`make test` runs the tests on every core (pytest-xdist, ``--dist loadgroup``) and relies on
xdist keeping the tests of one page together (``tests/conftest.py``): the installed pytest and
pytest-xdist must do that, and the page tests must fail, saying why, when they do not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import _grouping_lost

GROUPED = """
import os
import pytest

@pytest.mark.xdist_group("one page")
@pytest.mark.parametrize("n", range(12))
def test_grouped(n):
    with open(os.environ["WORKERS_FILE"], "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")

@pytest.mark.parametrize("n", range(12))
def test_free(n):
    pass
"""


def test_the_installed_xdist_keeps_a_group_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "test_grouped.py").write_text(GROUPED)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
         "-p", "no:cacheprovider"],
        cwd=tmp_path, env={**os.environ, "WORKERS_FILE": str(tmp_path / "workers")},
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    workers = (tmp_path / "workers").read_text().split()
    assert len(workers) == 12
    # With the grouping lost, 12 tests spread over 2 workers would all land on one of them
    # by chance once in 2048 runs.
    assert len(set(workers)) == 1, f"the group ran on {sorted(set(workers))}"


def _item(nodeid: str, grouped: bool) -> SimpleNamespace:
    marker = object() if grouped else None
    return SimpleNamespace(nodeid=nodeid, get_closest_marker=lambda name: marker)


def test_a_worker_says_when_the_grouping_is_lost() -> None:
    config = SimpleNamespace(option=SimpleNamespace(loadgroup=True))
    lost = [_item("tests/test_a.py::test_x[p]", grouped=True)]
    assert _grouping_lost(config, lost).startswith(
        "pytest-xdist did not group 1 tests by page (e.g. tests/test_a.py::test_x[p])")


@pytest.mark.parametrize("loadgroup", [True, False])
def test_grouped_tests_and_runs_without_groups_go_on(loadgroup: bool) -> None:
    config = SimpleNamespace(option=SimpleNamespace(loadgroup=loadgroup))
    items = [_item("tests/test_a.py::test_x[p]@page::p", grouped=True),
             _item("tests/test_a.py::test_y", grouped=False)]
    assert _grouping_lost(config, items) is None
    if not loadgroup:  # a run without xdist has no marks to check
        assert _grouping_lost(config, [_item("tests/test_a.py::test_x[p]", grouped=True)]) is None
