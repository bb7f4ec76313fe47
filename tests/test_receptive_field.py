"""Tests for receptive_field and the autograd measurement (gradient_receptive_field).

The expected field is measured with autograd, independently of convlab: build the stack with
all-ones float64 weights, backprop from one output pixel and take the bounding box of the input
pixels with nonzero gradient.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from convlab import receptive_field
from convlab.arithmetic import RFLayer
from convlab.reference import gradient_receptive_field, nonzero_extent

FAST = settings(max_examples=60, deadline=None)


def ones_stack(layers):
    convs = []
    for k, s, p, d in layers:
        conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False).double()
        nn.init.ones_(conv.weight)
        convs.append(conv)
    return nn.Sequential(*convs)


def measured_rows(model, size, out_y):
    """First and last input row with nonzero gradient of output (out_y, 0).

    None if the output has no row out_y, () if no input row has a nonzero gradient.
    """
    x = torch.ones(1, 1, size, 1, dtype=torch.float64, requires_grad=True)
    try:
        out = model(x)
    except RuntimeError:
        return None
    if out.shape[2] <= out_y:
        return None
    out[0, 0, out_y, 0].backward()
    rows = torch.nonzero(x.grad[0, 0, :, 0]).flatten()
    if rows.numel() == 0:
        return ()  # this output's field lies wholly in the padding
    return int(rows.min()), int(rows.max())


def empirical_field(layers):
    """(r, start) measured with autograd on a 1-D column (kernels are k x 1).

    The strategies below keep every field under 400 pixels (k <= 4, d <= 3, s <= 3, at most 4
    layers: r <= 1 + 9·(1+3+9+27) = 361), so the middle output of a 2048-row input has its whole
    field at least 400 rows away from both borders: padding cannot clip it.
    """
    model = ones_stack([((k, 1), (s, 1), (p, 0), (d, 1)) for k, s, p, d in layers])
    size = 2048
    out_rows = model(torch.zeros(1, 1, size, 1, dtype=torch.float64)).shape[2]
    out_y = out_rows // 2
    first, last = measured_rows(model, size, out_y)
    assert first > 400 and last < size - 400
    return last - first + 1, first - out_y * _jump(layers)


def _jump(layers):
    j = 1
    for _, s, _, _ in layers:
        j *= s
    return j


layer = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 3))


def measured_fields(layers: list[tuple], avg_pool: frozenset[int] = frozenset()
                    ) -> list[tuple[int, int, int]]:
    """(r, j, start) of every layer of ``layers`` ((k, s, p, d), square) measured with
    autograd on one row: all-ones float64 conv1d layers (a pool's window is its field; the
    layers whose index is in ``avg_pool`` run as the real F.avg_pool1d), the gradient of two
    neighbouring outputs of each layer w.r.t. the input. Used by test_explorers_js.py too.

    The input is the explorer's input with M pixels put in front (M a multiple of every jump,
    larger than any field's reach into the padding): output u = M/j_l then sees what output 0
    sees on the explorer's input, shifted by M, with every pixel and every intermediate unit
    real (no padding can hide a part of the field), and output u+1 starts j_l later."""
    jumps = [1]
    for _, s, _, _ in layers:
        jumps.append(jumps[-1] * s)
    reach = sum(jumps[:-1])  # p ≤ 3 and d(k−1) ≤ 12 per layer bound every field
    big = jumps[-1]
    m = big * (3 * reach // big + 1)
    size = 2 * m + 13 * reach + 4 * big
    depth = len(layers)
    # rows 2l and 2l+1 of one batch measure layer l+1 (batch rows never mix): one backward
    x = torch.ones(2 * depth, 1, size, dtype=torch.float64, requires_grad=True)
    y, picked = x, []
    for n, (k, s, p, d) in enumerate(layers, start=1):
        if n - 1 in avg_pool:
            y = F.avg_pool1d(y, k, stride=s, padding=p)
        else:
            y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s, padding=p,
                         dilation=d)
        u = m // jumps[n]
        picked += [y[2 * n - 2, 0, u], y[2 * n - 1, 0, u + 1]]
    torch.stack(picked).sum().backward()
    out = []
    for n in range(depth):
        first = torch.nonzero(x.grad[2 * n, 0]).flatten()
        second = torch.nonzero(x.grad[2 * n + 1, 0]).flatten()
        lo = int(first.min())
        out.append((int(first.max()) - lo + 1, int(second.min()) - lo, lo - m))
    return out


@st.composite
def explorer_stack(draw):
    """1–5 layers of the receptive field explorer's ranges: conv, max-pool or avg-pool with
    k 1…5, s 1…3, p 0…3 (pooling: at most half the kernel, as PyTorch requires) and d 1…3
    (avg-pool: 1)."""
    stack = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["conv", "max-pool", "avg-pool"]))
        k, s = draw(st.integers(1, 5)), draw(st.integers(1, 3))
        d = 1 if kind == "avg-pool" else draw(st.integers(1, 3))
        p = draw(st.integers(0, 3 if kind == "conv" else min(k // 2, 3)))
        stack.append((kind, k, s, p, d))
    return stack


@FAST
@given(explorer_stack())
def test_receptive_field_with_padding_and_pooling_equals_autograd(stack):
    """receptive_field of real nn modules (Conv2d, MaxPool2d with dilation, AvgPool2d with
    padding), up to five layers: every row's r, j and start equal the autograd measurement
    (avg-pool run as the real F.avg_pool1d; a max-pool's field is its whole window)."""
    modules = [nn.Conv2d(1, 1, k, s, p, d) if kind == "conv" else
               nn.MaxPool2d(k, s, p, d) if kind == "max-pool" else nn.AvgPool2d(k, s, p)
               for kind, k, s, p, d in stack]
    table = receptive_field(modules)
    avg = frozenset(n for n, layer in enumerate(stack) if layer[0] == "avg-pool")
    measured = measured_fields([layer[1:] for layer in stack], avg)
    assert [(row.r, row.j, row.start) for row in table] == measured
    assert [(row.k, row.s, row.p, row.d) for row in table] == [layer[1:] for layer in stack]


@FAST
@given(st.lists(layer, min_size=1, max_size=4))
def test_receptive_field_equals_autograd_measurement(layers):
    table = receptive_field(layers)
    assert len(table) == len(layers)
    r, start = empirical_field(layers)
    assert table[-1].r == r
    assert table[-1].start == start
    assert table[-1].j == _jump(layers)


@FAST
@given(st.lists(layer, min_size=1, max_size=4))
def test_every_row_is_the_field_of_the_stack_so_far(layers):
    table = receptive_field(layers)
    for n, row in enumerate(table, start=1):
        r, start = empirical_field(layers[:n])
        assert (row.r, row.start) == (r, start)
        assert (row.k, row.s, row.p, row.d) == layers[n - 1]


@FAST
@given(st.lists(layer, min_size=1, max_size=4))
def test_padding_only_moves_start(layers):
    unpadded = [(k, s, 0, d) for k, s, _, d in layers]
    with_pad, without = receptive_field(layers), receptive_field(unpadded)
    assert [(a.r, a.j) for a in with_pad] == [(b.r, b.j) for b in without]
    assert all(b.start == 0 for b in without)
    assert empirical_field(unpadded) == (without[-1].r, 0)
    if any(p for _, _, p, _ in layers):
        assert with_pad[-1].start < 0


def test_short_tuples_default_to_stride_1_padding_0_dilation_1():
    assert receptive_field([(3,), (3, 2), (3, 2, 1)]) == receptive_field(
        [(3, 1, 0, 1), (3, 2, 0, 1), (3, 2, 1, 1)]
    )


def test_modules_give_the_same_table_as_tuples_and_match_autograd():
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Sequential(nn.Conv2d(8, 8, 3, dilation=2, padding=2), nn.Dropout(0.1), nn.GELU()),
        nn.AvgPool2d(3, stride=2, padding=1),
        nn.Identity(),
        nn.Conv2d(8, 4, (3, 3), stride=(2, 2)),
    )
    tuples = [(3, 1, 1, 1), (2, 2, 0, 1), (3, 1, 2, 2), (3, 2, 1, 1), (3, 2, 0, 1)]
    table = receptive_field(model)
    assert [(row.k, row.s, row.p, row.d, row.r, row.j, row.start) for row in table] == [
        (row.k, row.s, row.p, row.d, row.r, row.j, row.start) for row in receptive_field(tuples)
    ]
    assert [row.name for row in table] == [
        "0: Conv2d", "3: MaxPool2d", "4.0: Conv2d", "5: AvgPool2d", "7: Conv2d"]
    assert (table[-1].r, table[-1].start) == empirical_field(tuples)
    # a plain list of modules works too
    assert receptive_field(list(model)) == table


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_same_padding_conv_matches_autograd():
    for k, d in [(3, 1), (4, 1), (3, 2), (2, 3)]:
        conv = nn.Conv2d(1, 1, (k, 1), padding="same", dilation=(d, 1), bias=False).double()
        nn.init.ones_(conv.weight)
        first, last = measured_rows(conv, 20, 10)
        row = receptive_field([nn.Conv2d(1, 1, k, padding="same", dilation=d)])[0]
        assert (row.r, row.start) == (last - first + 1, first - 10)
    assert receptive_field([nn.Conv2d(1, 1, 3, padding="valid")])[0].start == 0


def test_centre_is_the_middle_of_the_field():
    row = receptive_field([(3, 1, 1), (2, 2, 0)])[-1]
    assert isinstance(row, RFLayer)
    assert row.centre == row.start + (row.r - 1) / 2
    assert (row.r, row.start, row.centre) == (4, -1, 0.5)


def test_table_text_and_html():
    table = receptive_field([(3, 1, 1), (3, 2, 1, 2)])
    lines = str(table).splitlines()
    assert lines[0].split() == ["layer", "k", "s", "p", "d", "r", "j", "start", "centre"]
    assert lines[1].split() == ["layer", "1", "3", "1", "1", "1", "3", "1", "-1", "0"]
    # by hand: r = 3 + 2·(3-1)·1 = 7, j = 1·2 = 2, start = -1 - 1·1 = -2, centre = -2 + 3 = 1
    assert lines[2].split() == ["layer", "2", "3", "2", "1", "2", "7", "2", "-2", "1"]
    # columns are aligned: each number ends at the same position as its header
    end = lines[0].index("start") + len("start")
    assert all(line[end - 1] != " " for line in lines)
    assert repr(table) == str(table)
    page = table._repr_html_()
    assert page.startswith("<table") and page.count("<tr>") == 3
    assert "<th>start</th>" in page and "<td>-2</td>" in page


def test_records_are_frozen():
    row = receptive_field([(3,)])[0]
    with pytest.raises(AttributeError):
        row.r = 5


@pytest.mark.parametrize(
    ("layers", "exc", "fragments"),
    [
        ([nn.Upsample(scale_factor=2)], TypeError, ["Upsample", "spatial effect"]),
        (nn.Sequential(nn.Conv2d(1, 1, 3), nn.AdaptiveAvgPool2d(1)), TypeError,
         ["1: AdaptiveAvgPool2d"]),
        ([nn.Conv2d(1, 1, (3, 5))], ValueError, ["square", "kernel_size (3, 5)"]),
        ([nn.MaxPool2d(2, stride=(1, 2))], ValueError, ["square", "stride (1, 2)"]),
        ([(3, 0)], ValueError, ["layer 1", "stride", "positive integer, got 0"]),
        ([(3, 1), (3, 1, -1)], ValueError, ["layer 2", "padding", "got -1"]),
        ([(3, 1, 0, 1, 1)], ValueError, ["(k, s, p, d)", "5 values"]),
        ([()], ValueError, ["(k, s, p, d)", "0 values"]),
        ([(3.0,)], TypeError, ["layer 1", "float 3.0"]),
        ([3], TypeError, ["layer 1 must be a (k, s, p, d) tuple", "int"]),
        ("3,1", TypeError, ["layers must be a list", "str"]),
        (5, TypeError, ["layers must be a list", "int"]),
    ],
)
def test_bad_layers_give_clear_message(layers, exc, fragments):
    with pytest.raises(exc) as info:
        receptive_field(layers)
    assert type(info.value) is exc
    for fragment in fragments:
        assert fragment in str(info.value)


# ---------------------------------------------------------------------------------------------
# gradient_receptive_field and nonzero_extent (ch4)
# ---------------------------------------------------------------------------------------------


@FAST
@given(st.lists(layer, min_size=1, max_size=3))
def test_gradient_receptive_field_box_is_the_theoretical_field(layers):
    table = receptive_field(layers)
    r, j, start = table[-1].r, table[-1].j, table[-1].start
    # an output pixel whose field lies inside the input: y0 = start + y*j >= 0
    out_y = -(start // j) if start < 0 else 0
    size = start + out_y * j + r + 2 * j + 2
    grad = gradient_receptive_field(layers, (size, size), out_yx=(out_y, out_y))
    assert grad.shape == (size, size) and grad.dtype == torch.float64
    top, left, height, width = nonzero_extent(grad)
    assert (top, left, height, width) == (start + out_y * j, start + out_y * j, r, r)


def test_gradient_receptive_field_default_is_the_centre_output_pixel():
    grad = gradient_receptive_field([(3, 1, 0)], (9, 9))  # output 7x7, centre (3, 3)
    assert nonzero_extent(grad) == (3, 3, 3, 3)
    grad = gradient_receptive_field([(3, 1, 1), (3, 1, 1)], (7, 9), channels=2)
    assert nonzero_extent(grad) == (1, 2, 5, 5)
    # all-ones weights: from the centre input pixel there are 2 input channels x 2 middle
    # channels x 9 middle positions = 36 paths, each contributing 1
    assert grad[3, 4] == 36


def test_dilation_leaves_holes_inside_the_box():
    grad = gradient_receptive_field([(3, 1, 0, 2)], (5, 5), out_yx=(0, 0))
    assert nonzero_extent(grad) == (0, 0, 5, 5)
    assert grad[1, 1] == 0 and grad[0, 0] > 0 and grad[2, 4] > 0


def test_maxpool_module_routes_gradient_to_one_element_but_tuples_see_the_full_field():
    pool = nn.MaxPool2d(2)
    grad = gradient_receptive_field(nn.Sequential(pool), (4, 4), out_yx=(0, 0),
                                    field="effective")
    assert int((grad != 0).sum()) == 1  # MaxPool as given: a single input pixel
    for layers in ([pool], nn.Sequential(pool)):  # the default: the theoretical field
        grad = gradient_receptive_field(layers, (4, 4), out_yx=(0, 0))
        assert nonzero_extent(grad) == (0, 0, 2, 2)
        assert int((grad != 0).sum()) == 4


def _worked_case() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2, stride=2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1),
    )


def test_sequential_gives_the_same_field_as_receptive_field_unless_asked_for_effective():
    model = _worked_case()
    r = receptive_field(model)[-1].r
    assert nonzero_extent(gradient_receptive_field(model, 40))[2:] == (r, r) == (14, 14)
    # run as given: ties in max pooling on an all-ones input pass the gradient to one
    # element per window, so the real module's field is smaller (13 x 13 here)
    effective = nonzero_extent(gradient_receptive_field(model, 40, field="effective"))
    assert max(effective[2:]) < r


@FAST
@given(st.lists(layer, min_size=1, max_size=3))
def test_theoretical_field_of_a_sequential_equals_that_of_its_tuples(layers):
    modules = nn.Sequential(*[nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d)
                              for k, s, p, d in layers])
    try:
        expected = gradient_receptive_field(layers, 24)
    except ValueError:  # a layer does not fit: the module is refused the same way
        with pytest.raises(ValueError, match="cannot run on an input of 24x24"):
            gradient_receptive_field(modules, 24)
        return
    torch.testing.assert_close(gradient_receptive_field(modules, 24), expected)


def test_module_is_used_as_given_and_left_untouched():
    conv = nn.Conv2d(2, 2, 3, padding=1)
    before = conv.weight.detach().clone()
    grad = gradient_receptive_field(nn.Sequential(conv, nn.ReLU(), conv), (8, 8), channels=2,
                                    field="effective")
    assert grad.shape == (8, 8)
    assert conv.weight.dtype == torch.float32 and torch.equal(conv.weight, before)
    assert conv.training


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "fragment"),
    [
        (([(3,)], (2, 2)), {}, ValueError, "does not fit"),
        (([(3,)], (5, 5)), {"out_yx": (3, 0)}, ValueError, "outside the 3x3 output"),
        (([(3,)], (5, 5)), {"out_yx": 1}, TypeError, "(y, x) pair"),
        (([(3,)], (5, 5)), {"channels": 0}, ValueError, "channels must be a positive integer"),
        (([(3,)], 0), {}, ValueError, "input_hw must be a positive integer"),
        ((nn.Conv2d(3, 1, 3), (5, 5)), {"field": "effective"}, ValueError,
         "cannot run on a 1x1x5x5 input"),
        (([(3,)], (5, 5)), {"field": "effective"}, TypeError,
         "field='effective' runs a real model, so model_or_layers must be an nn.Module"),
        (([(3,)], (5, 5)), {"field": "real"}, ValueError,
         "field must be 'theoretical' or 'effective', got 'real'"),
    ],
)
def test_gradient_receptive_field_bad_input(args, kwargs, exc, fragment):
    with pytest.raises(exc, match=None) as info:
        gradient_receptive_field(*args, **kwargs)
    assert type(info.value) is exc and fragment in str(info.value)


def test_nonzero_extent():
    grad = torch.zeros(6, 7)
    grad[2, 3] = 1.0
    grad[4, 1] = -0.5
    assert nonzero_extent(grad) == (2, 1, 3, 3)
    with pytest.raises(ValueError, match="no nonzero entry"):
        nonzero_extent(torch.zeros(3, 3))
    with pytest.raises(TypeError, match="2-D"):
        nonzero_extent(torch.zeros(1, 3, 3))
    with pytest.raises(TypeError, match="torch.Tensor"):
        nonzero_extent([[1.0]])
