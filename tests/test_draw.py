"""Tests for convlab.draw: figures are valid SVG and show what PyTorch computes."""

from __future__ import annotations

import io
import itertools
import re
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from convlab import draw, svg
from convlab.arithmetic import receptive_field

OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00",
             "#CC79A7"}


def _svg_root(fig: draw.Figure) -> ET.Element:
    root = ET.fromstring(fig.svg)
    assert root.tag.endswith("svg")
    title = root.find("{http://www.w3.org/2000/svg}title")
    assert title is not None and title.text
    return root


def _texts(fig: draw.Figure) -> str:
    return " ".join(t.text or "" for t in _svg_root(fig).iter("{http://www.w3.org/2000/svg}text"))


def test_palette_is_okabe_ito():
    assert set(draw.PALETTE.values()) == OKABE_ITO


@settings(max_examples=60, deadline=None)
@given(i=st.integers(3, 7), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), data=st.data())
def test_conv_window_arithmetic_equals_torch(i, k, s, p, d, data):
    x = torch.randint(-3, 6, (i, i)).float()
    w = torch.randint(-2, 3, (k, k)).float()
    try:
        y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
    except RuntimeError:
        with pytest.raises(ValueError, match="does not fit"):
            draw.conv_window(s=s, p=p, d=d, x=x, w=w)
        return
    o = y.shape[-1]
    row = data.draw(st.integers(0, o - 1))
    col = data.draw(st.integers(0, o - 1))
    fig = draw.conv_window(s=s, p=p, d=d, position=(row, col), x=x, w=w)
    text = _texts(fig)
    assert f"output {o}×{o}" in text
    m = re.search(rf"y\[{row},{col}\] = (.*) = (\S+)$", text)
    assert m, text
    terms = [t.split("·") for t in m.group(1).split(" + ")]
    assert len(terms) == k * k
    total = sum(float(a.strip("()")) * float(b.strip("()")) for a, b in terms)
    assert total == float(y[row, col]) == float(m.group(2))
    assert f"= {o}" in fig.caption


def test_conv_window_output_values_come_from_torch():
    x, w = draw.example_input(5), draw.example_kernel(3)
    y = F.conv2d(x[None, None], w[None, None], padding=1, stride=2)[0, 0]
    scene = draw.ConvScene(5, 3, 2, 1, 1)
    assert torch.equal(scene.y, y)
    fig = scene.figure(1, 2)
    html = fig._repr_html_()
    assert "<figcaption" in html and fig.svg in html
    assert fig._repr_svg_() == fig.svg


def test_output_size_formula_substitutes_numbers():
    text = draw.output_size_formula(7, 3, 2, 1, 1)
    o = F.conv2d(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 3, 3), stride=2, padding=1).shape[-1]
    assert text.endswith(f"= {o}") and "(7+2·1−3)/2" in text


@settings(max_examples=40, deadline=None)
@given(i=st.integers(1, 9), k=st.integers(1, 4), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 3))
def test_output_size_formula_is_undilated_for_d1_and_dilated_for_d_above_1(i, k, s, p, d):
    """Ch1 teaches dilation after its first figure: d = 1 shows o = ⌊(i+2p−k)/s⌋+1, only
    d > 1 the dilated form; every number is checked against F.conv2d."""
    try:
        o = F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p,
                     dilation=d).shape[-1]
    except RuntimeError:
        with pytest.raises(ValueError, match="does not fit"):
            draw.output_size_formula(i, k, s, p, d)
        return
    text = draw.output_size_formula(i, k, s, p, d)
    inner = i + 2 * p - d * (k - 1) - 1
    if d == 1:
        expected = f"o = ⌊(i+2p−k)/s⌋+1 = ⌊({i}+2·{p}−{k})/{s}⌋+1 = ⌊{inner}/{s}⌋+1 = {o}"
    else:
        expected = (f"o = ⌊(i+2p−d(k−1)−1)/s⌋+1 = ⌊({i}+2·{p}−{d}·({k}−1)−1)/{s}⌋+1 "
                    f"= ⌊{inner}/{s}⌋+1 = {o}")
    assert text == expected
    assert inner // s + 1 == o


@pytest.mark.parametrize("d", [1, 2])
def test_conv_window_caption_mentions_dilation_only_when_dilated(d):
    fig = draw.conv_window(7, 3, 1, 1, d)
    assert draw.output_size_formula(7, 3, 1, 1, d) + ". Window at output" in fig.caption
    assert ("d(k−1)" in fig.caption) == ("dilation" in fig.caption) == (d > 1)
    first = draw.conv_window(5, 3, 1, 0, 1)  # ch1's first figure
    assert "o = ⌊(i+2p−k)/s⌋+1 = ⌊(5+2·0−3)/1⌋+1 = ⌊2/1⌋+1 = 3" in first.caption


@pytest.mark.parametrize(("d", "label"), [(1, "o = ⌊(6+2·0−3)/2⌋+1 = 2"),
                                          (2, "o = ⌊(6+2·0−2·(3−1)−1)/2⌋+1 = 1")])
def test_unreached_pixels_label_uses_the_dilated_formula_only_when_dilated(d, label):
    o = F.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), stride=2, dilation=d)
    assert label.endswith(f"= {o.shape[-1]}")
    assert label in _texts(draw.unreached_pixels(6, 3, 2, 0, d))


def test_kernel_stack_count_equals_nn_conv2d():
    fig = draw.kernel_stack(3, 4, 5)
    n = sum(t.numel() for t in torch.nn.Conv2d(3, 4, 5).parameters())
    text = _texts(fig)
    assert f"= {n}" in text and f"has {n} parameters: equal" in text
    assert text.count(", bias b[") == 4


@pytest.mark.parametrize(("c_in", "c_out"), [(1, 1), (3, 2), (4, 4)])
def test_kernel_stack_labels_count_from_zero_like_pytorch(c_in, c_out):
    conv = torch.nn.Conv2d(c_in, c_out, 3)
    fig = draw.kernel_stack(c_in, c_out, 3)
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in _svg_root(fig).iter(f"{ns}text")]
    # one label per conv.weight[j] / conv.bias[j], indexed exactly as PyTorch indexes them
    kernels = [t for t in texts if t.startswith("kernel ")]
    assert kernels == [f"kernel {j} = weight[{j}], bias b[{j}]"
                       for j in range(conv.weight.shape[0])]
    assert len(conv.bias) == c_out
    assert [t for t in texts if t.startswith("out ")] == [f"out {j}" for j in range(c_out)]
    assert [t for t in texts if re.fullmatch(r"c\d+", t)] == [f"c{j}"
                                                              for j in range(conv.in_channels)]
    assert "(s)" not in " ".join(texts) + fig.caption


def test_kernel_stack_channel_labels_do_not_overlap_and_text_is_large():
    ns = "{http://www.w3.org/2000/svg}"
    root = _svg_root(draw.kernel_stack(4, 2, 3))
    labels = [t for t in root.iter(f"{ns}text") if re.fullmatch(r"c\d+", t.text or "")]
    assert len(labels) == 4
    for a, b in itertools.pairwise(labels):
        size = int(a.get("font-size") or root.get("font-size"))
        # the next label starts below this one's line or right of its text
        apart_y = int(b.get("y")) - int(a.get("y")) >= size
        apart_x = int(b.get("x")) - int(a.get("x")) >= draw.text_width(a.text, size)
        assert apart_y or apart_x, (a.text, b.text)
    sizes = [int(t.get("font-size") or root.get("font-size")) for t in root.iter(f"{ns}text")]
    assert min(sizes) >= 12


def test_transposed_scene_matches_torch_and_scatter_steps_sum_up():
    scene = draw.TransposedScene(3, 3, 2, 1, 1, 1)
    x = scene.x[None, None]
    w = scene.w[None, None]
    ref = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)[0, 0]
    assert torch.equal(scene.out, ref)
    full = F.conv_transpose2d(x, w, stride=2)[0, 0]
    steps = sum(scene.contribution(r, c) for r in range(3) for c in range(3))
    assert torch.equal(steps, full)
    assert f"output {ref.shape[-1]}×{ref.shape[-1]}" in _texts(scene.figure())
    assert "step 5/9" in _svg_root(scene.figure(step=4)).find(
        "{http://www.w3.org/2000/svg}title").text


def test_transposed_refusal_matches_torch():
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), padding=2)
    with pytest.raises(ValueError, match="at least 1"):
        draw.transposed_scatter(2, 2, 1, 2)


def test_unreached_pixels_counts_windows_like_torch():
    fig = draw.unreached_pixels(6, 3, 2, 0, 1)
    o = F.conv2d(torch.zeros(1, 1, 6, 6), torch.zeros(1, 1, 3, 3), stride=2).shape[-1]
    assert o == 2 and "the last row and column (hatched, 0 windows) are never read" in _texts(fig)
    assert "(s)" not in _texts(fig) + fig.caption


def test_receptive_fields_and_other_figures_are_valid_svg():
    figs = [draw.receptive_fields([(3, 1, 0, 1), (3, 2, 0, 1)]), draw.stride_zero_insertion(3, 2),
            draw.overlap_heatmap(4, 3, 2), draw.unreached_pixels(), draw.kernel_stack()]
    for fig in figs:
        _svg_root(fig)
        assert fig.caption
    # r of two 3x3 layers (stride 1 then 2) measured by autograd: 5
    x = torch.zeros(1, 1, 9, 9, requires_grad=True)
    ones = torch.ones(1, 1, 3, 3)
    F.conv2d(F.conv2d(x, ones), ones, stride=2)[0, 0, 0, 0].backward()
    assert int((x.grad[0, 0].sum(0) != 0).sum()) == 5
    assert "layer 2: r=5," in _texts(figs[0])


def test_overlap_heatmap_counts_are_torch_counts():
    count = F.conv_transpose2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3), stride=2)[0, 0]
    text = _texts(draw.overlap_heatmap(4, 3, 2))
    digits = re.findall(r"\d+", text.split(":")[-1])
    assert sorted(int(v) for v in digits) == sorted(int(v) for v in count.flatten())


def test_photo_conv_shape_and_png():
    y, img = draw.photo_conv("sobel-y", s=2, p=1, size=48)
    x = draw.photo(48)
    w = torch.tensor(draw.IMAGE_KERNELS["sobel-y"], dtype=torch.float32)[None, None]
    assert torch.equal(y, F.conv2d(x[None, None], w, stride=2, padding=1)[0, 0])
    png = Image.open(io.BytesIO(draw.png_bytes(y)))
    assert png.size == (y.shape[1], y.shape[0]) and png.mode == "L"
    assert img.startswith("<img src='data:image/png;base64,")
    with pytest.raises(ValueError, match="unknown kernel"):
        draw.photo_conv("emboss")


def test_unreached_pixels_reports_interior_gaps_found_by_torch():
    # dilation 2, stride 2: windows read columns 0,2 / 2,4 / 4,6, never the odd ones
    x = torch.zeros(1, 1, 7, 7, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, 2, 2), stride=2, dilation=2).sum().backward()
    never = [c for c in range(7) if float(x.grad[0, 0, :, c].sum()) == 0]
    fig = draw.unreached_pixels(7, 2, 2, 0, 2)
    assert never == [1, 3, 5]
    assert "3 more rows and columns inside (at 1, 3, 5)" in fig.caption
    assert "the floor drops nothing" in fig.caption and "(s)" not in fig.caption


# ---------------------------------------------------------------------------------------------
# ch5 fixes: what output_padding adds, and the zero-insertion label
# ---------------------------------------------------------------------------------------------


def _dashed_cells(picture: str) -> int:
    m = re.search(r"<path d='([^']*)' fill='none' stroke='#555' stroke-dasharray", picture)
    return len(re.findall(r"M", m.group(1))) if m else 0


def test_output_padding_within_padding_keeps_computed_rows_not_zeros():
    # i=3, k=3, s=2, p=1, output_padding=1: the output is full[1:7, 1:7], all computed sums
    x = torch.arange(1, 10, dtype=torch.float32).view(1, 1, 3, 3)
    w = draw.example_kernel(3)[None, None]
    full = F.conv_transpose2d(x, w, stride=2)[0, 0]
    out = F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1)[0, 0]
    o = out.shape[-1]
    assert torch.equal(out, full[1:1 + o, 1:1 + o])  # the kept rows are rows of the full sum
    fig = draw.transposed_scatter(3, 3, 2, 1, 1)
    text = _texts(fig)
    assert _dashed_cells(fig.svg) == 0
    assert "(zeros)" not in text and "output_padding (zeros)" not in fig.caption
    assert f"kept (green): rows/cols 1…{o} of the full grid" in text
    assert "cropped (hatched): 1 top/left, 0 bottom/right" in text
    assert "keeps 1 more computed row/col at the bottom/right (not zeros)" in text
    assert "by 0 at the bottom/right" in fig.caption


def test_output_padding_beyond_padding_reaches_past_the_full_output():
    # p=0, output_padding=1: one row/column past the full grid, where no kernel copy lands
    x = torch.arange(1, 5, dtype=torch.float32).view(1, 1, 2, 2)
    w = draw.example_kernel(3)[None, None]
    full = F.conv_transpose2d(x, w, stride=2)[0, 0]
    out = F.conv_transpose2d(x, w, stride=2, output_padding=1)[0, 0]
    f, o = full.shape[-1], out.shape[-1]
    assert o == f + 1 and float(out[f:].abs().sum() + out[:, f:].abs().sum()) == 0
    fig = draw.transposed_scatter(2, 3, 2, 0, 1)
    text = _texts(fig)
    assert _dashed_cells(fig.svg) == o * o - f * f
    assert "dashed = beyond the full output: no kernel copy lands here (0 + bias)" in text
    assert "output_padding (zeros)" not in text
    # the numbers written in the dashed bottom row are torch's output row f (all 0)
    scene = draw.TransposedScene(2, 3, 2, 0, 1)
    y = str(scene.top + f * draw.CELL + draw.CELL // 2 + 4)
    ns = "{http://www.w3.org/2000/svg}"
    (row,) = [t.text for t in ET.fromstring(fig.svg).iter(f"{ns}text") if t.get("y") == y]
    assert row.split() == [draw.num(v) for v in out[f]] == ["0"] * o


@pytest.mark.parametrize(("k", "kept", "text"), [(2, ["2"], "row/col 2"),
                                                 (3, ["2", "3"], "rows/cols 2…3")])
def test_transposed_row_numbers_mark_the_kept_rows(k, kept, text):
    fig = draw.transposed_scatter(2, k, 2, 2, 1)
    full = F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, k, k), stride=2)
    out = F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, k, k), stride=2, padding=2,
                             output_padding=1)
    assert [str(r) for r in range(2, 2 + out.shape[-1])] == kept  # rows p … p+o−1
    ns = "{http://www.w3.org/2000/svg}"
    groups = [g for g in ET.fromstring(fig.svg).iter(f"{ns}g") if g.get("font-size") == "10"]
    numbers = sorted((int(t.text), g.get("font-weight")) for g in groups for t in g)
    assert [r for r, _ in numbers] == list(range(full.shape[-1]))
    assert [str(r) for r, weight in numbers if weight == "bold"] == kept
    assert f"kept (green): {text} of the full grid" in _texts(fig)


@pytest.mark.parametrize(("i", "s", "zeros"), [(2, 2, "1 zero inserted"),
                                               (3, 3, "2 zeros inserted"),
                                               (3, 1, "no zeros inserted"),
                                               (1, 4, "3 zeros inserted")])
def test_stride_zero_insertion_label_fits_and_is_grammatical(i, s, zeros):
    fig = draw.stride_zero_insertion(i, s)
    root = _svg_root(fig)
    ns = "{http://www.w3.org/2000/svg}"
    label = next(t for t in root.iter(f"{ns}text") if "inserted" in (t.text or ""))
    assert label.text.startswith(zeros) and "(s)" not in label.text + fig.caption
    n = F.conv_transpose2d(torch.ones(1, 1, i, i), torch.ones(1, 1, 1, 1), stride=s).shape[-1]
    assert label.text.endswith(f"{n}×{n}")
    # 7 px per character is wider than sans-serif digits and lower-case letters at 12 px
    assert int(root.get("width")) >= int(label.get("x")) + 7 * len(label.text)


# ---------------------------------------------------------------------------------------------
# ch3: the gradient of one output pixel
# ---------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(i=st.integers(3, 7), k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 2),
       d=st.integers(1, 2), data=st.data())
def test_pixel_gradient_equals_backward_and_the_kernel_weights(i, k, s, p, d, data):
    w = torch.randn(k, k, dtype=torch.float64)
    x = torch.randn(1, 1, i, i, dtype=torch.float64, requires_grad=True)
    try:
        y = F.conv2d(x, w[None, None], stride=s, padding=p, dilation=d)
    except RuntimeError:
        with pytest.raises(ValueError, match="does not fit"):
            draw.pixel_gradient(i, w, s, p, d)
        return
    o = y.shape[-1]
    row, col = data.draw(st.integers(0, o - 1)), data.draw(st.integers(0, o - 1))
    y[0, 0, row, col].backward()
    got = draw.pixel_gradient(i, w, s, p, d, (row, col))
    torch.testing.assert_close(got, x.grad[0, 0], rtol=0, atol=0)
    # each tap of the window that lands on an input pixel gives it that weight
    for u in range(k):
        for v in range(k):
            r, c = row * s - p + d * u, col * s - p + d * v
            if 0 <= r < i and 0 <= c < i:
                assert float(got[r, c]) == float(w[u, v])
    with pytest.raises(ValueError, match="does not exist"):
        draw.pixel_gradient(i, w, s, p, d, (o, 0))


def test_output_pixel_gradient_figure():
    fig = draw.output_pixel_gradient(7, 3, 2, 1, 2, (1, 1))
    o = F.conv2d(torch.zeros(1, 1, 7, 7), torch.zeros(1, 1, 3, 3), stride=2, padding=1,
                 dilation=2).shape[-1]
    text = _texts(fig)
    assert f"output {o}×{o}" in text and f"= {o}." in fig.caption
    assert "receptive field" in fig.caption and "d(k−1)+1 = 2·(3−1)+1 = 5" in fig.caption
    assert "9 input pixels get a gradient, spanning 5×5" in text
    corner = draw.output_pixel_gradient(7, 3, 1, 1, 1, (0, 0))
    assert "4 input pixels get a gradient, spanning 2×2 (5 of 9 taps on padding)" in corner.caption
    only_padding = draw.output_pixel_gradient(7, 1, 1, 1, 1, (0, 0))
    assert "its only tap reads padding" in only_padding.caption
    with pytest.raises(ValueError, match="does not exist"):
        draw.output_pixel_gradient(7, 3, 2, 0, 2, (2, 0))
    with pytest.raises(ValueError, match="does not fit"):
        draw.GradientScene(3, 3, 1, 0, 2)


# ---------------------------------------------------------------------------------------------
# ch1 review fixes: the ⋆ symbol, the current cell's value on top, "no padding"
# ---------------------------------------------------------------------------------------------


def test_conv_window_uses_cross_correlation_star_and_says_no_padding():
    fig = draw.conv_window(5, 3, 1, 0, 1)
    texts = _texts(fig).split()
    assert "⋆" in texts and "*" not in texts  # * is the flipped (true) convolution in ch1
    assert "no padding" in fig.caption and "p=0 (grey" not in fig.caption
    assert "multiplied elementwise by the kernel and summed" in fig.caption
    padded = draw.conv_window(5, 3, 1, 1, 1)
    assert "zero padding p=1 (grey, hatched)" in padded.caption


@pytest.mark.parametrize(("s", "p", "position"), [(1, 0, (1, 2)), (2, 1, (2, 0))])
def test_current_output_cell_value_is_drawn_over_its_fill(s, p, position):
    x, w = draw.example_input(5), draw.example_kernel(3)
    y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p)[0, 0]
    scene = draw.ConvScene(5, 3, s, p, 1)
    picture = scene.svg(scene.base() + scene.overlay(*position), "t")
    row, col = position
    ox, oy = scene.ox + col * draw.CELL, scene.top + row * draw.CELL
    fill = re.search(rf"<rect x='{ox}' y='{oy}' width='{draw.CELL}' height='{draw.CELL}' "
                     rf"fill='{svg.TINT['current']}'[^>]*/>", picture)
    assert fill and "opacity" not in fill.group(0)
    after = picture[fill.end():]
    later = re.search(rf"<text x='([\d ]+)' y='{oy + draw.CELL // 2 + 4}'>([^<]*)</text>", after)
    assert later and later.group(2) == draw.num(y[row, col])
    xs = [int(v) for v in later.group(1).split()]
    assert all(ox < v < ox + draw.CELL for v in xs)


@pytest.mark.parametrize(("i", "k", "s", "p", "lost"), [(6, 3, 2, 0, 1), (7, 2, 3, 0, 2),
                                                        (6, 3, 2, 1, 1)])
def test_unreached_pixels_wording_and_hatch_clear_of_digits(i, k, s, p, lost):
    n = i + 2 * p
    o = F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
    assert n - ((o - 1) * s + k) == lost
    fig = draw.unreached_pixels(i, k, s, p)
    text = _texts(fig)
    assert text.startswith(f"padded input {n}×{n}:" if p else f"input {n}×{n}:")
    last = "row and column" if lost == 1 else f"{lost} rows and columns"
    assert f"the last {last} (hatched, 0 windows) are never read" in text
    # every hatch stroke stays in a corner of its cell: none crosses the cell's middle third,
    # where the cell's number is written
    m = re.search(r"<path d='([^']*)' stroke='#D55E00'/>", fig.svg)
    strokes = re.findall(r"M(\d+) (\d+)l(\d+) -(\d+)", m.group(1))
    assert strokes
    x0, y0, cell = svg.MARGIN, 36, draw.CELL
    for sx, sy, dx, dy in ((int(v) for v in st_) for st_ in strokes):
        cx, cy = (sx - x0) % cell, (sy - y0 - 1) % cell + 1  # start point inside its cell
        for t in (0, 0.5, 1):
            px, py = cx + t * dx, cy - t * dy
            assert not (cell / 3 < px < 2 * cell / 3 and cell / 3 < py < 2 * cell / 3)


# ---------------------------------------------------------------------------------------------
# Size on the page: small figures are enlarged (text at >= 13 px), never wider than the column
# ---------------------------------------------------------------------------------------------


def _all_figures():
    return [draw.conv_window(4, 2, 1, 0, 1), draw.conv_window(7, 3, 2, 2, 2),
            draw.kernel_stack(1, 1, 1), draw.kernel_stack(4, 4, 5), draw.unreached_pixels(),
            draw.receptive_fields([(3, 1, 0, 1)] * 4), draw.transposed_scatter(3, 3, 2, 1, 1),
            draw.stride_zero_insertion(2, 2), draw.overlap_heatmap(), draw.output_pixel_gradient()]


def test_figures_are_enlarged_uniformly_to_readable_text():
    for fig in _all_figures():
        root = _svg_root(fig)
        x0, y0, w, h = (float(v) for v in root.get("viewBox").split())
        width, height = int(root.get("width")), int(root.get("height"))
        assert (x0, y0) == (0, 0)
        scale = width / w
        assert abs(height / h - scale) < 1 / h + 1 / w  # same scale both ways (rounding)
        assert 13 <= 12 * scale and scale <= svg.MAX_SCALE + 1 / w
        # small figures grow up to the column width, not beyond
        assert width <= max(svg.COLUMN, w * svg.MIN_SCALE) + 1
        if w * svg.MAX_SCALE <= svg.COLUMN:
            assert scale == pytest.approx(svg.MAX_SCALE, abs=1 / w)
        style = root.get("style")
        assert "max-width:100%" in style and "height:auto" in style
        sizes = [float(t.get("font-size") or g.get("font-size") or root.get("font-size"))
                 for g in [root, *root.iter("{http://www.w3.org/2000/svg}g")]
                 for t in g.iter("{http://www.w3.org/2000/svg}text")]
        assert min(sizes) * scale >= 12, fig.caption  # even the small notes


def test_layers_of_a_scene_scale_identically():
    scenes = [draw.ConvScene(4, 2, fit=(9, 3, 8)), draw.ConvScene(5, 3, 2, 2, fit=(9, 3, 8))]
    boxes = {re.search(r"<svg ([^>]*)>", sc.svg(part, "t", layer=layer)).group(1)
             .split(" role=")[0]
             for sc in scenes for part, layer in ((sc.input_part(), "bottom"),
                                                  (sc.kernel_part(), "top"))}
    assert len(boxes) == 1, boxes


# ---------------------------------------------------------------------------------------------
# ch5 review fixes: no crop legend without cropping, legend under the drawing, crop-all hatched
# ---------------------------------------------------------------------------------------------


def test_transposed_crop_legend_only_when_something_is_cropped():
    x = torch.arange(1, 5, dtype=torch.float32).view(1, 1, 2, 2)
    w = draw.example_kernel(3)[None, None]
    full = F.conv_transpose2d(x, w, stride=2)
    assert torch.equal(F.conv_transpose2d(x, w, stride=2, padding=0, output_padding=0), full)
    assert "kept (green)" not in _texts(draw.transposed_scatter(2, 3, 2, 0, 0))
    assert "kept (green)" in _texts(draw.transposed_scatter(2, 3, 2, 1, 0))
    assert "kept (green)" in _texts(draw.transposed_scatter(2, 3, 2, 0, 1))


def test_transposed_legend_sits_under_the_scene_own_drawing():
    fit = (3, 3, 10)  # a series of scenes up to a 10×10 grid
    small = draw.TransposedScene(2, 2, 1, 1, 0, fit=fit)
    big = draw.TransposedScene(3, 3, 2, 1, 1, fit=fit)
    assert (small.width, small.height) == (big.width, big.height)  # layers still align
    f_small = F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2)).shape[-1]
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(small.svg(small.crop_part(), "t"))
    (legend,) = [t for t in root.iter(f"{ns}text") if (t.text or "").startswith("kept")]
    assert int(legend.get("y")) == small.top + f_small * draw.CELL + 18
    assert int(legend.get("y")) < big.legend_y


def test_padding_that_crops_everything_hatches_the_whole_full_grid():
    # i=2, k=2, s=1: full grid 3×3; padding 2 would crop 4 of its 3 rows
    with pytest.raises(RuntimeError):
        F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), padding=2)
    f = F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2)).shape[-1]
    scene = draw.TransposedScene(2, 2, 1, 2, 0, strict=False)
    assert scene.error and scene.crops_everything
    part = scene.crop_part()
    hatch = re.search(r"<path d='([^']*)' stroke='#D55E00'", part).group(1)
    assert len(re.findall("M", hatch)) == 2 * f * f  # two corner strokes in every cell
    assert "padding 2 crops all of it, no output" in part
    # output_padding refused for its own reason: nothing is hatched
    other = draw.TransposedScene(2, 2, 1, 0, 1, strict=False)
    assert other.error and not other.crops_everything
    assert "<path" not in other.crop_part()


# ---------------------------------------------------------------------------------------------
# ch4 review fixes: boxes on the pixel grid, the desc flag
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [8, 9, 12])
def test_receptive_field_boxes_sit_on_pixel_boundaries_and_nest(size):
    layers = [(3, 1, 0, 1), (2, 1, 0, 1), (3, 2, 0, 1)]
    rs = [row.r for row in receptive_field(layers)]
    # r by autograd, one layer deeper at a time (the sizes the boxes must have)
    expected = []
    for depth in range(1, 4):
        x = torch.zeros(1, 1, 20, 20, requires_grad=True)
        y = x
        for k, s, _, d in layers[:depth]:
            y = F.conv2d(y, torch.ones(1, 1, k, k), stride=s, dilation=d)
        y[0, 0, 0, 0].backward()
        expected.append(int((x.grad[0, 0].sum(0) != 0).sum()))
    assert rs == expected
    fig = draw.receptive_fields(layers, size=size)
    cell = max(2, min(draw.CELL, 320 // size))
    boxes = [(int(r.get("x")), int(r.get("y")), int(r.get("width")))
             for r in _svg_root(fig).iter("{http://www.w3.org/2000/svg}rect")
             if r.get("fill") == "none" and int(r.get("width")) > 22]
    assert [w // cell for _, _, w in boxes] == expected
    for (x, y, w), (x2, y2, w2) in itertools.pairwise(boxes):
        assert (x - svg.MARGIN) % cell == 0 and (y - 30) % cell == 0  # on grid lines
        assert x2 <= x and y2 <= y and x + w <= x2 + w2 and y + w <= y2 + w2  # nested


def test_receptive_fields_desc_flag_controls_the_svg_desc():
    ns = "{http://www.w3.org/2000/svg}"
    with_desc = draw.receptive_fields([(3, 1, 0, 1)])
    without = draw.receptive_fields([(3, 1, 0, 1)], desc=False)
    assert _svg_root(with_desc).find(f"{ns}desc").text == with_desc.caption
    assert _svg_root(without).find(f"{ns}desc") is None
    assert without.caption == with_desc.caption  # the visible caption is still there


def test_standalone_transposed_figure_ends_under_its_legend():
    fig = draw.transposed_scatter(2, 3, 2, 0, 0)
    assert "not cropped (padding 0)" in fig.caption and "cropped by 0" not in fig.caption
    root = _svg_root(fig)
    ns = "{http://www.w3.org/2000/svg}"
    full = F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3), stride=2)
    bottom = 36 + full.shape[-1] * draw.CELL  # the grid's lower edge
    height = float(root.get("viewBox").split()[3])
    assert bottom < height <= bottom + 12  # no legend, no empty band
    lowest = max(int(t.get("y")) for t in root.iter(f"{ns}text"))
    step = _svg_root(draw.transposed_scatter(2, 3, 2, 0, 0, step=1))
    note = max(int(t.get("y")) for t in step.iter(f"{ns}text"))
    assert lowest < height and note < float(step.get("viewBox").split()[3]) <= note + 12
