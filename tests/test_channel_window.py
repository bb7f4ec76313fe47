"""convlab.channel_window (ch2): the drawn partial sums and output number are torch's."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import channel_window as cw
from convlab import draw
from convlab.explore import all_widgets


def _texts(svg: str, cls: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")
            if t.get("class") == cls]


@st.composite
def configs(draw_: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor, float, int, int]:
    c_in = draw_(st.integers(1, 4))
    k = draw_(st.integers(1, 3))
    size = draw_(st.integers(k, 6))
    seed = draw_(st.integers(0, 2**16))
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(-3, 4, (c_in, size, size), generator=g).float()
    w = torch.randint(-2, 3, (c_in, k, k), generator=g).float()
    bias = float(draw_(st.integers(-3, 3)))
    o = size - k + 1
    return x, w, bias, draw_(st.integers(0, o - 1)), draw_(st.integers(0, o - 1))


@settings(max_examples=40, deadline=None)
@given(configs())
def test_partial_sums_are_per_channel_convolutions(cfg: tuple) -> None:
    x, w, bias, row, col = cfg
    s = cw.window_sums(x, w, bias, row, col)
    # each partial sum is the convolution of one channel with its kernel slice (no bias)
    for c in range(x.shape[0]):
        alone = F.conv2d(x[None, c:c + 1], w[None, c:c + 1])[0, 0, row, col]
        torch.testing.assert_close(s.partials[c], alone)
    full = F.conv2d(x[None], w[None], torch.tensor([bias]))[0, 0]
    torch.testing.assert_close(s.output, full)
    assert s.value == full[row, col].item()
    fig = cw.channel_window(x, w, bias, row, col)
    assert _texts(fig.svg, "cl-partial") == [draw.num(p) for p in s.partials]
    assert _texts(fig.svg, "cl-output") == [f"= {draw.num(full[row, col])}"]
    assert f"= {draw.num(full[row, col])}, the number F.conv2d computes" in fig.caption


def test_output_map_shows_every_conv2d_value() -> None:
    x, w, bias = cw.example_channels()
    fig = cw.channel_window(x, w, bias, 2, 1)
    expected = F.conv2d(x[None], w[None], torch.tensor([bias]))[0, 0]
    shown = " ".join(re.findall(r">([^<]*)</text>", fig.svg))
    for row in expected.tolist():
        assert " ".join(draw.num(v) for v in row) in shown


def test_example_has_varied_nonzero_partial_sums() -> None:
    x, w, bias = cw.example_channels()
    assert x.shape == (3, 5, 5) and w.shape == (3, 3, 3)
    partials = torch.stack([cw.window_sums(x, w, bias, r, c).partials
                            for r in range(3) for c in range(3)])
    assert len(set(partials[0].tolist())) == 3  # the first picture shows three different sums
    assert int((partials == 0).sum()) <= 1  # and hardly any zero elsewhere


@pytest.mark.parametrize("args, rule", [
    ((torch.zeros(5, 5), torch.zeros(1, 3, 3), 0.0, 0, 0), "shape \\(C_in, H, W\\)"),
    ((torch.zeros(3, 5, 5), torch.zeros(2, 3, 3), 0.0, 0, 0), "one kernel slice per input"),
    ((torch.zeros(3, 5, 5), torch.zeros(2, 3, 3, 3), 0.0, 0, 0), "one output channel"),
    ((torch.zeros(1, 2, 2), torch.zeros(1, 3, 3), 0.0, 0, 0), "does not fit"),
    ((torch.zeros(1, 5, 5), torch.zeros(1, 3, 3), 0.0, 3, 0), "outside the 3×3 output"),
])
def test_bad_input_names_the_rule(args: tuple, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        cw.window_sums(*args)


def test_bias_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="bias must be a number"):
        cw.window_sums(torch.zeros(1, 3, 3), torch.zeros(1, 3, 3), "1", 0, 0)  # type: ignore[arg-type]


def test_explorer_has_one_frame_per_position_linked_to_both_sliders() -> None:
    box = cw.channel_window_explorer()
    assert "convlab-explorer" in box._dom_classes
    assert set(box.convlab_sliders) == {"row", "col"}
    frames = [wd for wd in all_widgets(box)
              if isinstance(getattr(wd, "value", None), str) and "data-frame=" in wd.value]
    assert len(frames) == 9
    x, w, bias = cw.example_channels()
    out = F.conv2d(x[None], w[None], torch.tensor([bias]))[0, 0]
    for frame in frames:
        m = re.search(r"data-frame='row=(\d) col=(\d)'", frame.value)
        assert m is not None
        r, c = int(m.group(1)), int(m.group(2))
        assert f"= {draw.num(out[r, c])}</text>" in frame.value
    linked = {link.source[0].description for link in box.convlab_links}
    assert linked == {"output row", "output column"}
