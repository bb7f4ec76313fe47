"""Execute one MyST notebook (jupytext) top to bottom and report the first failing cell.

Usage: python tools/run_notebook.py book/01_convolution.md [--save out.ipynb] [--slowest 5]

Cells tagged ``raises-exception`` may raise; any other error stops the run with the cell's
source and traceback, like the book build does. Faster than a full ``make book`` while writing.
``--slowest N`` prints the N cells that took longest (kernel time from the cells' execution
timestamps), and the kernel's start-up: where a chapter's build time goes.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def cell_seconds(cell: nbformat.NotebookNode) -> float | None:
    """Seconds a code cell ran in the kernel (from nbclient's timing metadata), or None."""
    timing = cell.metadata.get("execution", {})
    if "iopub.execute_input" not in timing or "shell.execute_reply" not in timing:
        return None
    begin, end = (datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
                  for key in ("iopub.execute_input", "shell.execute_reply"))
    return (end - begin).total_seconds()


def print_slowest(nb: nbformat.NotebookNode, total: float, count: int) -> None:
    """The ``count`` slowest code cells, and what the cells leave to start-up and overhead."""
    timed = [(seconds, index, cell.source) for index, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (seconds := cell_seconds(cell)) is not None]
    in_cells = sum(seconds for seconds, _, _ in timed)
    print(f"  {len(timed)} code cells ran {in_cells:.1f} s of {total:.1f} s (the rest: kernel "
          "start-up and messaging)")
    for seconds, index, source in sorted(timed, reverse=True)[:count]:
        first = source.strip().splitlines()[0][:70] if source.strip() else ""
        print(f"  {seconds:6.2f} s  cell {index:3d}  {first}")


def run(path: Path, save: Path | None = None, timeout: int = 300, slowest: int = 0) -> int:
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
    total = time.perf_counter() - started
    print(f"{path}: {'ok' if status == 0 else 'error'} in {total:.1f} s")
    if slowest:
        print_slowest(nb, total, slowest)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--save", type=Path, default=None, help="write the executed .ipynb here")
    parser.add_argument("--timeout", type=int, default=300, help="per-cell timeout in seconds")
    parser.add_argument("--slowest", type=int, default=0,
                        help="print the N slowest cells (default 0: none)")
    args = parser.parse_args()
    return run(args.notebook, args.save, args.timeout, args.slowest)


if __name__ == "__main__":
    raise SystemExit(main())
