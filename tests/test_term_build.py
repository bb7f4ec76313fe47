"""What the site publishes of the answers (``book/_ext/convlab_term.py``).

A sample book (one small MyST notebook with every kind of solution the chapters use) is built
with Sphinx twice, with and without ``CONVLAB_TERM=1``: cheap, and the same extension code as
the real build (marker ``slow``: each build takes a few seconds). The real default build is
checked too (marker ``site``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SITE

pytestmark = pytest.mark.slow
EXT = ROOT / "book" / "_ext"

CONF = f"""
import sys
sys.path.insert(0, {str(EXT)!r})
project = "term sample"
exclude_patterns = ["_build"]
extensions = ["myst_nb", "sphinx_exercise", "convlab_term"]
nb_execution_mode = "off"
html_theme = "sphinx_book_theme"
exercise_style = "solution_follow_exercise"
"""

PAGE = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
language_info:
  name: python
---

# Sample

```{exercise} Add
:label: ex-add

EXERCISE-TEXT-MARK
```

```{code-cell} ipython3
:tags: [exercise-stub]
raise NotImplementedError("STUB_MARK")
```

```{solution-start} ex-add
:class: dropdown
```

GATED-PROSE-MARK

```{code-cell} ipython3
:tags: [solution]
GATED_CODE_MARK = 1
```

```{solution-end}
```

```{code-cell} ipython3
:tags: [solution]
LOOSE_CODE_MARK = 2
```

```{exercise} Why
:label: ex-why

QUESTION-MARK-TEXT
```

```{solution} ex-why
:class: dropdown

PLAIN-SOLUTION-MARK
```

AFTER-MARK
"""

SOLUTIONS = ["GATED-PROSE-MARK", "GATED_CODE_MARK", "LOOSE_CODE_MARK", "PLAIN-SOLUTION-MARK"]
KEPT = ["EXERCISE-TEXT-MARK", "STUB_MARK", "QUESTION-MARK-TEXT", "AFTER-MARK"]


def build(src: Path, term: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CONVLAB_TERM"}
    if term is not None:
        env["CONVLAB_TERM"] = term
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
         str(src), str(src / "_build" / "html")],
        env=env, capture_output=True, text=True, check=False)


def published(src: Path) -> str:
    """Everything a visitor can fetch from the built sample site, as one text."""
    site = src / "_build" / "html"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace")
                     for path in site.rglob("*") if path.is_file()
                     and path.suffix in {".html", ".md", ".ipynb", ".txt", ".js"})


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    (tmp_path / "conf.py").write_text(CONF, encoding="utf-8")
    (tmp_path / "index.md").write_text(PAGE, encoding="utf-8")
    return tmp_path


def test_the_default_build_keeps_every_solution(sample: Path) -> None:
    result = build(sample, None)
    assert result.returncode == 0, result.stderr[-3000:]
    text = published(sample)
    for mark in SOLUTIONS + KEPT:
        assert mark in text, f"{mark} is missing from the default build"


def test_a_term_build_leaves_every_solution_out(sample: Path) -> None:
    result = build(sample, "1")
    assert result.returncode == 0, result.stderr[-3000:]
    text = published(sample)
    for mark in SOLUTIONS:
        assert mark not in text, f"{mark} is published in a term build"
    for mark in KEPT:
        assert mark in text, f"{mark} (not a solution) is missing from the term build"
    assert not (sample / "_build" / "html" / "_sources").exists()


def test_a_bad_term_setting_is_an_error_naming_the_variable(sample: Path) -> None:
    result = build(sample, "yes")
    assert result.returncode != 0
    assert "CONVLAB_TERM must be 1" in result.stdout + result.stderr


def test_instructor_notebooks_move_beside_the_site_and_back_unchanged(sample: Path) -> None:
    site_sets = sample / "_build" / "html" / "notebooks"
    (site_sets / "instructor").mkdir(parents=True)
    (site_sets / "instructor" / "01.ipynb").write_text("{}", encoding="utf-8")
    with zipfile.ZipFile(site_sets / "convlab-instructor-notebooks.zip", "w") as archive:
        archive.writestr("01.ipynb", "{}")
    kept = sample / "_build" / "instructor-notebooks"
    for _ in range(2):
        result = build(sample, None)
        assert result.returncode == 0, result.stderr[-3000:]
        assert not (site_sets / "instructor").exists()
        assert not (site_sets / "convlab-instructor-notebooks.zip").exists()
        assert (kept / "instructor" / "01.ipynb").read_text(encoding="utf-8") == "{}"
        assert (kept / "convlab-instructor-notebooks.zip").is_file()


@pytest.mark.site
def test_the_real_site_publishes_student_notebooks_only() -> None:
    sets = SITE / "notebooks"
    assert (sets / "student" / "01_convolution.ipynb").is_file()
    assert (sets / "convlab-student-notebooks.zip").is_file()
    assert not (sets / "instructor").exists(), "the instructor notebooks are published"
    assert not (sets / "convlab-instructor-notebooks.zip").exists()
    assert not [p for p in SITE.rglob("*instructor*") if p.suffix in {".ipynb", ".zip"}]
    chapter = (SITE / "book" / "01_convolution.html").read_text(encoding="utf-8")
    assert "solution dropdown" in chapter, "the default build keeps the solution dropdowns"
