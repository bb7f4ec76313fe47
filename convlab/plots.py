"""matplotlib figures in the book's language: a CJK font for Chinese; grids of images (ch2, ch5).

Every text a matplotlib figure shows comes from convlab in the language the chapter passes
(``lang=LANG``), with the English text as the message id (:mod:`convlab.i18n`). Chinese needs a
font with CJK glyphs, and the build machine has none (matplotlib ships only DejaVu, which has no
Chinese: every character would be a box and a "Glyph … missing" warning). The font comes from the
PyPI package ``noto-cjk-sans-otc`` (Noto Sans CJK, SIL Open Font License 1.1; pinned in
requirements.txt), so a fresh machine needs no system font.

:func:`figure_font` is the one place that chooses the font: a context manager around the code
that *creates* a figure's texts. For English it changes nothing; for Chinese it registers the
font file with matplotlib's font manager (once; importing convlab registers nothing) and sets
``font.family`` only inside the ``with`` block (``matplotlib.rc_context``), so the Chinese
family is stored in each text's font properties and is used when the figure is drawn later
(``plt.show()``), while ``rcParams`` outside the block stay as they were.

:func:`image_grid` draws rows of images with translated titles; chapters 2 and 5 pass their
panels to it instead of composing the texts in a code cell.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from convlab import i18n

FONT_PACKAGE = "noto-cjk-sans-otc"
"""The PyPI package that ships the CJK font (pinned in requirements.txt)."""

FONT_FILE = "NotoSansCJK-Regular.ttc"

FAMILIES = {"zh_CN": "Noto Sans CJK SC"}
"""The font family each non-English language draws with (a face of :data:`FONT_FILE`)."""

FALLBACK = "DejaVu Sans"
"""matplotlib's own font, after the CJK one in ``font.family`` (glyphs the CJK font lacks)."""


def cjk_font_path() -> Path:
    """The Noto Sans CJK collection from :data:`FONT_PACKAGE`; a clear error if it is missing."""
    from importlib import resources

    try:
        path = Path(str(resources.files("noto_cjk_sans_otc").joinpath(FONT_FILE)))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.is_file():
        raise RuntimeError(
            f"the Chinese figures need the font {FONT_FILE} (Noto Sans CJK) from the Python "
            f"package {FONT_PACKAGE}, which is not installed: run "
            f"'pip install -r requirements.txt' (it pins {FONT_PACKAGE})")
    return path


def font_family(lang: str) -> str | None:
    """The family figures in ``lang`` are drawn with; ``None`` for English (matplotlib's default).

    For a language with a family, registers :func:`cjk_font_path` with matplotlib's font manager
    the first time (the font manager keeps it; asking again adds nothing).
    """
    if i18n.check_language(lang) == i18n.ENGLISH:
        return None
    from matplotlib import font_manager

    path = str(cjk_font_path())
    manager = font_manager.fontManager
    if not any(entry.fname == path for entry in manager.ttflist):
        manager.addfont(path)
    return FAMILIES[lang]


@contextmanager
def figure_font(lang: str) -> Iterator[str | None]:
    """Texts created inside the block are drawn in ``lang``'s font (nothing changes for English).

    Yields the family name (or ``None``). Create the figure *and* its texts inside the block.
    """
    family = font_family(lang)
    if family is None:
        yield None
        return
    import matplotlib.pyplot as plt

    with plt.rc_context({"font.family": [family, FALLBACK]}):
        yield family


def as_array(image: Any) -> Any:
    """A tensor as a NumPy array (what matplotlib draws); anything else unchanged."""
    import torch

    if isinstance(image, torch.Tensor):
        return image.detach().cpu().numpy()
    return image


Panel = tuple[Any, Any, Mapping[str, Any]]
"""One image of :func:`image_grid`: ``(title, image, imshow options)``."""


def image_grid(rows: Sequence[Sequence[Panel]], title: Any, *, lang: str = i18n.ENGLISH,
               figsize: tuple[float, float] | None = None, title_size: float = 10,
               layout: str = "constrained") -> Any:
    """Rows of images, each with a title, under one figure title, in ``lang`` (ch2, ch5).

    Each panel is ``(title, image, options)``: the title an English text or an
    :func:`convlab.i18n.message` template with its fields (translated into ``lang``), the image
    anything ``Axes.imshow`` accepts (a tensor ``[H, W]`` or ``[H, W, 3]``), ``options`` the
    keyword arguments of ``imshow`` (``cmap``, ``vmin``, ...). Axes are hidden. Returns the
    matplotlib ``Figure`` (the caller shows it with ``plt.show()``).
    """
    import matplotlib.pyplot as plt

    _ = i18n.translator(lang)
    if not rows or not all(rows):
        raise ValueError("rows must be a non-empty list of non-empty rows of panels")
    ncols = max(len(row) for row in rows)
    with figure_font(lang):
        fig, axes = plt.subplots(len(rows), ncols, figsize=figsize, squeeze=False,
                                 layout=layout)
        for ax_row, row in zip(axes, rows, strict=False):
            for ax, (name, image, options) in zip(ax_row, row, strict=False):
                ax.imshow(as_array(image), **dict(options))
                ax.set_title(_(name), fontsize=title_size)
            for ax in ax_row:
                ax.set_axis_off()
        fig.suptitle(_(title), fontsize=title_size)
    return fig


__all__ = ["FALLBACK", "FAMILIES", "FONT_FILE", "FONT_PACKAGE", "Panel", "as_array",
           "cjk_font_path", "figure_font", "font_family", "image_grid"]
