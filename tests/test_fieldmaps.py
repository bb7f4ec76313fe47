"""Tests for convlab.fieldmaps: the formula's field box equals what autograd measures in torch."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402

from convlab.fieldmaps import field_box, field_panels  # noqa: E402

FAST = settings(max_examples=60, deadline=None)


def torch_field(layers, size, out_yx=None):
    """Bounding box of the input pixels whose gradient is nonzero, using F.conv2d directly.

    All-ones kernels and an all-ones input: every path adds a positive amount, so a pixel has a
    nonzero gradient exactly when the output pixel reads it. Returns ``(top, left, h, w)`` (or
    None if the output pixel reads only padding) and the output size. Raises RuntimeError where
    torch refuses the stack.
    """
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, p, d in layers:
        y = F.conv2d(y, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, padding=p,
                     dilation=d)
    o = y.shape[-1]
    oy, ox = (o // 2, o // 2) if out_yx is None else out_yx
    y[0, 0, oy, ox].backward()
    ys, xs = torch.nonzero(x.grad[0, 0], as_tuple=True)
    if ys.numel() == 0:
        return None, o
    top, left = int(ys.min()), int(xs.min())
    return (top, left, int(ys.max()) - top + 1, int(xs.max()) - left + 1), o


layer = st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(0, 2), st.integers(1, 3))


@FAST
@given(st.lists(layer, min_size=1, max_size=4), st.integers(0, 40), st.data())
def test_field_box_equals_autograd(layers, extra, data):
    size = 8 + extra
    try:
        _, o = torch_field(layers, size)
    except RuntimeError:
        with pytest.raises(ValueError):
            field_box(layers, size)
        return
    oy = data.draw(st.integers(0, o - 1))
    measured, _ = torch_field(layers, size, (oy, oy))
    b_top, b_left, b_h, b_w = field_box(layers, size, (oy, oy))
    assert b_h == b_w
    if measured is None:
        # The output pixel reads only padding (of the input or of an intermediate map), so the
        # formula's box cannot lie entirely inside the input.
        assert b_top < 0 or b_top + b_h > size
        return
    top, left, h, w = measured
    if 0 <= b_top and b_top + b_h <= size:
        # The whole field lies inside the input: the measured box is exactly the formula's.
        assert (top, left, h, w) == (b_top, b_left, b_h, b_w)
    else:
        # Part of it is padding: what autograd sees lies inside the formula's box.
        assert b_top <= top and top + h <= b_top + b_h
        assert b_left <= left and left + w <= b_left + b_w


def test_field_box_defaults_to_centre_and_accepts_modules():
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 4, 3, padding=1))
    # output 10x10 for a 20x20 input; centre pixel 5; r = 3 + 1 + 2*2 = 8, j = 2, start = -3
    expected, _ = torch_field([(3, 1, 1, 1), (2, 2, 0, 1), (3, 1, 1, 1)], 20)
    assert field_box(model, 20) == expected == (-3 + 5 * 2,) * 2 + (8, 8)


def test_field_box_rectangular_input_and_no_layers():
    assert field_box([(3, 1, 0, 1)], (7, 11)) == (2, 4, 3, 3)
    assert field_box([], 5) == (2, 2, 1, 1)


def test_field_box_bad_input():
    with pytest.raises(ValueError, match="does not fit"):
        field_box([(5, 1, 0, 1)], 3)
    with pytest.raises(ValueError, match="outside"):
        field_box([(3, 1, 0, 1)], 5, out_yx=(3, 0))
    with pytest.raises(TypeError):
        field_box([(3, 1, 0, 1)], 5, out_yx=3)
    with pytest.raises(TypeError):
        field_box([(3, 1, 0, 1)], 5.0)


def test_field_panels_draws_formula_boxes():
    maps = {"a": torch.zeros(9, 9), "b": torch.zeros(9, 9)}
    maps["a"][2:7, 2:7] = 1.0
    maps["b"][4, 4] = 2.0
    boxes = {"a": (2, 2, 5, 5), "b": (4, 4, 1, 1)}
    fig = field_panels(maps, boxes, "title")
    try:
        assert len(fig.axes) == 2
        for ax, name in zip(fig.axes, maps, strict=True):
            (rect,) = ax.patches
            top, left, h, w = boxes[name]
            assert rect.get_xy() == (left - 0.5, top - 0.5)
            assert (rect.get_width(), rect.get_height()) == (w, h)
            assert f"formula r={h}, measured {h}×{w}" in ax.get_title()
    finally:
        plt.close(fig)


def test_field_panels_margin_and_grid():
    maps = {name: torch.zeros(20, 20) for name in "abcd"}
    for m in maps.values():
        m[8:13, 6:11] = 1.0
    boxes = dict.fromkeys(maps, (8, 6, 5, 5))
    fig = field_panels(maps, boxes, "title", margin=2, columns=3)
    try:
        assert len(fig.axes) == 6                       # a 2 x 3 grid
        shown = fig.axes[:4]
        for ax in shown:
            assert ax.get_xlim() == (6 - 2 - 0.5, 6 + 5 + 2 - 0.5)
            assert ax.get_ylim() == (8 + 5 + 2 - 0.5, 8 - 2 - 0.5)   # image rows grow down
        assert not fig.axes[4].axison and not fig.axes[5].axison
    finally:
        plt.close(fig)
    with pytest.raises(ValueError, match="margin"):
        field_panels(maps, boxes, "t", margin=-1)
    plt.close("all")


def test_field_panels_bad_input():
    with pytest.raises(TypeError):
        field_panels({}, {}, "t")
    with pytest.raises(ValueError, match="missing"):
        field_panels({"a": torch.ones(3, 3)}, {}, "t")
    with pytest.raises(TypeError, match="2-D"):
        field_panels({"a": torch.ones(3)}, {"a": (0, 0, 1, 1)}, "t")
    plt.close("all")
