"""Tests for convlab.checks: reference solutions pass, typical mistakes fail with a message that
names the symptom, and nothing the learner does makes a checker raise."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F
from learner_answers import conv2d_ok, size_ok, train_ok, transpose_ok
from torch import nn

from convlab import checks, checks_fields, checks_formulas


def message_text(result: checks.CheckResult) -> str:
    return repr(result)


# --------------------------------------------------------------------------- result object


def test_result_repr_is_the_feedback_and_checkers_print_nothing(capsys):
    result = checks.check_output_size(size_ok)
    assert capsys.readouterr().out == ""
    assert result.passed and bool(result) and result.score == 1.0
    assert repr(result) == str(result) == result.feedback()
    assert repr(result).startswith("✓ check_output_size: all 14 cases correct")
    assert not hasattr(result, "_repr_html_")  # one text/plain output: shown once in a notebook


def test_failing_result_shows_at_most_three_cases_and_a_count():
    result = checks.check_output_size(lambda i, k, s=1, p=0, d=1: 0)
    text = repr(result)
    assert not result.passed and result.score == 0.0
    assert text.startswith("✗ check_output_size: 0 of 14 cases correct.")
    assert text.count("  ✗ ") == 3 and "… and 11 more failing cases." in text


# --------------------------------------------------------------------------- output sizes


@pytest.mark.parametrize(("wrong", "symptom"), [
    (lambda i, k, s=1, p=0, d=1: (i + 2 * p - d * (k - 1) - 1) // s, "forget the +1"),
    (lambda i, k, s=1, p=0, d=1: (i - d * (k - 1) - 1) // s + 1, "padding adds 2p"),
    (lambda i, k, s=1, p=0, d=1: (i + p - d * (k - 1) - 1) // s + 1, "padding counted once"),
    (lambda i, k, s=1, p=0, d=1: i + 2 * p - d * (k - 1), "stride ignored"),
    (lambda i, k, s=1, p=0, d=1: (i + 2 * p - k) // s + 1, "dilation"),
    (lambda i, k, s=1, p=0, d=1: (i + 2 * p - d * (k - 1) - 1) / s + 1, "floor division"),
    (lambda i, k, s=1, p=0, d=1: -(-(i + 2 * p - d * (k - 1) - 1) // s) + 1, "inexact"),
    (lambda i, k, s=1, p=0, d=1: size_ok(i, k, s, p, d) + 2, "2 too large in every case"),
])
def test_check_output_size_names_the_mistake(wrong, symptom):
    result = checks.check_output_size(wrong)
    assert not result.passed
    assert symptom in message_text(result)


def test_check_output_size_partial_signature_passes_early_cases_and_explains():
    result = checks.check_output_size(lambda i, k, s=1, p=0: (i + 2 * p - k) // s + 1)
    assert not result.passed
    assert sum(c.passed for c in result.cases) == 11  # every case with d=1
    assert "too many positional arguments" in repr(result)


def test_check_transposed_output_size():
    def ok(i, k, s=1, p=0, output_padding=0, d=1):
        return (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1
    assert checks.check_transposed_output_size(ok).passed
    no_crop = checks.check_transposed_output_size(
        lambda i, k, s=1, p=0, output_padding=0, d=1: ok(i, k, s, 0, output_padding, d))
    assert "too large by 2p: the padding crop is missing" in repr(no_crop)
    no_op = checks.check_transposed_output_size(
        lambda i, k, s=1, p=0, output_padding=0, d=1: ok(i, k, s, p, 0, d))
    assert "output_padding ignored" in repr(no_op)
    i_times_s = checks.check_transposed_output_size(
        lambda i, k, s=1, p=0, output_padding=0, d=1: ok(i, k, s, p, output_padding, d) + s)
    assert "(i−1)·s" in repr(i_times_s)
    forward = checks.check_transposed_output_size(
        lambda i, k, s=1, p=0, output_padding=0, d=1: size_ok(i, k, s, p, d))
    assert "forward-convolution formula" in repr(forward)


def test_check_output_sizes_table():
    good = {(5, 3): 3, (28, 5, 1, 2): 28, (7, 3, 2): 3, (9, 3, 1, 0, 3): 3}
    assert checks.check_output_sizes_table(good).passed
    no_padding = {(5, 3): 3, (28, 5, 1, 2): 24, (8, 3, 1, 1): 6, (7, 3, 2): 3}
    result = checks.check_output_sizes_table(no_padding)
    assert not result.passed and "padding" in repr(result)
    unfilled = checks.check_output_sizes_table({(5, 3): 3, (7, 3, 2): ...})
    assert not unfilled.passed and "not filled in yet" in repr(unfilled)
    invalid = checks.check_output_sizes_table({(3, 5): 1})
    assert "invalid" in repr(invalid)
    assert "expects a non-empty dict" in repr(checks.check_output_sizes_table([1, 2]))
    assert "keys must be tuples" in repr(checks.check_output_sizes_table({"5,3": 3}))


@pytest.mark.parametrize(("p", "passed", "symptom"), [
    (3, True, ""), (6, False, "padding is per side"), (7, False, "more than the kernel needs"),
    (4, False, "one too large"), (2, False, "one too small"),
    (0, False, "shrinks the size by 6"), (3.0, False, "a float"), ("same", False, "shortcut"),
    (..., False, "not answered yet"), (-1, False, "negative"),
])
def test_check_same_padding(p, passed, symptom):
    result = checks.check_same_padding(p, k=7)
    assert result.passed is passed
    assert symptom in repr(result)


def test_check_same_padding_dilated_and_even_kernels():
    assert checks.check_same_padding(2, k=3, d=2).passed
    assert "padding is per side" in repr(checks.check_same_padding(2, k=3))
    assert "with p=2 the sizes change: 4→6" in repr(checks.check_same_padding(2, k=3))
    assert not checks.check_same_padding(1, k=4).passed


# --------------------------------------------------------------------------- conv2d


def test_check_conv2d_accepts_a_loop_implementation():
    result = checks.check_conv2d(conv2d_ok)
    assert result.passed, repr(result)


@pytest.mark.parametrize(("wrong", "symptom"), [
    (lambda x, w, b=None, stride=1, padding=0: conv2d_ok(x, w.flip(-1, -2), b, stride, padding),
     "kernel flipped: deep-learning convolution does not flip"),
    (lambda x, w, b=None, stride=1, padding=0: conv2d_ok(
        x, w, None if b is None else b * x.shape[1], stride, padding),
     "bias seems added once per input channel"),
    (lambda x, w, b=None, stride=1, padding=0: conv2d_ok(x, w, None, stride, padding),
     "bias is missing"),
    (lambda x, w, b=None, stride=1, padding=0: conv2d_ok(x, w, b, 1, padding), "stride ignored"),
    (lambda x, w, b=None, stride=1, padding=0: conv2d_ok(x, w, b, stride, 0), "padding ignored"),
    (lambda x, w, b=None, stride=1, padding=0: conv2d_ok(
        x[:, -1:], w[:, -1:], b, stride, padding), "only the last input channel"),
    (lambda x, w, b=None, stride=1, padding=0: conv2d_ok(x, w, b, stride, padding)[0, 0],
     "keep the (N, C_out, H, W) dimensions"),
    (lambda x, w, b=None, stride=1, padding=0: None, "forget the `return`"),
])
def test_check_conv2d_names_the_mistake(wrong, symptom):
    result = checks.check_conv2d(wrong)
    assert not result.passed
    assert symptom in repr(result)


def test_check_conv2d_without_stride_and_padding_parameters_passes_the_plain_cases():
    result = checks.check_conv2d(lambda x, w, b=None: conv2d_ok(x, w, b))
    assert not result.passed
    plain = [c for c in result.cases if "stride" not in c.description
             and "padding" not in c.description]
    assert plain and all(c.passed for c in plain)
    assert "unexpected keyword argument 'padding'" in repr(result)


# --------------------------------------------------------------------------- transposed conv


def test_check_conv_transpose2d_accepts_a_scatter_add_implementation():
    result = checks.check_conv_transpose2d(transpose_ok)
    assert result.passed, repr(result)


def transpose_overwrite(x, w, stride=1, padding=0):
    _, _, h, wd = x.shape
    k = w.shape[-1]
    out = torch.zeros(x.shape[0], w.shape[1], (h - 1) * stride + k, (wd - 1) * stride + k)
    for r in range(h):
        for c in range(wd):
            out[:, :, r * stride:r * stride + k, c * stride:c * stride + k] = torch.einsum(
                "ni,iokl->nokl", x[:, :, r, c], w)
    return out[:, :, padding:out.shape[2] - padding, padding:out.shape[3] - padding]


@pytest.mark.parametrize(("wrong", "symptom"), [
    (lambda x, w, stride=1, padding=0: transpose_ok(x, w, stride, 0),
     "too large by 2p: the padding crop is missing"),
    (lambda x, w, stride=1, padding=0: transpose_ok(x, w, 1, padding), "stride ignored"),
    (lambda x, w, stride=1, padding=0: transpose_ok(x, w.flip(-1, -2), stride, padding),
     "flipped kernel"),
    (transpose_overwrite, "add them up (+=)"),
    (lambda x, w, stride=1, padding=0: transpose_ok(x, w, stride, 0)[
        :, :, padding:-padding, padding:-padding], "out[p:-p] is out[0:0]"),
])
def test_check_conv_transpose2d_names_the_mistake(wrong, symptom):
    result = checks.check_conv_transpose2d(wrong)
    assert not result.passed
    assert symptom in repr(result)


# --------------------------------------------------------------------------- parameters and shapes


def test_check_param_count():
    assert checks.check_param_count(
        lambda c_in, c_out, k, bias=True: c_in * c_out * k * k + (c_out if bias else 0)).passed
    per_input = checks.check_param_count(
        lambda c_in, c_out, k, bias=True: c_in * c_out * (k * k + bias))
    assert "bias seems counted once per input channel" in repr(per_input)
    no_cin = checks.check_param_count(lambda c_in, c_out, k, bias=True: c_out * (k * k + bias))
    assert "multiply by c_in" in repr(no_cin)
    k_not_squared = checks.check_param_count(
        lambda c_in, c_out, k, bias=True: c_in * c_out * k + bias * c_out)
    assert "k² weights" in repr(k_not_squared)


def small_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Conv2d(8, 16, 3, groups=2),
                         nn.Flatten(), nn.Linear(64, 10))


def test_check_network_params():
    model = small_net()
    # by hand: 3*8*9+8 = 224; 16*(8/2)*9+16 = 592; 64*10+10 = 650
    assert checks.check_network_params(224 + 592 + 650, model).passed
    no_bias = checks.check_network_params(216 + 576 + 640, model)
    assert "without biases" in repr(no_bias)
    first_only = checks.check_network_params(224, model)
    assert "only the first 1 layer" in repr(first_only)
    assert "a float" in repr(checks.check_network_params(1466.0, model))
    assert "not answered yet" in repr(checks.check_network_params(..., model))


def test_check_groups_answer():
    # depthwise 3×3 over 32 channels: 32 filters of 1×3×3, plus 32 biases
    assert checks.check_groups_answer(32 * 9 + 32, 32, 32, 3, groups=32).passed
    plain = checks.check_groups_answer(32 * 32 * 9 + 32, 32, 32, 3, groups=32)
    assert "without groups" in repr(plain)
    assert "biases left out" in repr(checks.check_groups_answer(32 * 9, 32, 32, 3, groups=32))
    assert checks.check_groups_answer(64 * 16 * 9, 32, 64, 3, groups=2, bias=False).passed


def test_check_shapes():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    x = torch.zeros(1, 3, 14, 14)
    expected = {"weight": tuple(conv.weight.shape), "output": tuple(conv(x).shape)}
    assert checks.check_shapes({"weight": (8, 3, 3, 3), "output": "torch.Size([1, 8, 14, 14])"},
                               expected).passed
    swapped = checks.check_shapes({"weight": (3, 8, 3, 3), "output": (1, 8, 14, 14)}, expected)
    assert "first two dimensions are swapped" in repr(swapped)
    no_batch = checks.check_shapes({"weight": (8, 3, 3, 3), "output": (8, 14, 14)}, expected)
    assert "batch dimension N is missing" in repr(no_batch)
    spatial = checks.check_shapes({"weight": (8, 3, 3, 3), "output": (1, 8, 12, 12)}, expected)
    assert "spatial size" in repr(spatial)
    missing = checks.check_shapes({"weight": (8, 3, 3, 3)}, expected)
    assert not missing.passed and "not answered yet" in repr(missing)
    assert "is not a shape" in repr(checks.check_shapes({"weight": "eight", "output": 3},
                                                        expected))


# --------------------------------------------------------------------------- chapter 3


def test_check_prediction():
    actual = {"a", "c"}
    assert checks.check_prediction({"c", "a"}, actual).passed
    assert checks.check_prediction("a, c", actual).passed
    wrong = checks.check_prediction({"a", "b"}, actual, explain="b was detached")
    text = repr(wrong)
    assert "You included b" in text and "You left out c" in text and "b was detached" in text
    assert "not answered yet" in repr(checks.check_prediction(..., actual))
    assert checks.check_prediction(None, None).passed
    assert not checks.check_prediction(0, None).passed
    assert checks.check_prediction(0.3, 0.1 + 0.2).passed
    assert checks.check_prediction((1, 8, 14, 14), torch.Size([1, 8, 14, 14])).passed
    assert not checks.check_prediction(True, 1).passed
    assert checks.check_prediction([2, 0, 6], [2.0, 0.0, 6.0]).passed
    assert checks.check_prediction(torch.tensor([2.0, 0.0, 6.0]), [2.0, 0.0, 6.0]).passed
    assert checks.check_prediction([2.0, 0.0, 6.0], torch.tensor([2.0, 0.0, 6.0])).passed
    assert not checks.check_prediction(torch.tensor([2.0, 0.0]), [2.0, 0.0, 6.0]).passed
    assert not checks.check_prediction("[2, 0, 6]", [2.0, 0.0, 6.0]).passed


def train_no_zero_grad(model, optimizer, batches, loss_fn):
    losses = []
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def train_zero_grad_too_late(model, optimizer, batches, loss_fn):
    for x, y in batches:
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.zero_grad()
        optimizer.step()


def test_check_training_loop():
    assert checks.check_training_loop(train_ok).passed
    bug = checks.check_training_loop(train_no_zero_grad)
    assert not bug.passed and "gradients accumulate" in repr(bug)
    late = checks.check_training_loop(train_zero_grad_too_late)
    assert not late.passed and "never changed" in repr(late) and "returned None" in repr(late)


def d_step(generator, discriminator, d_optimizer, real, z, mistake=""):
    fake = generator(z)
    if mistake != "no detach":
        fake = fake.detach()
    d_real, d_fake = discriminator(real), discriminator(fake)
    if mistake == "detach D output":
        d_fake = d_fake.detach()
    real_label, fake_label = (0.0, 1.0) if mistake == "swap" else (1.0, 0.0)
    loss = (F.binary_cross_entropy_with_logits(d_real, torch.full_like(d_real, real_label))
            + F.binary_cross_entropy_with_logits(d_fake, torch.full_like(d_fake, fake_label)))
    if mistake != "no zero_grad":
        d_optimizer.zero_grad()
    loss.backward()
    if mistake != "no step":
        d_optimizer.step()
    return loss


@pytest.mark.parametrize(("mistake", "symptom"), [
    ("no detach", "detach the fake batch"),
    ("detach D output", "not the discriminator's output"),
    ("swap", "labels are swapped"),
    ("no zero_grad", "call d_optimizer.zero_grad()"),
    ("no step", "did not change"),
])
def test_check_gan_discriminator_step(mistake, symptom):
    assert checks.check_gan_discriminator_step(d_step).passed
    result = checks.check_gan_discriminator_step(
        lambda g, d, o, r, z: d_step(g, d, o, r, z, mistake))
    assert not result.passed
    assert symptom in repr(result)


def test_check_gan_accepts_no_grad_and_sigmoid_bce():
    def step(generator, discriminator, d_optimizer, real, z):
        with torch.no_grad():
            fake = generator(z)
        p_real, p_fake = torch.sigmoid(discriminator(real)), torch.sigmoid(discriminator(fake))
        loss = (F.binary_cross_entropy(p_real, torch.ones_like(p_real))
                + F.binary_cross_entropy(p_fake, torch.zeros_like(p_fake)))
        d_optimizer.zero_grad()
        loss.backward()
        d_optimizer.step()
    assert checks.check_gan_discriminator_step(step).passed


# --------------------------------------------------------------------------- chapter 4


def empirical_rf(layers):
    """(r, j) measured with autograd on a chain of 1-D convolutions of ones."""
    length = 400
    x = torch.zeros(1, 1, length, requires_grad=True)
    y = x
    for k, s, p, d in layers:
        y = F.conv1d(y, torch.ones(1, 1, k), stride=s, padding=p, dilation=d)
    centre = y.shape[-1] // 2
    fields = []
    for t in (centre, centre + 1):
        (grad,) = torch.autograd.grad(y[0, 0, t], x, retain_graph=True)
        nonzero = torch.nonzero(grad[0, 0]).flatten()
        fields.append((int(nonzero[0]), int(nonzero[-1])))
    r = fields[0][1] - fields[0][0] + 1
    return r, fields[1][0] - fields[0][0]


def test_receptive_field_ground_truth_matches_autograd():
    for layers in checks_fields.RF_CASES:
        if layers:
            assert checks_formulas.field_formula(layers) == empirical_rf(layers), layers
    assert checks_formulas.field_formula([]) == (1, 1)


def test_check_receptive_field():
    def ok(layers):
        r, j = 1, 1
        for k, s, _p, d in layers:
            r += d * (k - 1) * j
            j *= s
        return r, j
    assert checks.check_receptive_field(ok).passed

    def no_jump(layers):
        r, j = 1, 1
        for k, s, _p, d in layers:
            r += d * (k - 1)
            j *= s
        return r, j
    assert "ignores the jump" in repr(checks.check_receptive_field(no_jump))

    def jump_after(layers):
        r, j = 1, 1
        for k, s, _p, d in layers:
            j *= s
            r += d * (k - 1) * j
        return r, j
    assert "jump after this layer's stride" in repr(checks.check_receptive_field(jump_after))

    def table(layers):
        rows, r, j = [], 1, 1
        for k, s, _p, d in layers:
            r, j = r + d * (k - 1) * j, j * s
            rows.append((r, j))
        return rows if rows else (1, 1)
    assert checks.check_receptive_field(table).passed


def test_check_rf_design():
    c = 64
    assert checks.check_rf_design([3] * 7, target=15, channels=c).passed
    costly = checks.check_rf_design([7, 7, 3], target=15, channels=c)
    assert not costly.passed and "7 × 3×3" in repr(costly)
    assert f"{(7 * 7 * 2 + 9) * c * c + 3 * c:,}" in repr(costly)
    short = checks.check_rf_design([3, 3], target=15, channels=c)
    assert "r = 5, 10 short" in repr(short)
    seq = nn.Sequential(*[nn.Conv2d(8, 8, 3, padding=1) for _ in range(7)])
    assert checks.check_rf_design(seq, target=15, channels=8).passed
    assert "not answered yet" in repr(checks.check_rf_design(...))
    assert "Use only 3×3" in repr(checks.check_rf_design([15], target=15))
    assert "expected a list" in repr(checks.check_rf_design("3,3"))


def test_optimal_design_even_target_needs_eight_3x3_layers():
    cost, combo = checks_fields._optimal_design(16, 4, True)
    assert combo == (3,) * 8 and cost == 8 * (4 * 4 * 9 + 4)


# --------------------------------------------------------------------------- chapter 5


def test_check_output_padding():
    assert checks.check_output_padding(lambda i, k, s, p: (i + 2 * p - k) % s).passed
    zero = checks.check_output_padding(lambda i, k, s, p: 0)
    assert not zero.passed and "wrong only when the conv's division was inexact" in repr(zero)
    assert checks.check_output_padding(1, i=28, k=3, s=2, p=1).passed
    assert not checks.check_output_padding(0, i=28, k=3, s=2, p=1).passed
    too_big = checks.check_output_padding(2, i=28, k=3, s=2, p=1)
    assert "output_padding < stride (2) or < dilation" in repr(too_big)
    assert "pass i=" in repr(checks.check_output_padding(1))


# --------------------------------------------------------------------------- robustness

FUNCTION_CHECKERS = [
    checks.check_output_size, checks.check_transposed_output_size, checks.check_param_count,
    checks.check_conv2d, checks.check_conv_transpose2d, checks.check_receptive_field,
    checks.check_training_loop, checks.check_gan_discriminator_step, checks.check_output_padding,
]


def stub(*args, **kwargs):
    raise NotImplementedError("Exercise: implement me")


def broken(*args, **kwargs):
    return {}["missing"]


def wrong_type(*args, **kwargs):
    return "seven"


def slow(*args, **kwargs):
    time.sleep(1.0)
    return 1


def run(checker, fn, **kwargs):
    result = checker(fn, **kwargs)
    assert isinstance(result, checks.CheckResult)
    assert not result.passed
    return repr(result)


@pytest.mark.parametrize("checker", FUNCTION_CHECKERS)
def test_checkers_report_stubs_exceptions_wrong_types_and_slowness(checker):
    assert "not implemented yet" in run(checker, stub)
    assert "KeyError" in run(checker, broken)
    assert "(at line" in run(checker, broken)
    if checker is not checks.check_gan_discriminator_step:  # its return value is not used
        assert "'seven'" in run(checker, wrong_type)
    started = time.monotonic()
    assert "did not finish within 0.2 s" in run(checker, slow, time_limit=0.2)
    assert time.monotonic() - started < 30  # generous: only proves the wait ended
    if checker is checks.check_output_padding:  # also accepts a number (with i=...)
        assert "pass i=" in run(checker, 42)
    else:
        assert "expects a function" in run(checker, 42)
    assert "the checker calls your function as fn(" in run(checker, lambda: 1)


def test_stub_result_is_short():
    text = repr(checks.check_conv2d(stub))
    assert text.splitlines()[0].startswith("✗ check_conv2d: not implemented yet")
    assert text.count("not implemented yet") == 1


def test_wrong_shape_and_wrong_values_are_described():
    shape = repr(checks.check_conv2d(lambda x, w, b=None, stride=1, padding=0: torch.zeros(2, 2)))
    assert "has shape (2, 2)" in shape
    values = repr(checks.check_conv2d(
        lambda x, w, b=None, stride=1, padding=0: conv2d_ok(x, w, b, stride, padding) + 0.5))
    assert "right shape" in values and "at index" in values
    nan = repr(checks.check_conv2d(
        lambda x, w, b=None, stride=1, padding=0: conv2d_ok(x, w, b, stride, padding) * torch.nan))
    assert "NaN" in nan
    as_list = repr(checks.check_conv2d(lambda x, w, b=None, stride=1, padding=0: [[1.0]]))
    assert "returned a Python list, not a torch.Tensor" in as_list
    assert "torch.tensor(...)" in as_list


def test_structural_hints_for_square_only_and_single_item_code():
    def square_only(x, w, b=None, stride=1, padding=0):
        h, k = x.shape[-2], w.shape[-2]  # treats the input as h×h and the kernel as k×k
        square = F.pad(x, (0, max(0, h - x.shape[-1])))[..., :h, :h]
        return conv2d_ok(square, w[..., :k, :k], b, stride, padding)
    assert "non-square" in repr(checks.check_conv2d(square_only))

    def first_item_only(x, w, b=None, stride=1, padding=0):
        out = conv2d_ok(x, w, b, stride, padding)
        return torch.cat([out[:1]] * x.shape[0])
    assert "batch of several inputs" in repr(checks.check_conv2d(first_item_only))


def test_odd_learner_values_are_reported_not_raised():
    import numpy as np

    obj = np.array([object()], dtype=object)
    assert "NumPy array that torch cannot read" in repr(checks.check_conv2d(
        lambda x, w, b=None, stride=1, padding=0: obj))
    complex_out = repr(checks.check_conv2d(
        lambda x, w, b=None, stride=1, padding=0: torch.zeros(2, 2, dtype=torch.complex64)))
    assert "shape (2, 2)" in complex_out
    assert "far too large" in repr(checks.check_same_padding(10**9, k=7))
    assert "not checked" in repr(checks.check_output_sizes_table({(10**9, 3): 5}))

    def retyping_loop(model, optimizer, batches, loss_fn):
        model.double()
        return [0.0] * len(batches)
    assert not checks.check_training_loop(retyping_loop).passed

    def replacing_step(generator, discriminator, d_optimizer, real, z):
        discriminator.extra = nn.Linear(1, 1)  # adds parameters
    assert not checks.check_gan_discriminator_step(replacing_step).passed


GARBAGE = [None, "x", 1.5, -1, 10**30, float("nan"), [], {}, (1,), (1, 2, 3), object(),
           torch.zeros(3), torch.zeros(1, 1, 0, 0), torch.full((1, 1, 3, 3), float("inf")),
           torch.zeros(2, dtype=torch.bool), torch.tensor(7)]


@pytest.mark.parametrize("checker", FUNCTION_CHECKERS)
def test_checkers_never_raise_on_garbage_return_values(checker):
    for value in GARBAGE:
        result = checker(lambda *args, _v=value, **kwargs: _v)
        assert isinstance(result, checks.CheckResult)
        assert isinstance(repr(result), str)


@pytest.mark.parametrize("value", GARBAGE + [..., "3", 3.0, set(), {"a"}])
def test_value_checkers_never_raise_on_garbage(value):
    model = small_net()
    for result in (checks.check_same_padding(value), checks.check_network_params(value, model),
                   checks.check_groups_answer(value, 8, 8, 3, groups=8),
                   checks.check_output_padding(value, i=7),
                   checks.check_rf_design(value),
                   checks.check_prediction(value, {"a"}),
                   checks.check_prediction(value, [1.0, 2.0]),
                   checks.check_shapes({"w": value}, {"w": (1, 2)}),
                   checks.check_output_sizes_table({(5, 3): value})):
        assert isinstance(result, checks.CheckResult) and isinstance(repr(result), str)


def test_notebook_display_wraps_feedback_to_the_page_width_without_losing_words():
    from IPython.lib.pretty import pretty

    def loop_without_zero_grad(model, data, targets, steps=4, lr=0.1):
        raise RuntimeError("a deliberately long message " * 8)

    result = checks.check_training_loop(loop_without_zero_grad)
    shown = pretty(result)
    assert max(len(line) for line in shown.splitlines()) <= 86
    assert any(len(line) > 86 for line in result.feedback().splitlines())
    assert shown.split() == result.feedback().split()


def test_training_loop_feedback_shows_both_loss_lists_when_the_lengths_match():
    def no_zero_grad(model, optimizer, batches, loss_fn):
        losses = []
        for x, y in batches:
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses

    text = repr(checks.check_training_loop(no_zero_grad))
    assert "your per-batch losses [" in text and "differ from a correct loop's [" in text
    assert "from batch 3 on" in text  # batches 1 and 2 agree: the stale gradient starts at 2
    assert "expected one loss per batch" not in text
