"""How fast are the reference convolutions compared with F.conv2d? (figures, not a pass/fail test)

Times ``conv2d_unfold`` (im2col + one matrix multiply) and ``conv2d_loops`` (the sliding
window) against ``torch.nn.functional.conv2d``. The sides of each comparison are measured
*interleaved*: every round times each implementation once (a block of runs with
``torch.utils.benchmark``), in a rotating order, so a burst of load from other processes hits
both sides of a pair alike. The ratio is computed per round (the paired ratio) and the verdict
is stated on the median of the paired ratios; minimum, median and spread (max/min) are printed
for every time and ratio, so a noisy run shows as a wide spread rather than a flipped verdict.

- realistic case: x 8x16x64x64, 32 kernels 3x3, padding 1 (float32); target: conv2d_unfold
  within 5x of F.conv2d.
- the same layer on a 16x16 input (256 instead of 4,096 output pixels): conv2d_loops takes one
  Python step per output pixel, so its cost grows with the output area.

Run: ``.venv/bin/python bench/reference_speed.py``. It uses one torch thread by default: on a
shared, loaded machine OpenMP's multi-threaded kernels (``F.unfold`` in particular) wait for
descheduled threads and their times jump between runs by 10x or more; ``--threads 2`` measures
the multi-threaded case anyway.
"""

from __future__ import annotations

import argparse
import os
import statistics

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from convlab import conv2d_loops, conv2d_unfold

TARGET_UNFOLD_RATIO = 5.0


def block_seconds(fn, x: torch.Tensor, w: torch.Tensor, min_run_time: float) -> float:
    """Mean time of one ``fn(x, w, padding=1)`` over a block of at least ``min_run_time`` s."""
    timer = benchmark.Timer(
        stmt="fn(x, w, padding=1)",
        globals={"fn": fn, "x": x, "w": w},
        num_threads=torch.get_num_threads(),
    )
    return timer.blocked_autorange(min_run_time=min_run_time).median


def spread(values: list[float]) -> str:
    """min, median and max/min of ``values``, for a table row."""
    low, mid = min(values), statistics.median(values)
    return f"{low:>10.3f} {mid:>10.3f} {max(values) / low:>7.2f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads(N) (default 1, see the module docstring)")
    parser.add_argument("--min-run-time", type=float, default=0.2,
                        help="seconds of measurement per row and round (default 0.2)")
    parser.add_argument("--rounds", type=int, default=9,
                        help="interleaved rounds (default 9)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    gen = torch.Generator().manual_seed(0)
    w = torch.randn(32, 16, 3, 3, generator=gen)
    cases = {
        "8x16x64x64": torch.randn(8, 16, 64, 64, generator=gen),
        "8x16x16x16": torch.randn(8, 16, 16, 16, generator=gen),
    }
    rows = [
        ("F.conv2d", "8x16x64x64", F.conv2d),
        ("conv2d_unfold", "8x16x64x64", conv2d_unfold),
        ("conv2d_loops", "8x16x64x64", conv2d_loops),
        ("F.conv2d", "8x16x16x16", F.conv2d),
        ("conv2d_unfold", "8x16x16x16", conv2d_unfold),
        ("conv2d_loops", "8x16x16x16", conv2d_loops),
    ]
    # correctness first: a benchmark of a wrong result means nothing
    for _, case, fn in rows:
        torch.testing.assert_close(fn(cases[case], w, padding=1),
                                   F.conv2d(cases[case], w, padding=1), rtol=1e-4, atol=1e-4)

    # Interleaved rounds: each round times every row once, starting at a rotating row.
    samples: dict[tuple[str, str], list[float]] = {(name, case): [] for name, case, _ in rows}
    for r in range(args.rounds):
        for i in range(len(rows)):
            name, case, fn = rows[(r + i) % len(rows)]
            samples[(name, case)].append(
                block_seconds(fn, cases[case], w, args.min_run_time))

    def paired_ratios(name: str, case: str) -> list[float]:
        return [t / ref for t, ref in zip(samples[(name, case)], samples[("F.conv2d", case)],
                                          strict=True)]

    print(f"32 kernels 3x3, padding 1, float32, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); {args.rounds} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'implementation':<15} {'input':<12} {'min (ms)':>10} {'median':>10} {'spread':>8}"
          f" | {'x F.conv2d: min':>15} {'median':>7} {'spread':>8}")
    for name, case, _ in rows:
        times_ms = [t * 1e3 for t in samples[(name, case)]]
        ratios = paired_ratios(name, case)
        print(f"{name:<15} {case:<12} {spread(times_ms)} | {min(ratios):>15.2f} "
              f"{statistics.median(ratios):>7.2f} {max(ratios) / min(ratios):>7.2f}x")
    ratios = paired_ratios("conv2d_unfold", "8x16x64x64")
    ratio = statistics.median(ratios)
    met = "met" if ratio <= TARGET_UNFOLD_RATIO else "NOT met"
    print(f"target conv2d_unfold within {TARGET_UNFOLD_RATIO:g}x of F.conv2d on 8x16x64x64: "
          f"median paired ratio {ratio:.2f}x (min {min(ratios):.2f}x, max {max(ratios):.2f}x)"
          f" -> {met}")
    print("conv2d_loops takes one Python step per output pixel (4,096 for 64x64, 256 for 16x16).")


if __name__ == "__main__":
    main()
