"""What running learner code in a child process costs a checker (prints figures and ratios).

Every checker runs the learner's function through :mod:`convlab.sandbox`: one ``fork`` per
check, one report per case sent back through a pipe, the child killed and reaped at the end.
This benchmark measures that overhead against calling the same function in-process, for an
empty call, for the chapter 1 checkers and for chapter 3's training loop.

Run: ``.venv/bin/python bench/check_overhead.py`` (part of ``make bench``).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

from convlab import checks, checks_formulas, checks_tensors, sandbox

REPEATS = 7


def median_seconds(action: Callable[[], object], repeats: int = REPEATS) -> float:
    """Median wall-clock time of ``action`` over ``repeats`` runs (after one warm-up)."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def size_ok(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d_ok(x, w, b=None, stride=1, padding=0):
    """A learner's convolution: one loop over output positions, a dot product per window."""
    kh, kw = w.shape[-2:]
    xp = F.pad(x, (padding,) * 4)
    rows = range(0, xp.shape[-2] - kh + 1, stride)
    cols = range(0, xp.shape[-1] - kw + 1, stride)
    out = torch.stack([torch.stack([
        torch.tensordot(xp[:, :, r:r + kh, c:c + kw], w, dims=([1, 2, 3], [1, 2, 3]))
        for c in cols], dim=-1) for r in rows], dim=-2)
    return out if b is None else out + b.view(1, -1, 1, 1)


def train(model, optimizer, batches, loss_fn):
    """A learner's training loop (one step per batch, gradients zeroed first)."""
    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()
    return [step(x, y) for x, y in batches]


def _fork_and_reap() -> None:
    """The floor of any child process: fork this (torch-loaded) process and reap it."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def row(label: str, seconds: float, baseline: float | None = None) -> None:
    """One figure; against a baseline also the overhead (ms) and, when meaningful, the ratio."""
    extra = ""
    if baseline is not None:
        extra = f"  (+{(seconds - baseline) * 1000:.1f} ms"
        extra += f", {seconds / baseline:.1f}× in-process)" if baseline > 1e-3 else ")"
    print(f"  {label:<58} {seconds * 1000:9.1f} ms{extra}")


def main() -> None:
    F.conv2d(torch.randn(4, 8, 64, 64), torch.randn(8, 8, 3, 3))  # the parent's threads exist
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {REPEATS}")

    print("\nThe sandbox alone")
    empty = median_seconds(lambda: sandbox.run(lambda: None, [sandbox.Call()], time_limit=10))
    bare = median_seconds(_fork_and_reap)
    row("os.fork + os._exit + waitpid (this process, as it is)", bare)
    row("sandbox.run: one empty call (fork, report, kill, reap)", empty)
    many = median_seconds(lambda: sandbox.run(lambda: None, [sandbox.Call()] * 100,
                                              time_limit=10))
    row("sandbox.run: 100 empty calls in one child", many)
    row("  → per extra call", (many - empty) / 99)
    rule = sandbox.Rule("F.conv2d", torch_ops=frozenset({"conv2d", "convolution"}))
    x, w = torch.randn(1, 3, 8, 8), torch.randn(2, 3, 3, 3)
    watched = median_seconds(lambda: sandbox.run(conv2d_ok, [sandbox.Call((x, w))] * 10,
                                                 time_limit=10, rules=[rule]))
    unwatched = median_seconds(lambda: sandbox.run(conv2d_ok, [sandbox.Call((x, w))] * 10,
                                                   time_limit=10))
    row("10 loop convolutions in the child, forbidden calls watched", watched)
    row("10 loop convolutions in the child, not watched", unwatched)
    row("  → watching costs", watched - unwatched)

    print("\nWhole checks against calling the learner's function in-process")
    in_process = median_seconds(lambda: [size_ok(**c) for c in checks_formulas.OUTPUT_SIZE_CASES])
    check = median_seconds(lambda: checks.check_output_size(size_ok))
    row("14 output sizes, in-process", in_process)
    row("check_output_size (14 cases in a child, with feedback)", check, in_process)
    cases = checks_tensors.conv2d_cases()
    in_process = median_seconds(lambda: [conv2d_ok(c.x, c.w, c.b, c.stride, c.padding)
                                         for c in cases])
    check = median_seconds(lambda: checks.check_conv2d(conv2d_ok))
    row(f"{len(cases)} loop convolutions, in-process", in_process)
    row("check_conv2d (same cases in a child, rules watched)", check, in_process)
    check = median_seconds(lambda: checks.check_training_loop(train))
    row("check_training_loop (4 SGD steps, parameters sent back)", check)
    print("\nThe fixed cost is one fork of the kernel's process and one pipe round trip per "
          "case; it buys a time limit that holds, output that cannot flood the notebook, and "
          "exits that end nothing.")


if __name__ == "__main__":
    main()
