"""Tests for tools/make_student.py: solutions never reach the student copy, stubs do, the
instructor copy is complete, and student notebooks run to the stubs with no other error."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from myst_samples import HEADER
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_student)


# Every piece of solution text contains SECRET; nothing with SECRET may reach the student copy.
CHAPTER = HEADER + """
# 01 A tiny chapter

```{code-cell} ipython3
from convlab import checks
```

```{exercise} Implement the output size
:label: ex-size

Write `my_conv_output_size(i, k)`.
```

```{code-cell} ipython3
:tags: [exercise-stub]

def my_conv_output_size(i, k, s=1, p=0, d=1):
    # Your code here
    raise NotImplementedError("Exercise: implement my_conv_output_size")
```

```{solution-start} ex-size
:class: dropdown
```

SECRET explanation between solution-start and solution-end.

```{code-cell} ipython3
:tags: [solution]

def my_conv_output_size(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1  # SECRET
```

```{code-cell} ipython3
print("SECRET untagged cell inside the block")
```

```{solution-end}
```

```{code-cell} ipython3
result = checks.check_output_size(my_conv_output_size)
print(result.summary())
```

````{solution} ex-size
:class: dropdown

SECRET backtick solution with a nested code block:

```python
answer = 42  # SECRET
```
````

:::{solution} ex-size
:class: dropdown
SECRET colon-fence solution.
:::

```{code-cell} ipython3
:tags: [solution]

print("SECRET tagged cell outside any block")
```

```{code-cell} ipython3
:tags: [raises-exception]

my_conv_output_size(5, 3)
```

Text after the solutions stays.
"""


def write_chapter(tmp_path: Path, text: str = CHAPTER, name: str = "01_tiny.md") -> Path:
    src = tmp_path / "book"
    src.mkdir(exist_ok=True)
    (src / name).write_text(text, encoding="utf-8")
    return src


def notebook_text(nb: nbformat.NotebookNode) -> str:
    return "\n".join(cell.source for cell in nb.cells)


def test_student_copy_has_no_solution_and_keeps_stubs(tmp_path):
    src = write_chapter(tmp_path)
    out = tmp_path / "out"
    written = make_student.make(src, out)
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "instructor/01_tiny.ipynb", "student/01_tiny.ipynb"]
    student = nbformat.read(out / "student" / "01_tiny.ipynb", as_version=4)
    text = notebook_text(student)
    assert "SECRET" not in text
    assert "{solution" not in text and ":tags: [solution]" not in text
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    stubs = [c for c in student.cells if "exercise-stub" in c.metadata.get("tags", [])]
    stub = 'raise NotImplementedError("Exercise: implement my_conv_output_size")'
    assert len(stubs) == 1 and stub in stubs[0].source
    assert "**Exercise: Implement the output size**" in text
    assert "Write `my_conv_output_size(i, k)`." in text
    assert ":label:" not in text
    assert "checks.check_output_size(my_conv_output_size)" in text
    assert "Text after the solutions stays." in text
    assert student.cells[0].source == make_student.STUDENT_NOTE
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert "jupytext" not in student.metadata
    assert student.metadata["kernelspec"]["name"] == "python3"


def test_instructor_copy_is_complete(tmp_path):
    src = write_chapter(tmp_path)
    out = tmp_path / "out"
    make_student.make(src, out)
    instructor = nbformat.read(out / "instructor" / "01_tiny.ipynb", as_version=4)
    text = notebook_text(instructor)
    for piece in ("SECRET explanation", "# SECRET", "SECRET untagged cell", "answer = 42",
                  "SECRET colon-fence", "SECRET tagged cell", "```{exercise}", "{solution-start}"):
        assert piece in text
    source_cells = jupytext.read(src / "01_tiny.md").cells
    assert [c.source for c in instructor.cells] == [c.source for c in source_cells]


@pytest.mark.parametrize(("broken", "message"), [
    (CHAPTER.replace("```{solution-end}\n```\n", ""), "never ended"),
    (CHAPTER.replace("```{solution-start} ex-size\n:class: dropdown\n```\n", ""),
     "solution-end without a solution-start"),
    (HEADER + "\n:::{solution} x\nSECRET never closed\n", "never closed"),
])
def test_unbalanced_solutions_are_errors_not_leaks(tmp_path, broken, message):
    src = write_chapter(tmp_path, broken)
    with pytest.raises(ValueError, match=message):
        make_student.make(src, tmp_path / "out")


def test_command_line(tmp_path):
    src = write_chapter(tmp_path)
    write_chapter(tmp_path, HEADER + "\n# Intro, not a chapter\n", name="intro.md")
    out = tmp_path / "notebooks"
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_student.py"),
                           "--src", str(src), "--out", str(out), "--lang", "en"],
                          capture_output=True, text=True, check=True)
    assert "wrote 1 student and 1 instructor notebooks (en)" in done.stdout
    assert sorted(p.name for p in (out / "student").iterdir()) == ["01_tiny.ipynb"]


def test_command_line_without_a_translation_is_an_error(tmp_path):
    # by default every language is written: a chapter with no Chinese catalogue stops the run
    src = write_chapter(tmp_path)
    done = subprocess.run([sys.executable, str(ROOT / "tools" / "make_student.py"),
                           "--src", str(src), "--out", str(tmp_path / "notebooks")],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert "01_tiny.po: no catalogue for this chapter" in done.stderr


# --------------------------------------------------------------------------- student notebooks run


def run_student(path: Path, cwd: Path) -> tuple[list[tuple[str, list[str]]], nbformat.NotebookNode]:
    """Execute a student notebook; return ((error name, cell tags) for every cell that raised,
    the executed notebook)."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code), f"{path} did not run"
    return [(out.ename, c.metadata.get("tags", [])) for c in code
            for out in c.outputs if out.output_type == "error"], nb


def unexpected(errors: list[tuple[str, list[str]]]) -> list[str]:
    """Errors a student notebook should not have: anything but a stub's NotImplementedError
    or the intended error of a cell tagged raises-exception — and never a NameError, the mark of
    code that used something only a removed solution defined."""
    return [name for name, tags in errors
            if name == "NameError"
            or (name != "NotImplementedError" and "raises-exception" not in tags)]


@pytest.mark.slow
def test_student_notebooks_run_to_the_stubs(tmp_path):
    # a fixture chapter, so this test asserts something even before any chapter exists; it runs
    # first in the kernel the chapters share (starting a kernel and importing torch cost more
    # than the fixture's cells)
    src = write_chapter(tmp_path)
    make_student.make(src, tmp_path / "fixture")
    fixture = tmp_path / "fixture" / "student" / "01_tiny.ipynb"

    chapters = sorted((ROOT / "book").glob("0*.md"))
    out = tmp_path / "book"
    make_student.make(ROOT / "book", out)
    students = [out / "student" / f"{chapter.stem}.ipynb" for chapter in chapters]
    for chapter, student_path in zip(chapters, students, strict=True):
        assert_no_solution_survives(student_path, out / "instructor" / f"{chapter.stem}.ipynb")
    combined = run_in_one_kernel([fixture, *students], ROOT / "book")
    errors_by_chapter = errors_in(combined)

    assert errors_by_chapter.pop("01_tiny") == [("NotImplementedError", ["raises-exception"])]
    printed = "".join(o.get("text", "") for c in combined.cells
                      if c.metadata["chapter"] == "01_tiny" for o in c.outputs)
    assert "check_output_size: not implemented yet" in printed

    assert list(errors_by_chapter) == [path.stem for path in students]
    for name, errors in errors_by_chapter.items():
        assert unexpected(errors) == [], f"{name}: {errors}"


Errors = list[tuple[str, list[str]]]  # (error name, cell tags) for every cell that raised

# Run first in every chapter of the shared kernel: empty the namespace, then prove it is empty.
RESET = """%reset -f
leftover = [n for n in globals() if not n.startswith("_")
            and n not in {"In", "Out", "get_ipython", "exit", "quit", "open"}]
assert leftover == [], f"names left from the previous chapter: {leftover}"
del leftover"""


def run_in_one_kernel(paths: list[Path], cwd: Path) -> nbformat.NotebookNode:
    """Execute the notebooks one after another in one kernel; return the executed combined
    notebook, each code cell's ``metadata["chapter"]`` naming its notebook.

    Starting a kernel and importing torch and matplotlib cost more than most chapters' cells, so
    the chapters share one kernel: each starts with ``%reset -f`` (checked), which empties the
    namespace while the imported modules stay loaded. A name that only a removed solution
    defined still raises NameError. (The book build runs every chapter in a fresh kernel.)"""
    combined = nbformat.v4.new_notebook()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        combined.metadata = combined.metadata or nb.metadata
        reset = nbformat.v4.new_code_cell(RESET, metadata={"chapter": path.stem})
        combined.cells.append(reset)
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.metadata["chapter"] = path.stem
                combined.cells.append(cell)
    NotebookClient(combined, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return combined


def errors_in(combined: nbformat.NotebookNode) -> dict[str, Errors]:
    """Each notebook's (error name, cell tags) list, in order, from :func:`run_in_one_kernel`;
    every cell must have run."""
    found: dict[str, Errors] = {}
    for cell in combined.cells:
        chapter = cell.metadata["chapter"]
        found.setdefault(chapter, [])
        assert cell.execution_count is not None, f"{chapter} did not run"
        for out in cell.outputs:
            if out.output_type == "error":
                found[chapter].append((out.ename, cell.metadata.get("tags", [])))
    return found


def assert_no_solution_survives(student_path: Path, instructor_path: Path) -> None:
    """No solution cell, directive or solution text of the instructor copy is in the student's."""
    student = nbformat.read(student_path, as_version=4)
    instructor = nbformat.read(instructor_path, as_version=4)
    text = "\n".join(c.source for c in student.cells)
    assert not any("solution" in c.metadata.get("tags", []) for c in student.cells)
    assert "{solution" not in text, f"{student_path.name}: a solution directive survived"
    solutions = [c.source for c in instructor.cells if "solution" in c.metadata.get("tags", [])]
    assert solutions, f"{instructor_path.name} has no solution cells to compare with"
    leaked = [src.splitlines()[0] for src in solutions if src.strip() and src in text]
    assert not leaked, f"{student_path.name}: solution code survived: {leaked}"


@pytest.mark.slow
def test_a_shared_kernel_still_reports_names_from_an_earlier_chapter(tmp_path):
    first, second = tmp_path / "01_first.ipynb", tmp_path / "02_second.ipynb"
    for path, code in ((first, "defined_in_first = 1"), (second, "print(defined_in_first)")):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code)]
        nbformat.write(nb, path)
    errors = errors_in(run_in_one_kernel([first, second], tmp_path))
    assert errors == {"01_first": [], "02_second": [("NameError", [])]}
