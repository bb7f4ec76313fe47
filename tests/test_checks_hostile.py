"""Checkers score truthfully, stop what they start and enforce the exercises' rules.

Every hostile pattern of issue 15: endless loops, a GIL-bound C call, NotImplementedError for
some cases only, output floods, exits, forbidden calls (directly, through a lambda, through
convlab), the GAN zero_grad trick — and the feedback details (``/``, NumPy, in-place changes).
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from learner_answers import channel_loops, conv2d_ok, size_ok, train_ok
from torch import nn

import convlab
from convlab import checks, checks_formulas, checks_tensors

N_SIZE = len(checks_formulas.OUTPUT_SIZE_CASES)
DILATED = [c for c in checks_formulas.OUTPUT_SIZE_CASES if c["d"] > 1]


def children() -> set[int]:
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        pids |= {int(p) for p in (task / "children").read_text().split()}
    return pids


# --------------------------------------------------------------------------- item 1: partial credit


def test_not_implemented_for_dilation_only_scores_the_other_cases():
    def no_dilation(i, k, s=1, p=0, d=1):
        if d > 1:
            raise NotImplementedError("dilation: later")
        return size_ok(i, k, s, p, d)

    result = checks.check_output_size(no_dilation)
    n_ok = N_SIZE - len(DILATED)
    assert not result.passed
    assert result.score == n_ok / N_SIZE
    assert result.summary() == (f"✗ check_output_size: {n_ok} of {N_SIZE} cases correct; with "
                                "d > 1 your code raised NotImplementedError.")


def test_a_stub_scores_zero_and_says_not_implemented():
    def stub(i, k, s=1, p=0, d=1):
        raise NotImplementedError("Exercise: implement my_conv_output_size")

    result = checks.check_output_size(stub)
    assert result.score == 0 and "not implemented yet" in result.summary()


def test_an_endless_loop_for_dilation_counts_the_unfinished_cases_as_failed():
    def loops_on_dilation(i, k, s=1, p=0, d=1):
        while d > 1:
            pass
        return size_ok(i, k, s, p, d)

    started = time.monotonic()
    result = checks.check_output_size(loops_on_dilation, time_limit=1.0)
    assert time.monotonic() - started < 60  # generous: only proves the loop was stopped
    first = next(n for n, c in enumerate(checks_formulas.OUTPUT_SIZE_CASES) if c["d"] > 1)
    assert result.score == first / N_SIZE < 1
    summary = result.summary()
    assert f"{first} of {N_SIZE} cases correct" in summary
    assert "did not finish within 1 s" in summary
    assert f"the {N_SIZE - first - 1} cases after it were not run" in summary


@pytest.mark.parametrize("body", ["sum(range(10**10))", "7 ** (7 ** 9)"])
def test_a_gil_bound_c_call_is_stopped_and_leaves_nothing_running(body):
    namespace: dict = {}
    exec(f"def fn(x, w, b=None, stride=1, padding=0):\n    return {body}", namespace)  # noqa: S102
    before = children()
    started = time.monotonic()
    result = checks.check_conv2d(namespace["fn"], time_limit=1.0)
    assert time.monotonic() - started < 60
    assert result.score == 0 and "did not finish within 1 s" in result.summary()
    assert children() <= before


def test_an_output_flood_is_capped_reported_and_does_not_leak(capfd):
    def chatty(i, k, s=1, p=0, d=1):
        while True:
            print("debug " * 100)

    result = checks.check_output_size(chatty)
    out = capfd.readouterr()
    assert "debug" not in out.out + out.err
    assert result.score == 0
    assert "printed more than 200,000 characters" in result.summary()
    text = repr(result)
    assert "the first lines:" in text and "| debug debug" in text
    assert len(text) < 3000


def test_printing_a_little_is_fine_and_quoted():
    def talks(i, k, s=1, p=0, d=1):
        print(f"i={i}")
        return size_ok(i, k, s, p, d)

    result = checks.check_output_size(talks)
    assert result.passed and result.score == 1
    assert "Your code printed" in repr(result) and "| i=5" in repr(result)


@pytest.mark.parametrize("how", ["sys.exit", "SystemExit", "os._exit"])
def test_exits_are_reported_and_the_other_cases_still_count(how):
    def exits_on_stride(i, k, s=1, p=0, d=1):
        if s > 1:
            if how == "sys.exit":
                sys.exit(0)
            if how == "SystemExit":
                raise SystemExit(2)
            os._exit(3)
        return size_ok(i, k, s, p, d)

    result = checks.check_output_size(exits_on_stride)
    strided = sum(c["s"] > 1 for c in checks_formulas.OUTPUT_SIZE_CASES)
    assert result.score == (N_SIZE - strided) / N_SIZE
    assert f"tried to exit in {strided} cases" in result.summary()
    text = repr(result)
    assert ("os._exit(3)" if how == "os._exit" else "sys.exit(") in text


# --------------------------------------------------------------------------- item 3: rules


def test_chapter_1_rule_f_conv2d_is_refused_however_it_is_called():
    conv = F.conv2d
    attempts = {
        "direct": lambda x, w, b=None, stride=1, padding=0: F.conv2d(x, w, b, stride, padding),
        "lambda": (lambda f: lambda x, w, b=None, stride=1, padding=0: f(x, w, b, stride,
                                                                          padding))(
            lambda *a: conv(*a)),
        "module": lambda x, w, b=None, stride=1, padding=0: _module_conv(x, w, b, stride,
                                                                         padding),
        "convlab loops": lambda x, w, b=None, stride=1, padding=0: convlab.conv2d_loops(
            x, w, b, stride, padding),
        "convlab unfold": lambda x, w, b=None, stride=1, padding=0: convlab.conv2d_unfold(
            x, w, b, stride, padding),
    }
    for route, fn in attempts.items():
        result = checks.check_conv2d(fn)
        assert result.score == 0, route
        text = repr(result)
        assert "which this exercise rules out" in text, route
        assert "write the sliding window yourself" in text, route
    assert "F.conv2d" in repr(checks.check_conv2d(attempts["lambda"]))
    assert "convlab's reference implementation" in repr(checks.check_conv2d(
        attempts["convlab loops"]))
    assert checks.check_conv2d(conv2d_ok).passed


def _module_conv(x, w, b, stride, padding):
    layer = nn.Conv2d(w.shape[1], w.shape[0], tuple(w.shape[2:]), stride, padding,
                      bias=b is not None)
    with torch.no_grad():
        layer.weight.copy_(w)
        if b is not None:
            layer.bias.copy_(b)
    return layer(x).detach()


def test_chapter_2_rule_allows_only_single_channel_conv2d():
    assert checks.check_conv2d(channel_loops, conv2d="single-channel").passed
    assert checks.check_conv2d(conv2d_ok, conv2d="single-channel").passed
    assert not checks.check_conv2d(channel_loops).passed  # chapter 1 forbids every F.conv2d

    def whole(x, w, b=None, stride=1, padding=0):
        return F.conv2d(x, w, b, stride, padding)

    def bias_inside(x, w, b=None, stride=1, padding=0):
        channels = []
        for c_o in range(w.shape[0]):
            total = 0
            for c_i in range(w.shape[1]):
                bias = b[c_o:c_o + 1] if b is not None and c_i == 0 else None
                total = total + F.conv2d(x[:, c_i:c_i + 1], w[c_o:c_o + 1, c_i:c_i + 1], bias,
                                         stride=stride, padding=padding)
            channels.append(total)
        return torch.cat(channels, dim=1)

    multi = checks.check_conv2d(whole, conv2d="single-channel")
    assert multi.score < 1 and "F.conv2d on several channels or with a bias" in repr(multi)
    assert "one input channel and one kernel slice" in repr(multi)
    with_bias = checks.check_conv2d(bias_inside, conv2d="single-channel")
    with_bias_cases = [c for c in checks_tensors.conv2d_cases() if c.b is not None]
    assert with_bias.score == 1 - len(with_bias_cases) / len(checks_tensors.conv2d_cases())
    with pytest.raises(ValueError, match="'forbidden' or 'single-channel'"):
        checks.check_conv2d(conv2d_ok, conv2d="sometimes")


def test_chapter_5_scatter_add_may_not_call_conv_transpose2d():
    result = checks.check_conv_transpose2d(
        lambda x, w, stride=1, padding=0: F.conv_transpose2d(x, w, stride=stride,
                                                             padding=padding))
    assert result.score == 0 and "build the scatter-add yourself" in repr(result)
    through_convlab = checks.check_conv_transpose2d(
        lambda x, w, stride=1, padding=0: convlab.conv_transpose2d_scatter(x, w, None, stride,
                                                                           padding))
    assert through_convlab.score == 0


# --------------------------------------------------------------------------- item 4: GAN


def gan_step(detach=True, zero_g=False, style="sum"):
    def step(generator, discriminator, d_optimizer, real, z):
        fake = generator(z)
        if detach:
            fake = fake.detach()
        bce = F.binary_cross_entropy_with_logits
        if style == "concat":
            logits = discriminator(torch.cat([real, fake]))
            labels = torch.cat([torch.ones(len(real), 1), torch.zeros(len(fake), 1)])
            loss = bce(logits, labels)
        else:
            d_real, d_fake = discriminator(real), discriminator(fake)
            loss = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
            if style == "mean":
                loss = loss / 2
        d_optimizer.zero_grad()
        loss.backward()
        if zero_g:
            generator.zero_grad()
        d_optimizer.step()
    return step


def test_gan_correct_styles_pass_with_specific_feedback():
    assert checks.check_gan_discriminator_step(gan_step()).passed
    for style in ("mean", "concat"):
        result = checks.check_gan_discriminator_step(gan_step(style=style))
        assert result.passed, style
        assert "average of the two losses" in repr(result)


def test_gan_zero_grad_trick_fails():
    trick = checks.check_gan_discriminator_step(gan_step(detach=False, zero_g=True))
    assert not trick.passed and trick.score == 0.5  # G's grad reached and reset; rest fine
    assert "wiped it (generator.zero_grad())" in repr(trick)
    no_detach = checks.check_gan_discriminator_step(gan_step(detach=False))
    assert not no_detach.passed and "detach the fake batch" in repr(no_detach)
    tidy = checks.check_gan_discriminator_step(gan_step(zero_g=True))
    assert tidy.score == 0.75 and "should not touch the generator" in repr(tidy)


# --------------------------------------------------------------------------- item 5: details


def test_true_division_gets_one_consistent_hint():
    result = checks.check_output_size(lambda i, k, s=1, p=0, d=1:
                                      (i + 2 * p - d * (k - 1) - 1) / s + 1)
    text = repr(result)
    assert result.score == 0
    assert "/ is true division" in text and "Use // (floor division)" in text
    assert "wrong only when the division is inexact" not in text


def test_numpy_and_list_outputs_point_to_torch_tensor():
    as_numpy = repr(checks.check_conv2d(lambda x, w, b=None, stride=1, padding=0:
                                        conv2d_ok(x, w, b, stride, padding).numpy()))
    assert "returned a NumPy array (its values are right), not a torch.Tensor" in as_numpy
    assert "torch.tensor(...)" in as_numpy
    as_list = repr(checks.check_conv2d(lambda x, w, b=None, stride=1, padding=0:
                                       conv2d_ok(x, w, b, stride, padding).tolist()))
    assert "returned a Python list (its values are right)" in as_list
    assert isinstance(np.zeros(1), np.ndarray)


def test_changing_the_inputs_in_place_is_told():
    def clobbers(x, w, b=None, stride=1, padding=0):
        out = conv2d_ok(x, w, b, stride, padding)
        x.zero_()
        return out

    result = checks.check_conv2d(clobbers)
    assert result.score == 0
    assert "changed its input `x` in place" in repr(result)


def test_training_loop_check_raises_no_warning_for_tensor_losses():
    def train(model, optimizer, batches, loss_fn):  # losses as tensors that require grad
        return [torch.tensor(v, requires_grad=True)
                for v in train_ok(model, optimizer, batches, loss_fn)]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = checks.check_training_loop(train)
    assert result.passed


def test_rf_design_words_broken_rules_and_small_fields_correctly():
    dilated = checks.check_rf_design([(3, 1, 7, 7)], target=15, channels=64)
    assert not dilated.passed
    text = repr(dilated)
    assert "not compared: your stack breaks the exercise's rules" in text
    small = repr(checks.check_rf_design([3, 3], target=15, channels=64))
    assert "must reach r ≥ 15 first" in small


# --------------------------------------------------------------------------- in a real kernel


def test_checks_work_in_an_ipykernel_and_nothing_leaks_into_later_cells():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        def run(code: str) -> str:
            texts = []

            def collect(message):
                content = message["content"]
                if message["msg_type"] == "stream":
                    texts.append(content["text"])
                elif message["msg_type"] in ("execute_result", "display_data"):
                    texts.append(content["data"].get("text/plain", ""))
                elif message["msg_type"] == "error":
                    texts.append("ERROR " + content["ename"])

            client.execute_interactive(code, output_hook=collect, timeout=300)
            return "".join(texts)

        run("import torch, torch.nn.functional as F\nfrom convlab import checks\n"
            "F.conv2d(torch.randn(4, 8, 64, 64), torch.randn(8, 8, 3, 3)).shape")
        shown = run(
            "def my_conv2d(x, w, b=None, stride=1, padding=0):\n"
            "    while True:\n"
            "        print('flood ' * 50)\n"
            "checks.check_conv2d(my_conv2d, time_limit=2)")
        assert "✗ check_conv2d:" in shown and "printed more than" in shown
        assert shown.count("flood") < 200
        later = run("print('later cell')")
        assert later == "later cell\n"
        ok = run(
            "def my_output_size(i, k, s=1, p=0, d=1):\n"
            "    return (i + 2 * p - d * (k - 1) - 1) // s + 1\n"
            "checks.check_output_size(my_output_size)")
        assert "✓ check_output_size: all" in ok
        loop = run("def spin(i, k, s=1, p=0, d=1):\n    return sum(range(10**10))\n"
                   "r = checks.check_output_size(spin, time_limit=1)\nprint(r.score)")
        assert loop.strip() == "0.0"
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
