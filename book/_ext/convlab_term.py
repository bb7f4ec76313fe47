"""Sphinx extension: what the site publishes of the answers.

Two things, both decided per build:

* **Instructor notebooks are never published.** ``convlab_site`` writes the student and the
  instructor notebook sets into ``_build/html/notebooks/``; after the build this extension moves
  the instructor set (folder and zip) beside the site, to ``_build/instructor-notebooks/``, so the
  site offers only the student set. Before the next build it moves them back, unchanged, so
  ``convlab_site`` sees its sets complete and does not rewrite them.
* **A term without public answers** (environment variable ``CONVLAB_TERM=1``, set by
  ``make book TERM_BUILD=1``): every solution is left out of the pages — the ``solution``
  directives, the gated ``solution-start`` … ``solution-end`` regions with the code cells inside
  them, and every code cell tagged ``solution`` — and the pages' source and executed ``.ipynb``
  downloads (which hold the solutions) are switched off. The cells still run in the build
  (``jupyter-cache`` reuses the default build's executions); only their display goes.
  sphinx-exercise's own ``hide_solutions`` option is not enough: it drops ``solution`` and
  ``solution-start`` directives but leaves a gated solution's content (its prose and code cells)
  on the page, so this extension removes the merged solution nodes itself.

The default build (no variable) keeps the solutions in folded dropdowns, for self-study.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx_exercise.nodes import solution_end_node, solution_node, solution_start_node

TERM_VARIABLE = "CONVLAB_TERM"
INSTRUCTOR = ("instructor", "convlab-instructor-notebooks.zip")


def term_requested(environ: dict[str, str]) -> bool:
    """Whether ``environ`` asks for a term build; a value other than 0 or 1 is an error."""
    value = environ.get(TERM_VARIABLE, "0").strip()
    if value not in {"0", "1", ""}:
        raise ConfigError(f"{TERM_VARIABLE} must be 1 (a term without public answers) or 0 "
                          f"(the default, solutions in dropdowns), not {value!r}.")
    return value == "1"


def configure(app: Sphinx, config: Config) -> None:
    """Read the build's setting once; in a term build, switch off the source downloads."""
    config.convlab_term = term_requested(dict(os.environ))
    if config.convlab_term:
        config.html_copy_source = False
        config.html_show_sourcelink = False
        config.html_theme_options = {**config.html_theme_options, "use_download_button": False}


def is_solution_cell(node: nodes.Node) -> bool:
    """A myst-nb code cell tagged ``solution``."""
    return isinstance(node, nodes.container) and "tag_solution" in node.get("classes", [])


def remove_solutions(app: Sphinx, doctree: nodes.document) -> None:
    """In a term build, remove every solution (after sphinx-exercise merged the gated ones)."""
    if not app.config.convlab_term:
        return
    kinds = (solution_node, solution_start_node, solution_end_node)
    for node in list(doctree.findall(lambda n: isinstance(n, kinds) or is_solution_cell(n))):
        if node.parent is not None:
            node.parent.remove(node)


def _kept(app: Sphinx) -> Path:
    return Path(app.outdir).parent / "instructor-notebooks"


def restore_instructor_set(app: Sphinx) -> None:
    """Put last build's instructor set back where ``convlab_site`` expects it."""
    kept, site = _kept(app), Path(app.outdir) / "notebooks"
    for name in INSTRUCTOR:
        if (kept / name).exists() and not (site / name).exists():
            site.mkdir(parents=True, exist_ok=True)
            shutil.move(kept / name, site / name)


def unpublish(app: Sphinx, exception: Exception | None) -> None:
    """Move the instructor set out of the site; in a term build, drop the page sources too."""
    if app.builder.name != "html":
        return
    kept, site = _kept(app), Path(app.outdir) / "notebooks"
    for name in INSTRUCTOR:
        if (site / name).exists():
            kept.mkdir(parents=True, exist_ok=True)
            if (kept / name).is_dir():
                shutil.rmtree(kept / name)
            elif (kept / name).exists():
                (kept / name).unlink()
            shutil.move(site / name, kept / name)
    if app.config.convlab_term:
        shutil.rmtree(Path(app.outdir) / "_sources", ignore_errors=True)


def setup(app: Sphinx) -> dict[str, object]:
    app.setup_extension("sphinx_exercise")
    app.add_config_value("convlab_term", False, "env", [bool])
    app.connect("config-inited", configure)
    app.connect("builder-inited", restore_instructor_set)
    app.connect("doctree-read", remove_solutions)
    # After convlab_site writes the notebook sets (build-finished, priority 500).
    app.connect("build-finished", unpublish, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
