"""matplotlib figures in the book's language (issue #20): Chinese texts, drawn in the CJK font.

The Chinese figures must show Chinese (from convlab's catalogue, not from the chapter's code
cell), be drawn with Noto Sans CJK from the pinned PyPI package (no system font needed), and
draw without matplotlib's "Glyph … missing" warnings (the build turns warnings into failures).
The English figures stay in matplotlib's default font. Nothing changes ``rcParams`` globally.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib import font_manager  # noqa: E402

from convlab import fieldmaps, i18n, plots  # noqa: E402

CJK = re.compile(r"[\u4e00-\u9fff]")
ENGLISH_WORD = re.compile(r"\b(?!conv\d)[A-Za-z]{4,}\b")  # "formula", "measured", ...


def figure_texts(fig):
    """Every non-empty text of a figure: titles, labels, legend entries, suptitle."""
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_text().strip()]


def draw_and_collect_glyph_warnings(fig):
    """Render ``fig`` with Agg; the "Glyph … missing" warnings matplotlib raised meanwhile."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    return [str(w.message) for w in caught if "Glyph" in str(w.message)]


def font_file(text):
    return font_manager.findfont(text.get_fontproperties(), fallback_to_default=False)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def small_panels(names):
    maps = {name: torch.zeros(9, 9) for name in names}
    for m in maps.values():
        m[2:7, 2:7] = 1.0
    return maps, dict.fromkeys(maps, (2, 2, 5, 5))


def test_glyph_warnings_are_caught_when_the_font_lacks_chinese():
    """The check below can fail: Chinese in matplotlib's default font warns."""
    fig, ax = plt.subplots()
    ax.set_title("中心输出像素")
    assert draw_and_collect_glyph_warnings(fig)


def test_cjk_font_comes_from_the_pinned_package():
    path = plots.cjk_font_path()
    assert path.name == plots.FONT_FILE and "noto_cjk_sans_otc" in path.parts
    assert plots.font_family("en") is None
    assert plots.font_family("zh_CN") == "Noto Sans CJK SC"
    names = {entry.name for entry in font_manager.fontManager.ttflist
             if entry.fname == str(path)}
    assert "Noto Sans CJK SC" in names
    before = len(font_manager.fontManager.ttflist)
    plots.font_family("zh_CN")                      # registered once, not again
    assert len(font_manager.fontManager.ttflist) == before


def test_missing_font_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(plots, "FONT_FILE", "NoSuchFont.ttc")
    with pytest.raises(RuntimeError, match="noto-cjk-sans-otc.*requirements.txt"):
        plots.font_family("zh_CN")


def test_importing_the_figure_modules_touches_no_font():
    """No side effects on import: matplotlib (and so its font manager) is not even loaded."""
    code = ("import sys, convlab.plots, convlab.fieldmaps; "
            "print(sorted(m for m in sys.modules if m.startswith('matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_figure_font_leaves_rcparams_alone():
    before = list(matplotlib.rcParams["font.family"])
    with plots.figure_font("zh_CN") as family:
        assert matplotlib.rcParams["font.family"][0] == family
    assert matplotlib.rcParams["font.family"] == before


def test_field_panels_zh_is_chinese_in_the_cjk_font_without_glyph_warnings():
    maps, boxes = small_panels([i18n.message("three 3×3"), i18n.message("worked case")])
    title = i18n.message("Gradient of the centre output pixel ({size}×{size} input; "
                         "darker = larger; dashed square = formula)", size=9)
    fig = fieldmaps.field_panels(maps, boxes, title=title, lang="zh_CN")
    assert fig._suptitle.get_text().startswith("中心输出像素的梯度（9×9 输入")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].splitlines() == ["三层 3×3", "公式 r=5，实测 5×5"]
    assert titles[1].splitlines()[0] == "算例"
    for text in figure_texts(fig):
        assert not ENGLISH_WORD.search(text.get_text()), text.get_text()
        assert font_file(text) == str(plots.cjk_font_path())
    assert draw_and_collect_glyph_warnings(fig) == []


def test_field_panels_en_is_english_in_the_default_font():
    maps, boxes = small_panels([i18n.message("three 3×3")])
    fig = fieldmaps.field_panels(maps, boxes, title="Gridding: gradient", lang="en")
    assert fig.axes[0].get_title() == "three 3×3\nformula r=5, measured 5×5"
    assert fig._suptitle.get_text() == "Gridding: gradient"
    for text in figure_texts(fig):
        assert not CJK.search(text.get_text())
        assert "DejaVu" in font_file(text)
    assert draw_and_collect_glyph_warnings(fig) == []


def erf_maps(size=21):
    cols = torch.arange(size) - size // 2
    blob = torch.exp(-(cols[:, None] ** 2 + cols[None, :] ** 2) / 8.0)
    return blob, blob.clone()


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_effective_field_figure_in_each_language(lang):
    random_map, ones_map = erf_maps()
    fig = fieldmaps.effective_field_figure(random_map, ones_map, 21, 2.0, 10, seeds=64,
                                           lang=lang)
    texts = [t.get_text() for t in figure_texts(fig)]
    chinese = [t for t in texts if CJK.search(t)]
    if lang == "en":
        assert not chinese
        assert "random weights + ReLU (mean of 64 seeds)" in texts
        assert "Gaussian, std 2.0 (random weights)" in texts
    else:
        assert len(chinese) == 9          # 2 panel titles, 4 legend entries, 2 labels, title
        assert "高斯曲线，标准差 2.0（随机权重）" in texts
        assert not any(ENGLISH_WORD.search(t.replace("ReLU", "")) for t in texts), texts
    assert draw_and_collect_glyph_warnings(fig) == []


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_photo_fields_in_each_language(lang):
    photo = torch.rand(60, 50, 3).numpy()
    fields = {"conv1_2": (20, 20, 5), "conv2_2": (15, 15, 14)}
    fig = fieldmaps.photo_fields(photo, fields, lang=lang)
    title = fig.axes[0].get_title()
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    if lang == "en":
        assert title == "Fields of one VGG-16 pixel at 2 depths (60×50 photo)"
        assert fig.axes[2].get_title() == "conv2_2\n14×14 pixels"
    else:
        assert CJK.search(title) and "60×50" in title and "photo" not in title
        assert fig.axes[2].get_title().splitlines() == ["conv2_2", "14×14 像素"]
        assert legend == ["conv1_2：r = 5", "conv2_2：r = 14"]
    assert draw_and_collect_glyph_warnings(fig) == []


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_image_grid_in_each_language(lang):
    grey = {"cmap": "gray"}
    rows = [[(i18n.message("photo"), torch.rand(6, 6), grey),
             (i18n.message("{name} edges", name=i18n.message("luminance")), torch.rand(6, 6),
              grey)],
            [(i18n.message("nearest"), torch.rand(6, 6), grey)]]
    fig = plots.image_grid(rows, "Grace Hopper photo (300×256), 3×3 Sobel per colour "
                           "direction, no padding", lang=lang)
    titles = [ax.get_title() for ax in fig.axes]
    expected = {"en": ["photo", "luminance edges", "nearest", ""],
                "zh_CN": ["照片", "亮度边缘", "最近邻", ""]}[lang]
    assert titles == expected
    assert fig.axes[0].images and not fig.axes[3].images and not fig.axes[3].axison
    suptitle = fig._suptitle.get_text()
    assert ("Sobel" in suptitle) and bool(CJK.search(suptitle)) == (lang == "zh_CN")
    assert draw_and_collect_glyph_warnings(fig) == []
    with pytest.raises(ValueError, match="non-empty"):
        plots.image_grid([], "t", lang=lang)
