"""nbgrader's autograding step for ConvLab assignments, without the learner's kernel.

``make assignments`` writes an ``nbgrader_config.py`` that puts :class:`CleanProcessGrading` in
place of nbgrader's ``Execute`` step of ``nbgrader autograde``. nbgrader first restores every
test cell and read-only cell from its database (so a submission cannot edit them); this step
then fills each autograder test cell's output from :func:`convlab.grading.grade`: a stdout text
naming the cases that failed (in the language the cell's spec names: a Chinese course's reports
are Chinese), and as the cell's result the points earned (nbgrader reads a
number output by a test cell as partial credit). The submission's notebook is never executed, so
nothing it does in its own kernel — patching checkers or torch, an endless loop at top level,
``os._exit`` — changes a grade or stops the run.

A test cell without a valid ``# convlab-grade:`` line gets an error output: zero points.
"""

from __future__ import annotations

from typing import Any

import nbformat
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool, Float

from convlab import grading


def _is(cell: Any, key: str) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get(key))


def answer_sources(nb: nbformat.NotebookNode) -> dict[str, str]:
    """The source of each answer (solution) code cell, by nbgrader ``grade_id``."""
    return {cell.metadata["nbgrader"].get("grade_id", ""): cell.source
            for cell in nb.cells if cell.cell_type == "code" and _is(cell, "solution")}


def answer_id(label: str) -> str:
    """The nbgrader ``grade_id`` of the answer cell of exercise ``label``."""
    return f"{label}-answer"


def grade_cell(cell: nbformat.NotebookNode, answers: dict[str, str], time_limit: float) -> None:
    """Replace a test cell's outputs by its grade (see the module docstring)."""
    spec = grading.read_spec(cell.source)
    if spec is None:
        cell.outputs = [nbformat.v4.new_output(
            "error", ename="GradingError", evalue="not a ConvLab test cell", traceback=[])]
        return
    by_label = {grade_id.removesuffix("-answer"): source for grade_id, source in answers.items()}
    report = grading.grade(spec, by_label.get(spec["label"]),
                           needed=grading.needed_source(spec["label"], by_label),
                           time_limit=time_limit)
    points = float(cell.metadata["nbgrader"]["points"])
    text = report.text(lang=grading.spec_language(spec))  # the assignment's language
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=text + "\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": f"{report.score * points:g}"},
                               execution_count=None),
    ]


class CleanProcessGrading(Preprocessor):
    """Grade every autograder test cell in clean child processes (replaces nbgrader's Execute)."""

    enabled = Bool(True)
    time_limit = Float(grading.DEFAULT_TIME_LIMIT,
                       help="Seconds one exercise's answer may run, all cases together.")
    time_limit.tag(config=True)

    def preprocess(self, nb: nbformat.NotebookNode,
                   resources: dict[str, Any]) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
        answers = answer_sources(nb)
        for cell in nb.cells:
            if cell.cell_type == "code" and _is(cell, "grade") and not _is(cell, "solution"):
                grade_cell(cell, answers, self.time_limit)
        return nb, resources
