"""The Binder configuration (binder/, read by repo2docker) matches the local setup."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"


def lines(path: Path) -> list[str]:
    return [ln.split("#", 1)[0].strip() for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.split("#", 1)[0].strip()]


def test_binder_uses_python_3_11_like_the_makefile() -> None:
    assert lines(BINDER / "runtime.txt") == ["python-3.11"]
    assert "PYTHON ?= python3.11" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_binder_installs_the_same_pins_with_cpu_torch() -> None:
    req = lines(BINDER / "requirements.txt")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in req
    assert "-r ../requirements.txt" in req  # pip resolves -r relative to this file
    pinned = lines(ROOT / "requirements.txt")
    assert "torch==2.13.0" in pinned and "-e ." in pinned
    # repo2docker stages the whole repository before installing when a requirements file has
    # a local reference such as -r, so `-e .` finds the package.
    assert any(re.match(r"^(-r|--requirement)\b", ln) for ln in req)


def test_post_build_opens_chapters_as_notebooks() -> None:
    script = BINDER / "postBuild"
    assert os.access(script, os.X_OK), "binder/postBuild must be executable"
    assert "python tools/lab_settings.py" in script.read_text(encoding="utf-8")
    assert (ROOT / "tools" / "lab_settings.py").is_file()


def test_no_root_binder_files_that_binder_would_ignore() -> None:
    # with a binder/ folder, repo2docker ignores configuration files at the root
    assert not (ROOT / "runtime.txt").exists() and not (ROOT / "postBuild").exists()
