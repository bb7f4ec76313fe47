"""Tests for convlab.draw: figures are valid SVG and show what PyTorch computes."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from convlab import draw

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
    assert text.endswith(f"= {o}") and "(7+2·1−1·(3−1)−1)/2" in text


def test_kernel_stack_count_equals_nn_conv2d():
    fig = draw.kernel_stack(3, 4, 5)
    n = sum(t.numel() for t in torch.nn.Conv2d(3, 4, 5).parameters())
    text = _texts(fig)
    assert f"= {n}" in text and f"has {n} parameters: equal" in text
    assert text.count("+ bias") == 4


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
    assert o == 2 and "the last 1 row(s)/column(s)" in _texts(fig)


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
    assert "(at 1, 3, 5)" in fig.caption and "0 row(s)" in fig.caption
