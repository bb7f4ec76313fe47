"""Execute one MyST notebook (jupytext) top to bottom and report the first failing cell.

Usage: python tools/run_notebook.py book/01_convolution.md [--save out.ipynb]

Cells tagged ``raises-exception`` may raise; any other error stops the run with the cell's
source and traceback, like the book build does. Faster than a full ``make book`` while writing.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def run(path: Path, save: Path | None = None, timeout: int = 300) -> int:
    """Execute the notebook at ``path``; return 0 on success, 1 on a cell error."""
    nb = jupytext.read(path)
    started = time.perf_counter()
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    status = 0
    try:
        client.execute()
    except CellExecutionError as err:
        print(f"FAILED: {path}\n{err}", file=sys.stderr)
        status = 1
    if save is not None:
        nbformat.write(nb, save)
    print(f"{path}: {'ok' if status == 0 else 'error'} in {time.perf_counter() - started:.1f} s")
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--save", type=Path, default=None, help="write the executed .ipynb here")
    parser.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")
    args = parser.parse_args()
    return run(args.notebook, args.save, args.timeout)


if __name__ == "__main__":
    raise SystemExit(main())
