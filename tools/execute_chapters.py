"""Execute the book's notebooks into myst-nb's execution caches, several at a time, before
Sphinx reads them.

Usage: python tools/execute_chapters.py [--jobs 2] [LANGUAGE ...]   (default: every edition)

A clean ``jupyter-book build`` executes its notebooks one after the other while it reads them:
on this 2-core machine one core waits while a kernel imports torch. This script runs first
(``make book``) and fills the same caches myst-nb's ``execute_notebooks: cache`` mode reads:

* every notebook of ``_toc.yml`` is read the way myst-nb reads it (its MyST notebook reader,
  with the settings Jupyter Book makes of ``_config.yml``), so the cache key (the code cells
  and their metadata, and the kernelspec: jupyter-cache's hash) is the one the build looks up;
* notebooks already in an edition's cache are skipped;
* the others run ``--jobs`` at a time, each in its own kernel, in the chapter's folder (as
  myst-nb runs them) and with the edition's ``CONVLAB_LANG`` in the kernel's environment
  (``tools/i18n.py``); the English edition and every translated one, so ``make book`` keeps
  both cores busy while the two builds would each wait on one kernel;
* only this process writes to the caches, after each notebook finishes: parallel writers never
  meet jupyter-cache's SQLite database.

A notebook that fails here is not cached and is reported in one line; the build then runs it
again itself and stops on the failing cell with the traceback, as it always has. So this script
only ever saves time: with it or without it, the build's pages are the same.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import i18n  # noqa: E402  (tools/i18n.py: the editions, their caches and language variable)

ENGLISH = "en"
#: The description of the cache records this script makes (myst-nb leaves it empty).
DESCRIPTION = "executed ahead of the build by tools/execute_chapters.py"


@dataclass(frozen=True)
class Job:
    """One notebook to execute for one edition."""

    path: Path
    language: str
    cache: Path


def toc_files(root: Path = ROOT) -> list[Path]:
    """The documents of ``_toc.yml`` (root first), as source paths that exist."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))

    def walk(node: object) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("file", "root") and isinstance(value, str):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)

    found = []
    for name in walk(toc):
        for suffix in (".md", ".ipynb"):
            if (path := root / f"{name}{suffix}").is_file():
                found.append(path)
                break
    return found


@functools.cache
def sphinx_settings(root: Path = ROOT) -> dict[str, object]:
    """The Sphinx settings ``jupyter-book build`` makes of ``root/_config.yml``: Jupyter Book's
    own conversion (its defaults included), so the notebooks are read, keyed and run with the
    very ``myst_*`` and ``nb_*`` settings the build uses. (``latex_individualpages`` is the
    one setting the command line always passes.)"""
    from jupyter_book.config import get_final_config

    settings, _ = get_final_config(user_yaml=root / "_config.yml", sourcedir=root,
                                   cli_config={"latex_individualpages": False})
    return settings


def _from_settings(cls: type, prefix: str, settings: dict[str, object]) -> object:
    """A myst-parser or myst-nb config object from the Sphinx settings named ``prefix`` + field
    (as the two extensions read their ``myst_*`` and ``nb_*`` settings in a build)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{key[len(prefix):]: value for key, value in settings.items()
                  if key.startswith(prefix) and key[len(prefix):] in names})


def read_notebook(path: Path, root: Path = ROOT) -> nbformat.NotebookNode | None:
    """The notebook at ``path`` as myst-nb reads it, or None for a plain Markdown page."""
    from myst_nb.core.config import NbParserConfig
    from myst_nb.core.read import create_nb_reader
    from myst_parser.config.main import MdParserConfig

    settings = sphinx_settings(root)
    md_config = _from_settings(MdParserConfig, "myst_", settings)
    nb_config = _from_settings(NbParserConfig, "nb_", settings)
    content = path.read_text(encoding="utf-8")
    reader = create_nb_reader(str(path), md_config, nb_config, content)
    return None if reader is None else reader.read(content)


def execution_settings(root: Path = ROOT) -> tuple[int, bool]:
    """The build's cell timeout and allow-errors settings."""
    settings = sphinx_settings(root)
    return int(settings["nb_execution_timeout"]), bool(settings["nb_execution_allow_errors"])


def _execute(job: Job, notebook: nbformat.NotebookNode, timeout: int, allow_errors: bool
             ) -> tuple[Job, nbformat.NotebookNode | None, float, str | None]:
    """Run one notebook in a worker process: (job, the executed notebook or None, seconds, the
    error's first line or None)."""
    from jupyter_cache.executors.utils import single_nb_execution

    os.environ[i18n.LANGUAGE_VARIABLE] = job.language  # inherited by the kernel
    # The outputs are all in once the last cell has replied: the kernel is stopped at once
    # rather than asked to shut down and waited for (about 0.5 s each with torch loaded).
    result = single_nb_execution(notebook, cwd=str(job.path.parent), timeout=timeout,
                                 allow_errors=allow_errors, meta_override=True,
                                 shutdown_kernel="immediate")
    if result.err is not None:
        first = (str(result.err).strip().splitlines() or [type(result.err).__name__])[-1]
        return job, None, result.time, first[:200]
    return job, result.nb, result.time, None


def caches(languages: list[str], root: Path = ROOT) -> dict[str, Path]:
    """Each language's execution cache (English: the build's; others: tools/i18n.py)."""
    found = {}
    for language in languages:
        if language == ENGLISH:
            found[language] = root / str(sphinx_settings(root)["nb_execution_cache_path"])
        else:
            found[language] = i18n.edition_cache(i18n.edition_of(language), root)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("languages", nargs="*",
                        default=[ENGLISH, *(e.language for e in i18n.translated_editions())])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    root = args.root.resolve()
    timeout, allow_errors = execution_settings(root)
    notebooks = {path: nb for path in toc_files(root)
                 if (nb := read_notebook(path, root)) is not None}
    pending: list[tuple[Job, nbformat.NotebookNode]] = []
    for language, cache_path in caches(args.languages, root).items():
        cache = get_cache(str(cache_path))
        for path, nb in notebooks.items():
            try:
                cache.match_cache_notebook(nb)
            except KeyError:
                pending.append((Job(path, language, cache_path), nb))
    if not pending:
        return 0

    started = time.perf_counter()
    print(f"Executing {len(pending)} notebooks, {args.jobs} at a time", flush=True)
    failed = 0
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(pending))) as pool:
        futures = [pool.submit(_execute, job, nb, timeout, allow_errors) for job, nb in pending]
        for future in as_completed(futures):
            job, executed, seconds, error = future.result()
            name = f"{job.path.relative_to(root)} [{job.language}]"
            if executed is None:
                failed += 1
                print(f"  {name}: failed ({error}); the build runs it again and shows the cell",
                      flush=True)
                continue
            get_cache(str(job.cache)).cache_notebook_bundle(
                CacheBundleIn(executed, str(job.path),
                              data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True, description=DESCRIPTION)
            print(f"  {name}: {seconds:.1f} s", flush=True)
    print(f"Executed in {time.perf_counter() - started:.1f} s"
          + (f"; {failed} failed" if failed else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
