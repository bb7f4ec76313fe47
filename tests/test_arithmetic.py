"""Tests for convlab.arithmetic: sizes and parameter counts agree with PyTorch itself.

Every expected value comes from torch (a tensor's shape, a module's parameters, whether torch
raises), never from the code under test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from convlab import conv_input_sizes, conv_output_size, conv_params, conv_transpose_output_size

FAST = settings(max_examples=80, deadline=None)


def torch_conv_shape(i, k, s, p, d):
    """(oH, oW) from F.conv2d, or None if torch refuses the configuration."""
    (ih, iw), (kh, kw) = i, k
    if min(ih, iw, kh, kw) < 0:
        return None  # no tensor can have a negative size
    x = torch.zeros(1, 1, ih, iw)
    w = torch.zeros(1, 1, kh, kw)
    try:
        return tuple(F.conv2d(x, w, stride=s, padding=p, dilation=d).shape[2:])
    except RuntimeError:
        return None


def torch_transpose_shape(i, k, s, p, op, d):
    """(oH, oW) from F.conv_transpose2d, or None if torch refuses the configuration.

    An output size below 1 is refused by torch's reference path ("Output size is too small"),
    but for some kernels torch 2.x on CPU (the oneDNN path) returns an *empty* tensor when the
    size is exactly 0, e.g. a 1x1 input, k=4, p=2. An empty result is no output, so it counts as
    refused here; convlab refuses every output size below 1.

    Likewise a dilation below 1: torch refuses it ("dilation should be greater than zero")
    except on that oneDNN path, which for a few shapes skips the check and returns a result
    (a 1x1 input, k=4, s=4, d=0 gives a 1x1 output: test_torch_skips_the_dilation_check_...).
    It counts as refused here; convlab refuses every dilation below 1.
    """
    (ih, iw), (kh, kw) = i, k
    if min(ih, iw, kh, kw) < 0 or min(d if isinstance(d, tuple) else (d,)) < 1:
        return None
    x = torch.zeros(1, 1, ih, iw)
    w = torch.zeros(1, 1, kh, kw)
    try:
        out = F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op, dilation=d)
    except RuntimeError:
        return None
    return tuple(out.shape[2:]) if out.numel() > 0 else None


def ours_or_none(fn, *args, **kwargs):
    """Our answer as a pair, or None if we raise ValueError (any other exception fails)."""
    try:
        return fn(*args, **kwargs)
    except ValueError as err:
        assert str(err), "error message must not be empty"
        return None


# Ranges include invalid values (0, negative) so that refusals are compared too.
sizes = st.integers(-1, 12)
kernels = st.integers(-1, 6)
strides = st.integers(-1, 4)
paddings = st.integers(-1, 5)
dilations = st.integers(-1, 3)


@FAST
@given(i=sizes, k=kernels, s=strides, p=paddings, d=dilations)
def test_conv_output_size_matches_torch_square(i, k, s, p, d):
    expected = torch_conv_shape((i, i), (k, k), s, p, d)
    ours = ours_or_none(conv_output_size, i, k, s, p, d)
    assert ours == (None if expected is None else expected[0])


@FAST
@given(i=st.tuples(sizes, sizes), k=st.tuples(kernels, kernels), s=st.tuples(strides, strides),
       p=st.tuples(paddings, paddings), d=st.tuples(dilations, dilations))
def test_conv_output_size_matches_torch_pairs(i, k, s, p, d):
    expected = torch_conv_shape(i, k, s, p, d)
    assert ours_or_none(conv_output_size, i, k, s, p, d) == expected


@FAST
@given(i=st.tuples(st.integers(1, 12), st.integers(1, 12)), k=st.integers(1, 5),
       s=st.integers(1, 3), p=st.integers(0, 3))
def test_conv_output_size_mixes_ints_and_pairs(i, k, s, p):
    expected = torch_conv_shape(i, (k, k), s, p, 1)
    assert ours_or_none(conv_output_size, i, k, s=s, p=p) == expected


def test_torch_skips_the_dilation_check_on_one_onednn_path() -> None:
    """Why torch_transpose_shape refuses every dilation below 1 itself (found by hypothesis):
    torch refuses d=0 on a 3x3 kernel, but on the oneDNN path of a 1x1 input with k=4, s=4
    it returns a 1x1 output. If a torch upgrade starts refusing it, this test says so."""
    x, w = torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 4, 4)
    assert F.conv_transpose2d(x, w, stride=4, dilation=0).shape[2:] == (1, 1)
    with pytest.raises(RuntimeError, match="dilation should be greater than zero"):
        F.conv_transpose2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3), dilation=0)
    with pytest.raises(ValueError, match="dilation d must be a positive integer"):
        conv_transpose_output_size(1, 4, 4, 0, 0, 0)


@FAST
@given(i=sizes, k=kernels, s=strides, p=paddings, op=st.integers(-1, 3), d=dilations)
def test_conv_transpose_output_size_matches_torch_square(i, k, s, p, op, d):
    expected = torch_transpose_shape((i, i), (k, k), s, p, op, d)
    ours = ours_or_none(conv_transpose_output_size, i, k, s, p, op, d)
    assert ours == (None if expected is None else expected[0])


@FAST
@given(i=st.tuples(sizes, sizes), k=st.tuples(kernels, kernels), s=st.tuples(strides, strides),
       p=st.tuples(paddings, paddings), op=st.tuples(st.integers(0, 3), st.integers(0, 3)),
       d=st.tuples(dilations, dilations))
def test_conv_transpose_output_size_matches_torch_pairs(i, k, s, p, op, d):
    expected = torch_transpose_shape(i, k, s, p, op, d)
    assert ours_or_none(conv_transpose_output_size, i, k, s, p, op, d) == expected


@FAST
@given(k=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 4), d=st.integers(1, 3),
       o=st.integers(1, 8))
def test_conv_input_sizes_are_exactly_the_inputs_torch_maps_to_o(k, s, p, d, o):
    top = (o + 1) * s + d * k + 2  # every input larger than this gives an output > o
    expected = [i for i in range(1, top) if torch_conv_shape((i, 1), (k, 1), s, p, d)
                and torch_conv_shape((i, 1), (k, 1), s, p, d)[0] == o]
    if not expected:
        with pytest.raises(ValueError, match=f"no input size gives output {o}"):
            conv_input_sizes(o, k, s, p, d)
        return
    result = conv_input_sizes(o, k, s, p, d)
    assert isinstance(result, range)
    assert list(result) == expected


@FAST
@given(k=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3),
       o=st.integers(1, 8))
def test_output_padding_picks_one_of_the_input_sizes(k, s, p, d, o):
    """Transposed convs with output_padding 0..s-1 reach exactly the inputs that map to o."""
    reached = set()
    for j in range(s):
        shape = torch_transpose_shape((o, o), (k, k), s, p, j, d)
        if shape is not None:
            reached.add(shape[0])
    if not reached:
        with pytest.raises(ValueError):
            conv_input_sizes(o, k, s, p, d)
    else:
        assert set(conv_input_sizes(o, k, s, p, d)) == reached


@FAST
@given(k=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3),
       o=st.integers(1, 8))
def test_output_padding_equal_to_the_remainder_gives_each_input_back(k, s, p, d, o):
    """conv_input_sizes' docstring: output_padding a = (i + 2p - d(k-1) - 1) mod s gives i."""
    try:
        inputs = conv_input_sizes(o, k, s, p, d)
    except ValueError:
        return  # no input maps to o (checked against torch above)
    lowest = (o - 1) * s - 2 * p + d * (k - 1) + 1
    for i in inputs:
        a = (i + 2 * p - d * (k - 1) - 1) % s
        assert a == i - lowest  # so output_padding j gives the (j - (1 - lowest))-th size
        assert torch_transpose_shape((o, o), (k, k), s, p, a, d) == (i, i)
    for j in range(s):  # where the range is cut at 1, these give no valid size
        if lowest + j < 1:
            assert torch_transpose_shape((o, o), (k, k), s, p, j, d) is None
            with pytest.raises(ValueError, match="would crop"):
                conv_transpose_output_size(o, k, s, p, j, d)


def test_output_padding_at_the_cut_edge():
    """k=1, s=3, p=2: inputs 1 and 2 give output 2; output_padding 1 and 2 reach them."""
    assert list(conv_input_sizes(2, 1, s=3, p=2)) == [1, 2]
    assert torch_transpose_shape((2, 2), (1, 1), 3, 2, 0, 1) is None
    assert [torch_transpose_shape((2, 2), (1, 1), 3, 2, j, 1)[0] for j in (1, 2)] == [1, 2]
    assert [conv_transpose_output_size(2, 1, s=3, p=2, output_padding=j) for j in (1, 2)] \
        == [1, 2]


def test_torch_quirk_empty_transposed_output_is_refused():
    """torch may return a 0x0 tensor instead of raising; convlab refuses with the reason."""
    assert torch_transpose_shape((1, 1), (4, 4), 1, 2, 0, 1) is None  # empty or raises
    with pytest.raises(ValueError, match="crop the full output 4 to 0"):
        conv_transpose_output_size(1, 4, p=2)


def test_conv_input_sizes_pairs():
    ranges = conv_input_sizes((4, 3), 3, s=(2, 1), p=1)
    assert ranges == (range(7, 9), range(3, 4))
    assert torch_conv_shape((7, 3), (3, 3), (2, 1), 1, 1) == (4, 3)
    assert torch_conv_shape((8, 3), (3, 3), (2, 1), 1, 1) == (4, 3)


@FAST
@given(c_in_g=st.integers(1, 4), c_out_g=st.integers(1, 4), groups=st.integers(1, 3),
       kh=st.integers(1, 5), kw=st.integers(1, 5), bias=st.booleans())
def test_conv_params_matches_nn_conv2d(c_in_g, c_out_g, groups, kh, kw, bias):
    c_in, c_out = c_in_g * groups, c_out_g * groups
    layer = nn.Conv2d(c_in, c_out, (kh, kw), bias=bias, groups=groups)
    expected = sum(p.numel() for p in layer.parameters())
    assert conv_params(c_in, c_out, (kh, kw), bias=bias, groups=groups) == expected
    if kh == kw:
        assert conv_params(c_in, c_out, kh, bias=bias, groups=groups) == expected


@FAST
@given(c_in=st.integers(1, 8), c_out=st.integers(1, 8), groups=st.integers(1, 5))
def test_conv_params_refuses_groups_exactly_when_nn_conv2d_does(c_in, c_out, groups):
    try:
        nn.Conv2d(c_in, c_out, 3, groups=groups)
        torch_ok = True
    except ValueError:
        torch_ok = False
    if torch_ok:
        conv_params(c_in, c_out, 3, groups=groups)
    else:
        with pytest.raises(ValueError, match=f"groups {groups} must divide"):
            conv_params(c_in, c_out, 3, groups=groups)


def test_accepts_numpy_integers():
    assert conv_output_size(np.int64(28), np.int32(5), p=np.int64(2)) == 28


def test_documented_examples():
    # expected values from torch
    assert conv_output_size(28, 5, p=2) == torch_conv_shape((28, 28), (5, 5), 1, 2, 1)[0]
    assert conv_output_size((32, 24), 3, s=2, p=1) == torch_conv_shape((32, 24), (3, 3), 2, 1, 1)
    assert conv_transpose_output_size(4, 3, s=2, p=1, output_padding=1) == torch_transpose_shape(
        (4, 4), (3, 3), 2, 1, 1, 1)[0]
    assert conv_params(3, 16, 3) == sum(p.numel() for p in nn.Conv2d(3, 16, 3).parameters())


# ---------------------------------------------------------------------------------------------
# Bad input: a clear exception whose message names the rule and the numbers
# ---------------------------------------------------------------------------------------------

BAD_INPUTS = [
    # (function, args, kwargs, exception, fragments that must all appear in the message)
    (conv_output_size, (4, 5), {"p": 1, "d": 2}, ValueError,
     ["kernel 5 (dilated to 9) does not fit the padded input 4+2·1=6"]),
    (conv_output_size, (4, 5), {}, ValueError, ["kernel 5 does not fit", "4+2·0=4"]),
    (conv_output_size, ((8, 4), 5), {}, ValueError, ["width: kernel 5 does not fit"]),
    (conv_output_size, (4, 3), {"s": 0}, ValueError, ["stride", "positive integer, got 0"]),
    (conv_output_size, (4, 3), {"s": -2}, ValueError, ["stride", "positive integer, got -2"]),
    (conv_output_size, (0, 3), {}, ValueError, ["input size", "positive integer, got 0"]),
    (conv_output_size, (4, 0), {}, ValueError, ["kernel size", "positive integer, got 0"]),
    (conv_output_size, (4, 3), {"p": -1}, ValueError, ["padding", "non-negative", "got -1"]),
    (conv_output_size, (4, 3), {"d": 0}, ValueError, ["dilation", "positive integer, got 0"]),
    (conv_output_size, (4.0, 3), {}, TypeError, ["input size", "integer", "float 4.0"]),
    (conv_output_size, (4, 3), {"s": True}, TypeError, ["stride", "bool True"]),
    (conv_output_size, ("4", 3), {}, TypeError, ["input size", "integer", "'4'", "str"]),
    (conv_output_size, (4, 3), {"s": None}, TypeError, ["stride", "integer", "None"]),
    (conv_output_size, (2**64, 3), {}, ValueError, ["64-bit", str(2**64)]),
    (conv_output_size, (5, 10**6), {}, ValueError, ["kernel 1000000 does not fit"]),
    (conv_output_size, ((4, 4, 4), 3), {}, ValueError, ["(height, width) pair", "3 values"]),
    (conv_output_size, ((4,), 3), {}, ValueError, ["(height, width) pair", "1 values"]),
    (conv_output_size, ((4, 2.5), 3), {}, TypeError, ["input size i (width)", "float 2.5"]),
    (conv_transpose_output_size, (2, 2), {"p": 2}, ValueError,
     ["padding 2", "crop the full output 3 to -1"]),
    (conv_transpose_output_size, ((2, 2), 2), {"p": 2}, ValueError,
     ["transposed conv with padding 2 would crop the 3x3 full output to -1x-1"]),
    (conv_transpose_output_size, (2, 2), {"s": 2, "output_padding": 2}, ValueError,
     ["output_padding 2 must be smaller than stride 2 or dilation 1"]),
    (conv_transpose_output_size, (2, 2), {"output_padding": -1}, ValueError,
     ["output_padding", "non-negative", "got -1"]),
    (conv_transpose_output_size, (2, 2), {"d": 1.5}, TypeError, ["dilation", "float 1.5"]),
    (conv_input_sizes, (1, 1), {"p": 5}, ValueError,
     ["no input size gives output 1", "even input 1 gives output 11"]),
    (conv_input_sizes, (0, 3), {}, ValueError, ["output size", "positive integer, got 0"]),
    (conv_params, (4, 6, 3), {"groups": 3}, ValueError,
     ["groups 3 must divide in_channels 4", "4 % 3 = 1"]),
    (conv_params, (6, 4, 3), {"groups": 3}, ValueError, ["groups 3 must divide out_channels 4"]),
    (conv_params, (3, 4, 3), {"groups": 0}, ValueError, ["groups", "positive integer, got 0"]),
    (conv_params, (3, 4, 3), {"bias": 1}, TypeError, ["bias must be True or False", "int"]),
    (conv_params, (3, 4, (3, 3, 3)), {}, ValueError, ["kernel size", "3 values"]),
    (conv_params, (3.0, 4, 3), {}, TypeError, ["in channels", "float 3.0"]),
    (conv_params, (3, 0, 3), {}, ValueError, ["out channels", "positive integer, got 0"]),
]


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "exc", "fragments"),
    BAD_INPUTS,
    ids=[f"{case[0].__name__}-{i}" for i, case in enumerate(BAD_INPUTS)],
)
def test_bad_input_gives_clear_message(fn, args, kwargs, exc, fragments):
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    assert type(info.value) is exc
    for fragment in fragments:
        assert fragment in str(info.value)
