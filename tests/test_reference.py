"""Tests for convlab.reference: every implementation equals its torch.nn.functional counterpart.

Values are compared in float64 with torch.testing.assert_close; configurations are drawn at
random and include ones torch refuses, which convlab must refuse too (with ValueError).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import (
    conv2d_loops,
    conv2d_unfold,
    conv_matrix,
    conv_transpose2d_scatter,
    conv_transpose2d_zero_insert,
)

FAST = settings(max_examples=60, deadline=None)
DT = torch.float64


def pair(lo: int, hi: int):
    """An int or an (h, w) pair, as torch accepts."""
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


def outcome(fn, *args, **kwargs):
    """("ok", result) or ("refused", exception type)."""
    try:
        return "ok", fn(*args, **kwargs)
    except (RuntimeError, ValueError) as err:
        return "refused", type(err)


@st.composite
def conv_configs(draw):
    """Random conv2d arguments, some of which torch refuses (kernel larger than padded input)."""
    g = draw(st.integers(1, 3))
    c_in_g, c_out_g = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    x = torch.randn(n, c_in_g * g, h, w, dtype=DT, generator=gen)
    wt = torch.randn(c_out_g * g, c_in_g, kh, kw, dtype=DT, generator=gen)
    b = torch.randn(c_out_g * g, dtype=DT, generator=gen) if draw(st.booleans()) else None
    kwargs = dict(stride=draw(pair(1, 3)), padding=draw(pair(0, 3)),
                  dilation=draw(pair(1, 3)), groups=g)
    return x, wt, b, kwargs


@FAST
@given(conv_configs())
def test_conv2d_loops_and_unfold_equal_torch(config):
    x, w, b, kwargs = config
    kind, expected = outcome(F.conv2d, x, w, b, **kwargs)
    for fn in (conv2d_loops, conv2d_unfold):
        if kind == "ok":
            torch.testing.assert_close(fn(x, w, b, **kwargs), expected)
        else:
            with pytest.raises(ValueError, match="does not fit the padded input"):
                fn(x, w, b, **kwargs)


@FAST
@given(c_x=st.integers(1, 6), c_out=st.integers(1, 6), c_w=st.integers(1, 6),
       groups=st.integers(1, 4))
def test_channel_and_group_mismatches_refused_exactly_when_torch_refuses(c_x, c_out, c_w, groups):
    x = torch.ones(1, c_x, 4, 4, dtype=DT)
    w = torch.ones(c_out, c_w, 3, 3, dtype=DT)
    kind, expected = outcome(F.conv2d, x, w, groups=groups)
    for fn in (conv2d_loops, conv2d_unfold):
        if kind == "ok":
            torch.testing.assert_close(fn(x, w, groups=groups), expected)
        else:
            with pytest.raises(ValueError, match=r"groups \d+ must divide|x has \d+ channels"):
                fn(x, w, groups=groups)


def test_zero_batch_is_accepted_like_torch():
    x = torch.zeros(0, 2, 5, 5, dtype=DT)
    w, wt = torch.ones(3, 2, 3, 3, dtype=DT), torch.ones(2, 3, 3, 3, dtype=DT)
    for fn in (conv2d_loops, conv2d_unfold):
        assert fn(x, w).shape == F.conv2d(x, w).shape
    for fn in (conv_transpose2d_scatter, conv_transpose2d_zero_insert):
        assert fn(x, wt, stride=2).shape == F.conv_transpose2d(x, wt, stride=2).shape


def test_gradients_flow_like_torch():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(2, 4, 6, 5, dtype=DT, generator=gen, requires_grad=True)
    w = torch.randn(6, 2, 3, 3, dtype=DT, generator=gen, requires_grad=True)
    F.conv2d(x, w, stride=2, padding=1, groups=2).square().sum().backward()
    expected = (x.grad.clone(), w.grad.clone())
    for fn in (conv2d_loops, conv2d_unfold):
        x.grad, w.grad = None, None
        fn(x, w, stride=2, padding=1, groups=2).square().sum().backward()
        torch.testing.assert_close((x.grad, w.grad), expected)


@st.composite
def transpose_configs(draw):
    """Random conv_transpose2d arguments, including invalid output_padding, cropping and groups
    (weight [C_in, C_out/groups, kH, kW])."""
    g = draw(st.integers(1, 3))
    c_in_g, c_out_g = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    n = draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    x = torch.randn(n, c_in_g * g, h, w, dtype=DT, generator=gen)
    wt = torch.randn(c_in_g * g, c_out_g, kh, kw, dtype=DT, generator=gen)
    b = torch.randn(c_out_g * g, dtype=DT, generator=gen) if draw(st.booleans()) else None
    kwargs = dict(stride=draw(pair(1, 3)), padding=draw(pair(0, 4)),
                  output_padding=draw(pair(0, 2)), dilation=draw(pair(1, 3)))
    return x, wt, b, kwargs, g


@FAST
@given(transpose_configs())
def test_conv_transpose2d_scatter_and_zero_insert_equal_torch(config):
    x, w, b, kwargs, groups = config
    kind, expected = outcome(F.conv_transpose2d, x, w, b, groups=groups, **kwargs)
    if kind == "ok" and expected.numel() == 0:
        # torch's oneDNN path returns an empty tensor for an output size of exactly 0 (its
        # reference path raises "Output size is too small"); convlab refuses every size < 1
        kind = "refused"
    calls = [lambda: conv_transpose2d_zero_insert(x, w, b, groups=groups, **kwargs)]
    if groups == 1:  # the scatter-add version has no groups
        calls.append(lambda: conv_transpose2d_scatter(x, w, b, **kwargs))
    for call in calls:
        if kind == "ok":
            torch.testing.assert_close(call(), expected)
        else:
            with pytest.raises(ValueError, match="must be smaller than stride|would crop"):
                call()


@FAST
@given(c_x=st.integers(1, 6), c_w=st.integers(1, 6), groups=st.integers(1, 4))
def test_transposed_group_mismatches_refused_exactly_when_torch_refuses(c_x, c_w, groups):
    x = torch.ones(1, c_x, 3, 3, dtype=DT)
    w = torch.ones(c_w, 2, 3, 3, dtype=DT)
    kind, expected = outcome(F.conv_transpose2d, x, w, groups=groups)
    if kind == "ok":
        torch.testing.assert_close(conv_transpose2d_zero_insert(x, w, groups=groups), expected)
    else:
        with pytest.raises(ValueError, match=r"groups \d+ must divide|x has \d+ channels"):
            conv_transpose2d_zero_insert(x, w, groups=groups)


def test_transposed_example_from_the_issue():
    x, w = torch.ones(1, 1, 2, 2, dtype=DT), torch.ones(1, 1, 2, 2, dtype=DT)
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(x, w, padding=2)
    for fn in (conv_transpose2d_scatter, conv_transpose2d_zero_insert):
        with pytest.raises(ValueError, match="padding 2 would crop the 3x3 full output to -1x-1"):
            fn(x, w, padding=2)


@st.composite
def matrix_configs(draw):
    c_in, c_out = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    h, w = draw(st.integers(2, 7)), draw(st.integers(2, 7))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    s, p, d = draw(pair(1, 2)), draw(pair(0, 2)), draw(pair(1, 2))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31)))
    x = torch.randn(1, c_in, h, w, dtype=DT, generator=gen)
    wt = torch.randn(c_out, c_in, kh, kw, dtype=DT, generator=gen)
    return x, wt, s, p, d


@FAST
@given(matrix_configs())
def test_conv_matrix_is_the_convolution_and_its_transpose_the_transposed_conv(config):
    x, w, s, p, d = config
    kind, y = outcome(F.conv2d, x, w, stride=s, padding=p, dilation=d)
    if kind == "refused":
        with pytest.raises(ValueError, match="does not fit"):
            conv_matrix(tuple(x.shape[2:]), w, s, p, d)
        return
    c = conv_matrix(tuple(x.shape[2:]), w, s, p, d)
    assert c.shape == (y.numel(), x.numel())
    torch.testing.assert_close(c @ x.flatten(), y.flatten())
    gen = torch.Generator().manual_seed(0)
    g = torch.randn(y.shape, dtype=DT, generator=gen)
    # conv_transpose2d with the same weight; output_padding restores the exact input size
    oph = x.shape[2] - ((y.shape[2] - 1) * _h(s) - 2 * _h(p) + _h(d) * (w.shape[2] - 1) + 1)
    opw = x.shape[3] - ((y.shape[3] - 1) * _w(s) - 2 * _w(p) + _w(d) * (w.shape[3] - 1) + 1)
    kind_t, back = outcome(F.conv_transpose2d, g, w, stride=s, padding=p,
                           output_padding=(oph, opw), dilation=d)
    if kind_t == "ok":
        torch.testing.assert_close(c.T @ g.flatten(), back.flatten())
    # and always: C.T is the adjoint of C, <C x, g> == <x, C.T g>
    torch.testing.assert_close(torch.dot(c @ x.flatten(), g.flatten()),
                               torch.dot(x.flatten(), c.T @ g.flatten()))


def _h(v):
    return v if isinstance(v, int) else v[0]


def _w(v):
    return v if isinstance(v, int) else v[1]


def test_conv_matrix_transpose_equals_conv_transpose2d_simple():
    w = torch.arange(1.0, 10.0, dtype=DT).view(1, 1, 3, 3)
    c = conv_matrix((4, 4), w)
    assert c.shape == (4, 16)
    y = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=DT).view(1, 1, 2, 2)
    torch.testing.assert_close(c.T @ y.flatten(), F.conv_transpose2d(y, w).flatten())


def test_conv_matrix_transpose_is_not_the_inverse():
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(1, 1, 3, 3, dtype=DT, generator=gen)
    c = conv_matrix((5, 5), w, padding=1)  # square 25x25
    assert c.shape == (25, 25)
    assert not torch.allclose(c.T @ c, torch.eye(25, dtype=DT), atol=1e-3)
    x = torch.randn(25, dtype=DT, generator=gen)
    # going forward then transposed does not give x back
    assert not torch.allclose(c.T @ (c @ x), x, atol=1e-3)


def test_conv_matrix_multichannel_shape():
    w = torch.ones(4, 3, 3, 3, dtype=DT)
    assert conv_matrix((6, 5), w, stride=2, padding=1).shape == (4 * 3 * 3, 3 * 6 * 5)


def test_float32_works_too():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(2, 3, 10, 10, generator=gen)
    w = torch.randn(5, 3, 3, 3, generator=gen)
    for fn in (conv2d_loops, conv2d_unfold):
        torch.testing.assert_close(fn(x, w, stride=2, padding=1),
                                   F.conv2d(x, w, stride=2, padding=1))


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------

X = torch.ones(1, 4, 5, 5, dtype=DT)
W = torch.ones(6, 2, 3, 3, dtype=DT)  # groups=2 fits X
WT = torch.ones(4, 3, 3, 3, dtype=DT)  # transposed: [C_in, C_out, kH, kW]

BAD = [
    (conv2d_loops, (X[0], W), {}, TypeError, ["x must be a 4-D tensor", "got 3-D", "unsqueeze"]),
    (conv2d_unfold, (X, W[0]), {}, TypeError, ["w must be a 4-D tensor", "got 3-D"]),
    (conv2d_unfold, ([[1.0]], W), {}, TypeError, ["x must be a torch.Tensor", "list"]),
    (conv2d_unfold, (X.long(), W), {}, TypeError, ["floating-point", "torch.int64"]),
    (conv2d_unfold, (X.float(), W), {}, TypeError, ["dtype torch.float32", "torch.float64"]),
    (conv2d_loops, (X, W), {}, ValueError, ["x has 4 channels", "w.shape[1]·groups = 2·1 = 2"]),
    (conv2d_unfold, (X, W[:, :1]), {"groups": 4}, ValueError,
     ["groups 4 must divide out_channels 6", "6 % 4 = 2"]),
    (conv2d_unfold, (X, W), {"groups": 3}, ValueError,
     ["x has 4 channels", "w.shape[1]·groups = 2·3 = 6"]),
    (conv2d_unfold, (X, W), {"groups": 2, "stride": 0}, ValueError,
     ["stride must be a positive integer, got 0"]),
    (conv2d_unfold, (X, W), {"groups": 2, "padding": -1}, ValueError,
     ["padding must be a non-negative integer, got -1"]),
    (conv2d_unfold, (X, W), {"groups": 2, "dilation": (1, 1, 1)}, ValueError,
     ["dilation", "3 values"]),
    (conv2d_unfold, (X, W), {"groups": 2, "stride": 1.0}, TypeError, ["stride", "float 1.0"]),
    (conv2d_unfold, (X, W), {"groups": True}, TypeError, ["groups", "bool True"]),
    (conv2d_unfold, (X, W), {"groups": 2, "padding": "same"}, TypeError, ["padding", "'same'"]),
    (conv2d_unfold, (X, W), {"groups": 2, "dilation": 3}, ValueError,
     ["kernel 3 (dilated to 7) does not fit the padded input 5+2·0=5"]),
    (conv2d_loops, (X, W, torch.ones(5, dtype=DT)), {"groups": 2}, ValueError,
     ["one value per output channel: 6", "(5,)"]),
    (conv_transpose2d_scatter, (X, WT), {"stride": 2, "output_padding": 2}, ValueError,
     ["output_padding 2 must be smaller than stride 2 or dilation 1"]),
    (conv_transpose2d_zero_insert, (X, W), {}, ValueError,
     ["x has 4 channels but w expects w.shape[0] = 6"]),
    (conv_transpose2d_zero_insert, (X, WT), {"padding": 4}, ValueError,
     ["padding 4 would crop the 7x7 full output to -1x-1"]),
    (conv_transpose2d_zero_insert, (X, WT[:, :1]), {"groups": 3}, ValueError,
     ["groups 3 must divide in_channels 4 (w.shape[0])", "4 % 3 = 1"]),
    (conv_transpose2d_zero_insert, (X, WT), {"groups": 0}, ValueError,
     ["groups must be a positive integer, got 0"]),
    (conv_transpose2d_scatter, (X, WT), {"output_padding": -1}, ValueError,
     ["output_padding must be a non-negative integer, got -1"]),
    (conv_matrix, ((5, 5), W[0]), {}, TypeError, ["w must be a 4-D tensor"]),
    (conv_matrix, ((2, 2), W), {}, ValueError, ["kernel 3 does not fit the padded input 2+2·0=2"]),
    (conv_matrix, ((0, 5), W), {}, ValueError, ["input_hw (height) must be a positive integer"]),
    (conv_matrix, ((5, 5, 5), W), {}, ValueError, ["input_hw", "3 values"]),
]


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "fragments"),
    BAD,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(BAD)],
)
def test_bad_input_gives_clear_message(fn, args, kwargs, exc, fragments):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert type(info.value) is exc
    for fragment in fragments:
        assert fragment in str(info.value)
