"""What running learner code in a child process costs a checker (prints figures and ratios).

Every checker runs the learner's function through :mod:`convlab.sandbox`: one ``fork`` per
check, one report per case sent back through a pipe, the child killed and reaped at the end.
This benchmark measures that overhead against calling the same function in-process, for an
empty call, for the chapter 1 checkers and for chapter 3's training loop. The actions compared
are interleaved round by round (rotating order); minimum, median and spread (max/min) are
printed, comparisons are paired per round, and each verdict is stated on the median.

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

ROUNDS = 9
#: A checker is interactive feedback: a whole check should answer within a second.
TARGET_CHECK_SECONDS = 1.0


def interleaved(actions: dict[str, Callable[[], object]], rounds: int = ROUNDS
                ) -> dict[str, list[float]]:
    """Wall-clock seconds of every action, ``rounds`` times each (after one warm-up each).

    Every round runs each action once, starting at a rotating position, so a burst of load from
    other processes falls on the sides of a comparison alike."""
    for action in actions.values():
        action()
    names = list(actions)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            start = time.perf_counter()
            actions[name]()
            samples[name].append(time.perf_counter() - start)
    return samples


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


def row(label: str, times: list[float], baseline: list[float] | None = None) -> None:
    """min / median / spread of ``times`` (ms); against a paired baseline also the median extra
    time and, when the baseline is long enough to divide by, the paired ratios."""
    low, mid = min(times), statistics.median(times)
    extra = ""
    if baseline is not None:
        extra = f"  +{(mid - statistics.median(baseline)) * 1000:.1f} ms"
        if min(baseline) > 1e-3:
            ratios = [t / b for t, b in zip(times, baseline, strict=True)]
            extra += (f", x in-process: min {min(ratios):.1f} median "
                      f"{statistics.median(ratios):.1f} spread "
                      f"{max(ratios) / min(ratios):.2f}x")
    # a paired difference can be <= 0 on a noisy machine: then there is no ratio to show
    spread = f"{max(times) / low:6.2f}x" if low > 0 else "      -"
    print(f"  {label:<56} {low * 1000:8.1f} {mid * 1000:8.1f} {spread}{extra}")


def verdict(label: str, times: list[float]) -> None:
    mid = statistics.median(times)
    met = "met" if mid <= TARGET_CHECK_SECONDS else "NOT met"
    print(f"  target: {label} answers within {TARGET_CHECK_SECONDS:g} s -> median "
          f"{mid * 1000:.0f} ms, {met}")


def main() -> None:
    F.conv2d(torch.randn(4, 8, 64, 64), torch.randn(8, 8, 3, 3))  # the parent's threads exist
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {ROUNDS} interleaved "
          f"rounds; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    header = f"  {'':<56} {'min ms':>8} {'median':>8} {'spread':>7}"

    print("\nThe sandbox alone")
    print(header)
    rule = sandbox.Rule("F.conv2d", torch_ops=frozenset({"conv2d", "convolution"}))
    x, w = torch.randn(1, 3, 8, 8), torch.randn(2, 3, 3, 3)
    t = interleaved({
        "fork": _fork_and_reap,
        "empty": lambda: sandbox.run(lambda: None, [sandbox.Call()], time_limit=10),
        "many": lambda: sandbox.run(lambda: None, [sandbox.Call()] * 100, time_limit=10),
        "watched": lambda: sandbox.run(conv2d_ok, [sandbox.Call((x, w))] * 10, time_limit=10,
                                       rules=[rule]),
        "unwatched": lambda: sandbox.run(conv2d_ok, [sandbox.Call((x, w))] * 10,
                                         time_limit=10),
    })
    row("os.fork + os._exit + waitpid (this process, as it is)", t["fork"])
    row("sandbox.run: one empty call (fork, report, kill, reap)", t["empty"], t["fork"])
    row("sandbox.run: 100 empty calls in one child", t["many"], t["empty"])
    per_call = [(m - e) / 99 for m, e in zip(t["many"], t["empty"], strict=True)]
    row("  -> per extra call (paired)", per_call)
    row("10 loop convolutions in the child, forbidden calls watched", t["watched"])
    row("10 loop convolutions in the child, not watched", t["unwatched"])
    row("  -> watching costs (paired)",
        [a - b for a, b in zip(t["watched"], t["unwatched"], strict=True)])

    print("\nWhole checks against calling the learner's function in-process (paired per round)")
    print(header)
    cases = checks_tensors.conv2d_cases()
    t = interleaved({
        "size in-process": lambda: [size_ok(**c) for c in checks_formulas.OUTPUT_SIZE_CASES],
        "size check": lambda: checks.check_output_size(size_ok),
        "conv in-process": lambda: [conv2d_ok(c.x, c.w, c.b, c.stride, c.padding)
                                    for c in cases],
        "conv check": lambda: checks.check_conv2d(conv2d_ok),
        "training check": lambda: checks.check_training_loop(train),
    })
    row("14 output sizes, in-process", t["size in-process"])
    row("check_output_size (14 cases in a child, with feedback)", t["size check"],
        t["size in-process"])
    row(f"{len(cases)} loop convolutions, in-process", t["conv in-process"])
    row("check_conv2d (same cases in a child, rules watched)", t["conv check"],
        t["conv in-process"])
    row("check_training_loop (4 SGD steps, parameters sent back)", t["training check"])
    verdict("check_output_size", t["size check"])
    verdict("check_conv2d", t["conv check"])
    verdict("check_training_loop", t["training check"])
    print("\nThe fixed cost is one fork of the kernel's process and one pipe round trip per "
          "case; it buys a time limit that holds, output that cannot flood the notebook, and "
          "exits that end nothing.")


if __name__ == "__main__":
    main()
