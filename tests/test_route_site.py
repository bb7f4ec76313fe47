"""The built chapters (``_build/html``) after issue 17: a core route with its time line, optional
"Going further" blocks, chapter 1's motivation and the three new figures.

The structure is checked in headless Chromium (time line before the first section, blocks
collapsed until clicked, quick checks on the route); the figures are checked against what the
same page printed and against PyTorch, from the built HTML.
"""

from __future__ import annotations

import html
import re

import pytest
import torch
import torch.nn.functional as F
from test_site import CHAPTERS

from convlab.channel_window import example_channels

from conftest import SITE, UNDER_SUBPATH, Visit

pytestmark = pytest.mark.site


def _page(name: str) -> str:
    return (SITE / "book" / f"{name}.html").read_text(encoding="utf-8")


def _minutes(text: str) -> int:
    """``1 h 5 min`` (or the Chinese edition's ``1 小时 5 分钟``) -> 65."""
    m = re.fullmatch(r"(?:(\d+) (?:h|小时))? ?(?:(\d+) (?:min|分钟))?", text.strip())
    assert m and text.strip(), f"not a duration: {text!r}"
    return int(m.group(1) or 0) * 60 + int(m.group(2) or 0)


# The time line in each edition (book/_ext/convlab_reading_time.py, locales/*/convlab.po).
TIME_LINE = {
    "en": r"Core route ≈ (.+) \(with exercises ≈ (.+)\) · everything ≈ (.+)",
    "zh": r"核心路线 ≈ (.+)（含练习 ≈ (.+)）· 全部内容 ≈ (.+)",
}


# --------------------------------------------------------------------- every chapter, in Chromium

ROUTE = """() => {
    const main = document.querySelector('main') || document.body;
    const time = main.querySelector('.convlab-reading-time');
    const firstH2 = main.querySelector('section section h2, article section h2');
    const blocks = Array.from(main.querySelectorAll('.going-further'));
    const quizzes = Array.from(main.querySelectorAll('.convlab-quiz'));
    return {
        time: time ? time.textContent.trim() : null,
        timeFirst: !!(time && firstH2 &&
            (time.compareDocumentPosition(firstH2) & Node.DOCUMENT_POSITION_FOLLOWING)),
        titles: blocks.map(b => b.querySelector(':scope > .admonition-title').textContent.trim()),
        routeQuizzes: quizzes.filter(q => !q.closest('.going-further')).length,
    };
}"""


@pytest.mark.browser
@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", CHAPTERS)
def test_chapter_opens_with_its_time_line_and_marks_going_further_blocks(visit: Visit) -> None:
    page, start = visit.page, visit.mark()
    route = page.evaluate(ROUTE)
    assert route["time"], "no time line"
    assert route["timeFirst"], "the time line must come before the first section"
    chinese = visit.page_path.startswith("zh/")
    m = re.fullmatch(TIME_LINE["zh" if chinese else "en"], route["time"])
    assert m, route["time"]
    core, with_exercises, everything = (_minutes(g) for g in m.groups())
    assert 0 < core <= with_exercises <= everything
    assert route["titles"], "no going-further block"
    if not chinese:  # (a Chinese title is the translator's: the source's is checked here)
        assert all(t.startswith("Going further: ") for t in route["titles"]), route["titles"]
    assert route["routeQuizzes"] >= 3, f"{route['routeQuizzes']} quick checks on the route"

    block = page.locator(".going-further").first
    block.scroll_into_view_if_needed()
    body = block.locator(":scope > :not(.admonition-title)").first
    title = block.locator(":scope > .admonition-title")
    assert not body.is_visible(), "a going-further block is open before it is clicked"
    title.click()
    body.wait_for(state="visible", timeout=5_000)
    title.click()  # leave the shared page as it was loaded
    body.wait_for(state="hidden", timeout=5_000)
    visit.assert_clean_since(start)


# --------------------------------------------------------------------- chapter 1: why convolution


def test_chapter_1_opens_with_why_convolution_and_its_parameter_counts() -> None:
    text = _page("01_convolution")
    sections = re.findall(r'<section id="([^"]+)">\s*<h2>', text)
    assert sections[0] == "why-convolution-at-all", sections[:3]
    pixels = 224 * 224 * 3
    fully_connected = pixels * 224 * 224 + 224 * 224  # weights + one bias per output
    convolution = 3 * 3 * 3 + 1                        # one 3x3 slice per colour + one bias
    assert f"fully connected: {fully_connected:,} parameters" in text
    assert f"3x3 convolution: {convolution:,} parameters" in text
    assert "shift the input by (2, 1) -&gt; the output shifts by (2, 1)" in text


# --------------------------------------------------------------------- chapter 2: the window figure

_CAPTION = re.compile(
    r"Output position \(row (\d+), column (\d+)\): each of the (\d+) input channels .*?"
    r"partial sums ([^;]+); plus the one bias (\S+) = (\S+), the number F\.conv2d computes")


def test_chapter_2_window_frames_add_up_and_match_conv2d() -> None:
    frames = {(int(m[0]), int(m[1])): m for m in _CAPTION.findall(_page("02_multichannel_kernels"))}
    x, w, bias = example_channels()
    expected = F.conv2d(x[None], w[None], torch.tensor([bias]))[0, 0]
    assert set(frames) == {(r, c) for r in range(expected.shape[0])
                           for c in range(expected.shape[1])}, sorted(frames)
    for (r, c), (_, _, channels, partials, b, value) in frames.items():
        sums = [float(p) for p in partials.split(", ")]
        assert len(sums) == int(channels) == x.shape[0]
        assert float(b) == bias
        assert sum(sums) + float(b) == float(value), (r, c)
        assert float(value) == expected[r, c].item(), (r, c)


# --------------------------------------------------------------------- chapter 3: the two figures


def _moments(desc: str) -> dict[str, dict[str, tuple[str, str]]]:
    """The objects figure's description -> {moment: {name: (object id, storage address)}}."""
    moments = {}
    for panel in desc.split(" | "):
        label, _, rest = panel.partition(": ")
        moments[label] = {name: (obj, ptr) for name, obj, ptr in re.findall(
            r"(\w+) -> object (0x[0-9a-f]+) -> storage (0x[0-9a-f]+)", rest)}
    return moments


def test_chapter_3_objects_figure_shows_c_rebound_to_new_storage() -> None:
    text = _page("03_detach_and_autograd")
    desc = html.unescape(re.search(r"<title>Names, tensor objects and storage</title>"
                                   r"<desc>([^<]+)</desc>", text).group(1))
    moments = _moments(desc)
    before, after = moments["before c = c + 1"], moments["after c = c + 1"]
    assert before["b"][0] == before["c"][0] != before["a"][0]      # c is b; a another object
    assert len({ptr for _, ptr in before.values()}) == 1            # one storage for all three
    assert after["a"] == before["a"] and after["b"] == before["b"]  # a and b untouched
    assert after["c"][0] != before["c"][0] and after["c"][1] != before["a"][1]
    # The same addresses the cell printed above the figure (the real data_ptr() values).
    printed = re.findall(r"after c = c \+ 1 +\(c is b: False\):\s+a: storage (0x[0-9a-f]+).*?"
                         r"b: storage (0x[0-9a-f]+).*?c: storage (0x[0-9a-f]+)", text, re.S)
    assert printed and printed[0] == (after["a"][1], after["b"][1], after["c"][1])


def test_chapter_3_backward_graph_leaf_gradients_are_what_backward_gives() -> None:
    text = _page("03_detach_and_autograd")
    leaves = dict(re.findall(r"class='cl-leaf-grad'[^>]*>(\w+)\.grad = \[([^\]]+)\]<", text))
    edges = re.findall(r"class='cl-grad'[^>]*>([^<]+)<", text)
    # y = sum((a * 2) * w) with a = [1, 2], w = [3, 4]: dy/dw = 2a, dy/da = 2w.
    a, w = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    assert [float(v) for v in leaves["w"].split(", ")] == (2 * a).tolist()
    assert [float(v) for v in leaves["a"].split(", ")] == (2 * w).tolist()
    assert edges[0] == "1"  # d y / d y: where the backward pass starts
    # The cell after the figure runs y.backward() and prints the same gradients.
    assert "a.grad = tensor([6., 8.])" in text and "w.grad = tensor([2., 4.])" in text
