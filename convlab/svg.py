"""The visual language of convlab's SVG figures: palette, primitives and the figure wrapper.

Every figure module (:mod:`convlab.draw`, :mod:`convlab.channel_window`, :mod:`convlab.objects`,
:mod:`convlab.backward_graph`, :mod:`convlab.explore`) draws with these: the Okabe–Ito palette and
the role of each colour (:data:`PALETTE`, :data:`ROLES`), grid cells of :data:`CELL` pixels,
accessible SVG documents (:func:`svg_doc`: ``role=img``, ``<title>``, ``<desc>``, enlarged by
:func:`figure_scale` up to the text column), captions (:func:`html_figure`, :class:`Figure`) and
the primitives (:func:`rect`, :func:`grid_lines`, :func:`cell_texts`, :func:`label`,
:func:`hatch` for zero padding). Numbers are formatted by :func:`num`; counted nouns
("2 channels") by :func:`counted`, in the language passed.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from convlab import i18n
from convlab.i18n import message as msg

#: Okabe–Ito colour-blind-safe palette (name -> hex colour).
PALETTE: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: What each colour means in every figure (colour is always paired with a label or pattern).
ROLES: dict[str, str] = {
    "input": PALETTE["sky_blue"],
    "kernel": PALETTE["orange"],
    "output": PALETTE["bluish_green"],
    "current": PALETTE["blue"],
    "cropped": PALETTE["vermillion"],
    "field": PALETTE["reddish_purple"],
    "padding": "#D9D9D9",
}

CELL = 26  # pixels per grid cell
GAP = 26  # pixels between grids
MARGIN = 8  # outer margin
TINT = {"kernel": "#FBE5B5", "current": "#CCE3F0", "output": "#CCEBE1", "input": "#E6F3FB",
         "field": "#F2D6E6"}
GREY_TEXT = "#666666"


def esc(text: Any) -> str:
    """Escape text for SVG/HTML content and single-quoted attributes."""
    return html.escape(str(text), quote=True)


def num(v: float | int | torch.Tensor) -> str:
    """Format a number for a figure: integers without a decimal point, others to 3 digits."""
    v = float(v)
    if v == int(v):
        return str(int(v))
    return f"{v:.3g}"


# The nouns convlab counts, in the forms other languages need: (one, several, none).
_COUNTED = {
    "channel": (msg("1 channel"), msg("{n} channels"), msg("no channels")),
    "kernel": (msg("1 kernel"), msg("{n} kernels"), msg("no kernels")),
    "input channel": (msg("1 input channel"), msg("{n} input channels"),
                      msg("no input channels")),
    "input pixel": (msg("1 input pixel"), msg("{n} input pixels"), msg("no input pixels")),
    "tap": (msg("1 tap"), msg("{n} taps"), msg("no taps")),
    "row/column": (msg("1 row/column"), msg("{n} rows/columns"), msg("no rows/columns")),
    "computed row/column": (msg("1 computed row/column"), msg("{n} computed rows/columns"),
                            msg("no computed rows/columns")),
    "zero": (msg("1 zero"), msg("{n} zeros"), msg("no zeros")),
    "storage": (msg("1 storage"), msg("{n} storages"), msg("no storages")),
}


def counted(n: int, singular: str, plural: str | None = None, *, lang: str = "en") -> str:
    """``n`` with the noun in singular or plural: ``1 zero``, ``2 zeros``, ``no zeros``.

    In another language the noun must be one of the counted nouns of this module (their
    translations are in the catalogue); an unknown noun stays English.
    """
    if i18n.check_language(lang) != i18n.ENGLISH and singular in _COUNTED:
        one, several, none = _COUNTED[singular]
        return i18n.render(one if n == 1 else several if n else none, lang, {"n": n})
    word = singular if n == 1 else (plural if plural is not None else singular + "s")
    return f"{n} {word}" if n else f"no {word}"


def text_width(text: str, size: int = 12) -> int:
    """A generous estimate of the width in pixels of ``text`` in a sans-serif font of ``size``
    pixels (used to make an SVG wide enough for its labels)."""
    return round(0.62 * size * i18n.display_width(text)) + 4


def factor(v: float) -> str:
    """A number inside a product: negative numbers in parentheses."""
    s = num(v)
    return f"({s})" if s.startswith("-") else s


@dataclass(frozen=True)
class Figure:
    """An SVG picture with a caption; a notebook cell shows it (SVG or HTML with caption)."""

    svg: str
    caption: str

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_html_(self) -> str:
        return html_figure(self.svg, self.caption)

    def __str__(self) -> str:
        return self.svg


def html_figure(svg: str, caption: str, frame: str | None = None, *, lang: str = "en") -> str:
    """Wrap an SVG and its visible caption in a ``<figure>``; ``frame`` sets ``data-frame``.

    A chapter's own English ``caption`` is shown in ``lang`` (a message id of the catalogue).
    """
    caption = i18n.translator(lang)(caption)
    attr = f" data-frame='{esc(frame)}'" if frame is not None else ""
    # inline styles win over a theme's figure/figcaption styles (padding, centring, colour),
    # which would shift an explorer layer away from the layers it is drawn over
    return (
        f"<figure class='convlab-figure'{attr} style='margin:0;padding:0'>{svg}"
        f"<figcaption style='margin:0;padding:2px 0;text-align:left;font-size:13px;"
        f"line-height:1.4;max-width:640px;color:#111;background:#fff'>{esc(caption)}"
        "</figcaption></figure>"
    )


#: Width in pixels of the book's text column: small figures are drawn larger, up to this width.
COLUMN = 740
#: How much a figure is enlarged at most (and at least: 12 px text shows at ≥ 13 px).
MAX_SCALE, MIN_SCALE = 1.4, 1.1


def figure_scale(width: int) -> float:
    """Display scale of an SVG ``width`` pixels wide (its coordinates stay unscaled, in the
    ``viewBox``): enlarged towards :data:`COLUMN`, by :data:`MIN_SCALE` … :data:`MAX_SCALE`.
    Layers of one explorer picture have the same width, hence the same scale."""
    return min(MAX_SCALE, max(MIN_SCALE, COLUMN / width))


def svg_doc(width: int, height: int, title: str, desc: str, body: str,
            standalone: bool = True, background: str | None = "#fff") -> str:
    """An accessible SVG (role img, ``<title>`` and, if given, ``<desc>``).

    ``width`` × ``height`` is the drawing's coordinate system (its ``viewBox``); it is shown
    enlarged by :func:`figure_scale` (the ``width``/``height`` attributes), and never wider
    than its container (``max-width:100%``, the height follows). ``standalone`` adds the XML
    namespace (needed outside HTML); ``background=None`` leaves it transparent, for a layer
    drawn over another one (explorers).
    """
    d = f"<desc>{esc(desc)}</desc>" if desc else ""
    ns = "xmlns='http://www.w3.org/2000/svg' " if standalone else ""
    bg = f";background:{background}" if background else ""
    scale = figure_scale(width)
    return (
        f"<svg {ns}width='{round(width * scale)}' height='{round(height * scale)}' "
        f"viewBox='0 0 {width} {height}' role='img' font-family='sans-serif' font-size='12' "
        f"text-anchor='middle' style='display:block;max-width:100%;height:auto{bg}'>"
        f"<title>{esc(title)}</title>{d}{body}</svg>"
    )


def rect(x: int, y: int, w: int, h: int, fill: str = "none", stroke: str = "none",
         extra: str = "") -> str:
    """A rectangle; ``extra`` is appended to its attributes (e.g. a dash pattern)."""
    s = f" stroke='{stroke}'" if stroke != "none" else ""
    return f"<rect x='{x}' y='{y}' width='{w}' height='{h}' fill='{fill}'{s}{extra}/>"


def grid_lines(x: int, y: int, rows: int, cols: int, cell: int = CELL,
               stroke: str = "#999") -> str:
    """Grid lines of a rows x cols grid as one path."""
    w, h = cols * cell, rows * cell
    d = "".join(f"M{x} {y + r * cell}h{w}" for r in range(rows + 1))
    d += "".join(f"M{x + c * cell} {y}v{h}" for c in range(cols + 1))
    return f"<path d='{d}' stroke='{stroke}' fill='none'/>"


def cell_texts(x: int, y: int, values: Sequence[Sequence[str]], cell: int = CELL,
               fill: str | None = None, size: int | None = None) -> str:
    """Cell values centred in their cells, one ``<text>`` per row: every character gets its
    own x position (numbers are separated by a space so that they are read as numbers)."""
    out = []
    attrs = (f" fill='{fill}'" if fill else "") + (f" font-size='{size}'" if size else "")
    step = round(0.58 * (size or 12))
    for r, row in enumerate(values):
        xs: list[str] = []
        chars: list[str] = []
        for c, v in enumerate(row):
            if not v:
                continue
            if chars:
                xs.append(str(x + c * cell))
                chars.append(" ")
            centre = x + c * cell + cell // 2
            first = centre - step * (len(v) - 1) / 2
            xs += [str(round(first + step * j)) for j in range(len(v))]
            chars += list(v)
        if chars:
            ty = y + r * cell + cell // 2 + 4
            out.append(f"<text x='{' '.join(xs)}' y='{ty}'{attrs}>{esc(''.join(chars))}</text>")
    return "".join(out)


def label(x: int, y: int, text: str, anchor: str = "start", extra: str = "") -> str:
    """A text label at ``(x, y)`` (escaped), anchored at its start unless told otherwise."""
    a = "" if anchor == "middle" else f" text-anchor='{anchor}'"
    return f"<text x='{x}' y='{y}'{a}{extra}>{esc(text)}</text>"


def hatch_d(x: int, y: int, cells: Sequence[tuple[int, int]], cell: int = CELL) -> str:
    """Path data of the hatch pattern: in each cell two short diagonal strokes across the
    top-left and bottom-right corners, parallel to the cell's diagonal, leaving the middle
    (where a cell's number is written) clear."""
    a = round(cell * 0.35)
    b = cell - a
    return "".join(f"M{x + c * cell} {y + r * cell + a}l{a} -{a}"
                   f"M{x + c * cell + b} {y + r * cell + cell}l{a} -{a}" for r, c in cells)


def hatch(x: int, y: int, cells: Sequence[tuple[int, int]], cell: int = CELL) -> str:
    """Grey cells with a corner hatch each (the zero-padding pattern, :func:`hatch_d`)."""
    if not cells:
        return ""
    fill = "".join(f"M{x + c * cell} {y + r * cell}h{cell}v{cell}h-{cell}z" for r, c in cells)
    hatch = hatch_d(x, y, cells, cell)
    return (f"<path d='{fill}' fill='{ROLES['padding']}'/>"
            f"<path d='{hatch}' stroke='#B3B3B3'/>")


def matrix(t: torch.Tensor) -> list[list[str]]:
    """A 2-D tensor's values as figure strings (:func:`num`), row by row."""
    return [[num(v) for v in row] for row in t.tolist()]
