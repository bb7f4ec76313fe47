"""Tests for convlab.explore: page explorers offer the tested ranges; with the frames machinery
(used by convlab.channel_window), every slider combination shows the right, precomputed frame."""

from __future__ import annotations

import html
import itertools
import json
import re
import xml.etree.ElementTree as ET

import ipywidgets as widgets
import pytest
import torch
import torch.nn.functional as F

from convlab import explore
from convlab.channel_window import channel_window_explorer

EXPLORERS = {
    "conv": explore.conv_explorer,
    "channels": explore.channels_explorer,
    "rf": explore.receptive_field_explorer,
    "transposed": explore.transposed_conv_explorer,
    "image": explore.image_kernel_explorer,
    "gradient": explore.gradient_explorer,
}
BUDGET = 400_000  # bytes of embedded widget state per explorer (a page must stay < 1.5 MB)


#: Explorers drawn in the page by explorers.js (route (b)): all of convlab.explore's.
PAGE_EXPLORERS = {"channels", "conv", "gradient", "image", "rf", "transposed"}
#: Explorers that switch precomputed frames (explore._Explorer): chapter 2's window explorer.
FRAME_EXPLORERS = {"channel_window": channel_window_explorer}


@pytest.fixture(scope="module", params=sorted(FRAME_EXPLORERS))
def built(request):
    return request.param, FRAME_EXPLORERS[request.param]()


def _link_map(root):
    """stack model_id -> slider, from the jslinks."""
    out = {}
    for link in root.convlab_links:
        (slider, attr), (stack, target) = link.source, link.target
        assert attr == "index" and target == "selected_index"
        assert stack.model_id not in out, "a stack linked twice"
        out[stack.model_id] = slider
    return out


def _shown(widget, links, index):
    """Frames displayed for slider indices ``index`` (slider model_id -> index)."""
    if isinstance(widget, widgets.Stack):
        slider = links[widget.model_id]
        return _shown(widget.children[index[slider.model_id]], links, index)
    if isinstance(widget, widgets.Box):
        return [f for child in widget.children for f in _shown(child, links, index)]
    return [widget]


def _combos(root):
    sliders = root.convlab_sliders
    names = list(sliders)
    for idx in itertools.product(*(range(len(sliders[n].options)) for n in names)):
        labels = {n: sliders[n].options[j][0] for n, j in zip(names, idx, strict=True)}
        yield {sliders[n].model_id: j for n, j in zip(names, idx, strict=True)}, labels


def _tags(html):
    return [dict(kv.split("=", 1) for kv in tag.split()) if tag else {}
            for tag in re.findall(r"data-frame='([^']*)'", html)]


def test_root_sliders_and_links(built):
    name, root = built
    assert "convlab-explorer" in root._dom_classes
    links = _link_map(root)
    stacks = [w for w in explore.all_widgets(root) if isinstance(w, widgets.Stack)]
    assert stacks, "an explorer without stacks cannot change"
    for stack in stacks:
        slider = links[stack.model_id]  # every stack level is driven by a slider
        assert len(stack.children) == len(slider.options)
        assert stack.selected_index == slider.index
    for key, slider in root.convlab_sliders.items():
        assert isinstance(slider, widgets.SelectionSlider)
        assert slider.description
        assert f"convlab-slider-{key}" in slider._dom_classes
        assert any(s is slider for s in links.values()), f"slider {key} drives nothing"


def test_every_combination_shows_matching_frames(built):
    name, root = built
    links = _link_map(root)
    picture = root.children[-1]
    initial = {s.model_id: s.index for s in root.convlab_sliders.values()}
    for index, labels in _combos(root):
        frames = _shown(picture, links, index)
        tags = [t for f in frames for t in _tags(f.value)]
        assert tags, f"{name}: no data-frame for {labels}"
        named = set()
        for tag in tags:
            for key, value in tag.items():
                if key in labels:
                    assert value == labels[key], f"{name}: frame {tag} shown for {labels}"
                    named.add(key)
        if index == initial:  # at the start, the frames shown name every slider
            assert named == set(labels), f"{name}: {labels} shown by frames naming {named}"


def test_frames_are_valid_markup(built):
    _, root = built
    for w in explore.all_widgets(root):
        if isinstance(w, explore.Frame):
            ET.fromstring(f"<root>{w.value.replace('&', '&amp;').replace('&amp;#', '&#')}"
                          "</root>")


def test_widget_state_budget(built):
    name, root = built
    size = explore.state_size(root)
    assert size <= BUDGET, f"{name}: {size} bytes of widget state > {BUDGET}"


def test_frames_are_shared_not_duplicated(built):
    _, root = built
    values = [w.value for w in explore.all_widgets(root) if isinstance(w, explore.Frame)]
    assert len(values) == len(set(values))


def test_lean_widgets_sync_only_what_the_browser_needs():
    f = explore.Frame(value="<b>x</b>")
    assert set(f.get_state()) == {"_model_module", "_model_module_version", "_model_name",
                                  "_view_module", "_view_module_version", "_view_name",
                                  "layout", "value"}
    assert f.get_state()["_model_name"] == "HTMLModel"
    s = explore.FrameStack([f], selected_index=0)
    assert s.get_state()["_view_name"] == "StackView"
    assert "titles" not in s.get_state()


def test_image_kernel_explorer_embeds_the_photograph_once():
    root = explore.image_kernel_explorer()
    spec = root.convlab_spec
    assert spec["values"] == {"kernel": list(explore.draw.IMAGE_KERNELS), "s": [1, 2, 3],
                              "p": [0, 1, 2, 3], "d": [1, 2, 3]}
    x = explore.draw.photo(64)
    image = spec["image"]
    assert (image["h"], image["w"]) == tuple(x.shape)
    assert torch.equal(torch.tensor(image["pixels"]).view(x.shape) / 255.0, x)
    assert spec["kernels"]["sobel-x"] == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    small = explore.image_kernel_explorer(kernels=("identity",), strides=(2,), dilations=(3,))
    assert small.convlab_spec["values"]["d"] == [3]
    with pytest.raises(ValueError, match=r"kernels \['emboss'\]: choose among"):
        explore.image_kernel_explorer(kernels=("identity", "emboss"))
    with pytest.raises(ValueError, match=r"slider 'd': values \[4\] are outside 1…3"):
        explore.image_kernel_explorer(dilations=(4,))


def test_receptive_field_explorer_spec_and_refusals():
    root = explore.receptive_field_explorer()
    spec = root.convlab_spec
    assert spec["values"]["type"] == ["conv", "max-pool", "avg-pool"]
    assert spec["values"]["layers"] == spec["values"]["layer"] == [1, 2, 3, 4, 5]
    assert spec["stack"] == [list(layer) for layer in explore.RF_STACK]
    sliders = root.convlab_sliders
    assert sliders["layers"].label == "3" and sliders["layer"].label == "1"
    assert [sliders[n].label for n in ("type", "k", "s", "p", "d")] == \
        [str(v) for v in explore.RF_STACK[0]]
    chinese = explore.receptive_field_explorer(lang="zh_CN").convlab_sliders["type"]
    assert [label for label, _ in chinese.options] == ["卷积", "最大池化", "平均池化"]
    assert chinese.label == "卷积"
    small = explore.receptive_field_explorer(input_sizes=(8, 16), layers=5)
    assert small.convlab_spec["values"]["i"] == [8, 16]
    assert small.convlab_sliders["layers"].label == "5"
    with pytest.raises(ValueError, match=r"slider 'i': values \[9\] are outside 4…224"):
        explore.receptive_field_explorer(input_sizes=(8, 9))
    with pytest.raises(ValueError, match="give all 5 layers"):
        explore.receptive_field_explorer(stack=explore.RF_STACK[:4])
    bad = [*explore.RF_STACK[:4], ("avg-pool", 2, 2, 0, 2)]
    with pytest.raises(ValueError, match=r"layer 5: avg-pool has no dilation"):
        explore.receptive_field_explorer(stack=bad)
    bad = [("conv", 7, 1, 0, 1), *explore.RF_STACK[1:]]
    with pytest.raises(ValueError, match=r"layer 1: k=7 is outside"):
        explore.receptive_field_explorer(stack=bad)
    with pytest.raises(ValueError, match="layers must be 1…5"):
        explore.receptive_field_explorer(layers=6)


def test_slider_ranges_are_keyword_arguments():
    root = explore.transposed_conv_explorer(input_sizes=(2,), kernel_sizes=(3,), strides=(1,),
                                            paddings=(1,), output_paddings=(0,),
                                            dilations=(1, 2))
    assert [len(s.options) for s in root.convlab_sliders.values()] == [1, 1, 1, 1, 1, 2]
    with pytest.raises(ValueError, match="outside 1…5"):
        explore.transposed_conv_explorer(kernel_sizes=())


# ---------------------------------------------------------------------------------------------
# Explorers drawn in the page (route (b)); their numbers: tests/test_explorers_js.py


@pytest.mark.parametrize("name", sorted(PAGE_EXPLORERS))
def test_page_explorer_offers_the_tested_ranges(name):
    root = EXPLORERS[name]()
    assert isinstance(root, explore.PageExplorer)
    assert "convlab-explorer" in root._dom_classes
    assert f"convlab-explorer-{name}" in root._dom_classes
    spec = root.convlab_spec
    assert spec["kind"] == name
    for key, slider in root.convlab_sliders.items():
        assert isinstance(slider, widgets.SelectionSlider)
        assert f"convlab-slider-{key}" in slider._dom_classes
        assert [label for label, _ in slider.options] == [str(v) for v in spec["values"][key]]
    (picture,) = [w for w in root.children if isinstance(w, explore.Frame)]
    m = re.search(r"class='convlab-js-picture' data-spec='([^']*)'", picture.value)
    assert m and json.loads(html.unescape(m.group(1))) == spec


def test_conv_explorer_ranges_and_positions():
    root = explore.conv_explorer()
    values = root.convlab_spec["values"]
    for name in "ikspd":
        assert tuple(values[name]) == explore.CONV_RANGES[name]
    assert values["i"] == list(range(3, 11)) and values["k"] == list(range(1, 6))
    assert values["s"] == [1, 2, 3] and values["p"] == [0, 1, 2, 3] and values["d"] == [1, 2, 3]
    # the position sliders reach every cell of the largest output torch gives in these ranges
    sizes = []
    for i, k, s, p, d in itertools.product(*(values[n] for n in "ikspd")):
        try:
            sizes.append(F.conv2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s,
                                  padding=p, dilation=d).shape[-1])
        except RuntimeError:
            pass
    largest = max(sizes)
    assert values["row"] == values["col"] == list(range(largest))
    small = explore.conv_explorer(input_sizes=(4,), kernel_sizes=(3,), strides=(1,),
                                  paddings=(0,), dilations=(1,))
    assert small.convlab_spec["values"]["row"] == [0, 1]


def test_conv_explorer_refuses_untested_ranges():
    with pytest.raises(ValueError, match=r"slider 'i': values \[11\] are outside 3…10"):
        explore.conv_explorer(input_sizes=(5, 11))
    with pytest.raises(ValueError, match="outside 1…3"):
        explore.conv_explorer(dilations=())


def test_page_explorer_display_sends_the_widget_and_its_script():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    published = []
    shell.display_pub.publish = lambda data, **kw: published.append(data)
    try:
        from IPython.display import display

        display(explore.conv_explorer())
    finally:
        InteractiveShell.clear_instance()
    assert "application/vnd.jupyter.widget-view+json" in published[0]
    assert published[1]["text/html"] == f"<script>{explore.explorers_js()}</script>"


@pytest.mark.slow
def test_state_size_is_what_the_executed_notebook_embeds(tmp_path):
    """Run a notebook showing two explorers in a real kernel, as the book build does: the
    widget state it stores has one model per widget (shared frames stored once) and the size
    that state_size predicts."""
    import json

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from convlab import explore"),
                nbformat.v4.new_code_cell("explore.channels_explorer()"),
                nbformat.v4.new_code_cell("explore.transposed_conv_explorer()")]
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    state = nb.metadata.widgets["application/vnd.jupyter.widget-state+json"]["state"]
    roots = [explore.channels_explorer(), explore.transposed_conv_explorer()]
    expected = sum(len(explore.all_widgets(r)) for r in roots)
    assert len(state) == expected
    predicted = sum(explore.state_size(r) for r in roots)
    stored = len(json.dumps(dict(state)))
    assert abs(stored - predicted) < 0.01 * predicted
    frames = [m["state"]["value"] for m in state.values() if m["model_name"] == "HTMLModel"]
    assert len(frames) == len(set(frames))


# ---------------------------------------------------------------------------------------------
# Layers of one picture overlay exactly; the book theme's figure padding cannot shift them
# ---------------------------------------------------------------------------------------------


def test_figures_in_frames_reset_the_theme_padding(built):
    """A theme's <figure> padding/margin would shift a layer off the ones under it: every
    figure (and figcaption) in a frame sets margin and padding inline."""
    _, root = built
    for w in explore.all_widgets(root):
        if isinstance(w, widgets.HTML):
            for tag in re.findall(r"<(?:figure|figcaption)\b[^>]*>", w.value):
                style = re.search(r"style='([^']*)'", tag)
                assert style, tag
                assert "margin:0" in style.group(1) and "padding:" in style.group(1), tag


# ---------------------------------------------------------------------------------------------
# The explorers page shows all six explorers within the page budget
# ---------------------------------------------------------------------------------------------

PAGE_STATE_BUDGET = 1_250_000  # widget state bytes on one page (the page must stay < 1.5 MB)


def test_explorers_page_has_every_explorer_within_the_page_budget():
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "book" / "explorers.md"
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", page.read_text(), re.S)
    calls = [line.strip() for cell in cells for line in cell.splitlines()
             if line.strip().startswith("explore.")]
    names = {re.match(r"explore\.(\w+)\(", c).group(1) for c in calls}
    assert names == {f.__name__ for f in EXPLORERS.values()}
    total = sum(explore.state_size(eval(call, {"explore": explore, "LANG": "en"}))
                for call in calls)
    assert total <= PAGE_STATE_BUDGET, f"{total} bytes of widget state on the explorers page"


def test_a_parameter_with_one_value_is_stated_not_offered_as_a_slider():
    root = explore.transposed_conv_explorer(input_sizes=(2,), kernel_sizes=(2, 3),
                                            strides=(1,), paddings=(0, 1),
                                            output_paddings=(0,), dilations=(1,))
    shown_sliders = [w for w in root.children if isinstance(w, widgets.SelectionSlider)]
    names = {c.removeprefix("convlab-slider-") for w in shown_sliders for c in w._dom_classes}
    assert names == {"k", "p"}
    fixed = [w for w in root.children if any(c.startswith("convlab-fixed-") for c in
                                             getattr(w, "_dom_classes", ()))]
    assert {c for w in fixed for c in w._dom_classes} == {
        "convlab-fixed-i", "convlab-fixed-s", "convlab-fixed-op", "convlab-fixed-d"}
    assert all("(fixed here)" in w.value for w in fixed)
