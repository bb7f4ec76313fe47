"""Tests for convlab.upsample (chapter 5): bilinear transposed convolution vs F.interpolate."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.upsample import (
    bilinear_conv_transpose2d,
    bilinear_kernel,
    bilinear_kernel_size,
    bilinear_padding,
)


def test_scale_two_kernel_is_the_known_tent() -> None:
    taps = torch.tensor([0.25, 0.75, 0.75, 0.25])
    torch.testing.assert_close(bilinear_kernel(2), torch.outer(taps, taps))
    assert bilinear_kernel_size(2) == 4
    assert bilinear_padding(2) == 1


def test_scale_three_kernel_is_the_known_tent() -> None:
    taps = torch.tensor([1 / 3, 2 / 3, 1.0, 2 / 3, 1 / 3])
    torch.testing.assert_close(bilinear_kernel(3), torch.outer(taps, taps))
    assert bilinear_padding(3) == 1


@settings(max_examples=60, deadline=None)
@given(
    scale=st.integers(1, 5),
    channels=st.integers(1, 3),
    h=st.integers(2, 9),
    w=st.integers(2, 9),
    seed=st.integers(0, 10_000),
)
def test_matches_interpolate_in_the_interior(
    scale: int, channels: int, h: int, w: int, seed: int
) -> None:
    x = torch.randn(2, channels, h, w, generator=torch.Generator().manual_seed(seed))
    layer = bilinear_conv_transpose2d(channels, scale)
    with torch.no_grad():
        ours = layer(x)
    ref = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    assert ours.shape == ref.shape == (2, channels, scale * h, scale * w)
    b = scale // 2
    inner = (slice(None), slice(None), slice(b, scale * h - b), slice(b, scale * w - b))
    torch.testing.assert_close(ours[inner], ref[inner])


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_border_really_differs(scale: int) -> None:
    # On a constant image interpolate stays constant; the transposed conv sees zeros beyond the
    # edge, so its outermost row is darker. This is why the interior test leaves a border out.
    x = torch.ones(1, 1, 5, 5)
    layer = bilinear_conv_transpose2d(1, scale)
    with torch.no_grad():
        ours = layer(x)
    ref = F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)
    assert (ours[0, 0, 0] < ref[0, 0, 0] - 0.1).all()


def test_channels_do_not_mix() -> None:
    layer = bilinear_conv_transpose2d(3, 2)
    x = torch.zeros(1, 3, 4, 4)
    x[0, 1] = 1.0
    with torch.no_grad():
        y = layer(x)
    assert y[0, 0].abs().max() == 0 and y[0, 2].abs().max() == 0
    assert y[0, 1].abs().max() > 0
    assert layer.weight.requires_grad


@pytest.mark.parametrize("bad", [0, -2])
def test_bad_scale_value(bad: int) -> None:
    with pytest.raises(ValueError, match="scale"):
        bilinear_kernel(bad)


@pytest.mark.parametrize("bad", [2.0, "2", True])
def test_bad_scale_type(bad: object) -> None:
    with pytest.raises(TypeError, match="scale"):
        bilinear_conv_transpose2d(1, bad)  # type: ignore[arg-type]
