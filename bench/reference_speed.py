"""How fast are the reference convolutions compared with F.conv2d? (figures, not a pass/fail test)

Times ``conv2d_unfold`` (im2col + one matrix multiply) and ``conv2d_loops`` (the sliding
window) against ``torch.nn.functional.conv2d`` with ``torch.utils.benchmark`` (median of
repeated measurements) and prints a table of times and ratios.

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

import torch
import torch.nn.functional as F
from torch.utils import benchmark

from convlab import conv2d_loops, conv2d_unfold

TARGET_UNFOLD_RATIO = 5.0


def median_seconds(fn, x: torch.Tensor, w: torch.Tensor, min_run_time: float) -> float:
    """Median time of ``fn(x, w, padding=1)`` over repeated blocks of runs."""
    timer = benchmark.Timer(
        stmt="fn(x, w, padding=1)",
        globals={"fn": fn, "x": x, "w": w},
        num_threads=torch.get_num_threads(),
    )
    return timer.blocked_autorange(min_run_time=min_run_time).median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="torch.set_num_threads(N) (default 1, see the module docstring)")
    parser.add_argument("--min-run-time", type=float, default=1.0,
                        help="seconds of measurement per row (default 1.0)")
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

    times = {(name, case): median_seconds(fn, cases[case], w, args.min_run_time)
             for name, case, fn in rows}

    print(f"32 kernels 3x3, padding 1, float32, torch {torch.__version__}, "
          f"{torch.get_num_threads()} thread(s); median of repeated runs")
    print(f"{'implementation':<15} {'input':<12} {'time (ms)':>10} {'x F.conv2d':>11}")
    for name, case, _ in rows:
        t = times[(name, case)]
        ratio = t / times[("F.conv2d", case)]
        print(f"{name:<15} {case:<12} {t * 1e3:>10.3f} {ratio:>11.1f}")
    ratio = times[("conv2d_unfold", "8x16x64x64")] / times[("F.conv2d", "8x16x64x64")]
    met = "met" if ratio <= TARGET_UNFOLD_RATIO else "NOT met"
    print(f"target conv2d_unfold within {TARGET_UNFOLD_RATIO:g}x of F.conv2d on 8x16x64x64: "
          f"{ratio:.1f}x -> {met}")
    print("conv2d_loops takes one Python step per output pixel (4,096 for 64x64, 256 for 16x16).")


if __name__ == "__main__":
    main()
