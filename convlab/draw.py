"""Figures for the course: compact inline SVG in one colour-blind-safe visual language.

Every picture is built from numbers computed here by PyTorch (``torch.nn.functional``) or by
the tested :mod:`convlab.arithmetic` functions; nothing is typed in by hand. The visual language
is the same in every chapter and every explorer:

* colours come from the Okabe–Ito palette (:data:`PALETTE`), and colour is never the only cue:
  each role also has a label, a line style or a pattern;
* input cells are white with their values; **zero padding** is grey, hatched with a diagonal
  line, its zeros written in grey, and labelled "zero padding";
* the **kernel window** is a thick dashed orange outline; the cells the kernel actually reads
  (with dilation there are gaps) get a solid orange frame;
* the **output cell** being computed is filled light blue with a thick blue border, and the
  multiply-add that produced it is written out ("1·0 + 2·1 + … = 14");
* every figure has an SVG ``<title>``/``<desc>`` and a visible caption stating the parameters and
  the resulting sizes.

Functions return :class:`Figure` objects, which a notebook cell shows directly. Chapters: ch1
(:func:`conv_window`, :func:`unreached_pixels`), ch2 (:func:`kernel_stack`), ch3
(:func:`output_pixel_gradient`, :class:`GradientScene`), ch4
(:func:`receptive_fields`), ch5 (:func:`transposed_scatter`, :func:`stride_zero_insertion`,
:func:`overlap_heatmap`); :func:`photo` and :func:`photo_conv` show a real photograph (ch1).
The explorers in :mod:`convlab.explore` reuse the scene builders below frame by frame.
The palette, the primitives (cells, labels, hatching) and the figure wrapper are in
:mod:`convlab.svg`, shared with the other figure modules.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from convlab import i18n
from convlab.arithmetic import (
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    receptive_field,
)
from convlab.svg import (
    CELL,
    GAP,
    GREY_TEXT,
    MARGIN,
    PALETTE,
    ROLES,
    TINT,
    Figure,
    cell_texts,
    counted,
    esc,
    factor,
    grid_lines,
    hatch,
    hatch_d,
    label,
    matrix,
    num,
    rect,
    svg_doc,
    text_width,
)

# Chapters write captioned HTML figures with draw.html_figure (the explicit re-export form):
from convlab.svg import html_figure as html_figure

# ---------------------------------------------------------------------------------------------
# Example data (deterministic, small integers so the arithmetic can be read)
# ---------------------------------------------------------------------------------------------


def example_input(i: int) -> torch.Tensor:
    """An ``i x i`` input of small integers 0..4 (a diagonal pattern) used by the figures."""
    r = torch.arange(i).view(-1, 1)
    c = torch.arange(i).view(1, -1)
    return ((3 * r + c) % 5).to(torch.float32)


def example_kernel(k: int) -> torch.Tensor:
    """A ``k x k`` kernel of small integers 0..2 used by the figures (never all zero)."""
    r = torch.arange(k).view(-1, 1)
    c = torch.arange(k).view(1, -1)
    return ((r + 2 * c + 1) % 3).to(torch.float32)


# ---------------------------------------------------------------------------------------------
# ch1: the convolution window
# ---------------------------------------------------------------------------------------------


def output_size_formula(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> str:
    """The output-size formula with the numbers substituted and the value from
    :func:`convlab.conv_output_size` (raises its ``ValueError`` if the kernel does not fit).

    With ``d = 1`` it is ch1's undilated ``o = ⌊(i+2p−k)/s⌋+1`` (dilation is taught later in
    ch1, so a figure without dilation never shows it); only ``d > 1`` gives the dilated
    ``o = ⌊(i+2p−d(k−1)−1)/s⌋+1``. ``explorers.js`` writes the same text.
    """
    o = conv_output_size(i, k, s, p, d)
    general = "o = ⌊(i+2p−k)/s⌋+1" if d == 1 else "o = ⌊(i+2p−d(k−1)−1)/s⌋+1"
    return (f"{general} = {_substituted(i, k, s, p, d)} "
            f"= ⌊{i + 2 * p - d * (k - 1) - 1}/{s}⌋+1 = {o}")


def _substituted(i: int, k: int, s: int, p: int, d: int) -> str:
    """The numbers in :func:`output_size_formula`'s form: ``⌊(i+2·p−k)/s⌋+1`` for ``d = 1``,
    ``⌊(i+2·p−d·(k−1)−1)/s⌋+1`` for ``d > 1``."""
    if d == 1:
        return f"⌊({i}+2·{p}−{k})/{s}⌋+1"
    return f"⌊({i}+2·{p}−{d}·({k}−1)−1)/{s}⌋+1"


class _GridScene:
    """What the convolution pictures share (ch1 ConvScene, ch3 GradientScene): the parameters,
    the output size from :func:`convlab.conv_output_size` (its ``ValueError`` raised, or with
    ``strict=False`` kept in ``error``), and the layout of the padded-input, kernel and output
    grids. ``fit`` = (largest padded input, kernel, output) of a series of scenes drawn at the
    same size, so that parts that do not depend on i are identical across i (explorers).
    Subclasses set the kernel ``w`` that :meth:`kernel_part` draws.
    """

    w: torch.Tensor

    def __init__(self, i: int, k: int, s: int, p: int, d: int,
                 fit: tuple[int, int, int] | None, strict: bool, lang: str = "en") -> None:
        self.i, self.k, self.s, self.p, self.d = i, k, s, p, d
        self.lang, self._ = lang, i18n.translator(lang)  # the language of the texts
        self.error = ""
        try:
            self.o = conv_output_size(i, k, s, p, d)
        except ValueError as err:
            if strict:
                raise
            self.error, self.o = str(err), 0
        self.n = i + 2 * p
        fit_n, fit_k, fit_o = fit if fit is not None else (self.n, k, self.o)
        self.ix, self.text_y, self.top = MARGIN, 16, 56
        self.kx = self.ix + fit_n * CELL + GAP
        self.ox = self.kx + fit_k * CELL + GAP + 10
        self.width = max(self.ox + fit_o * CELL + MARGIN, 560)
        self.height = self.top + max(fit_n, fit_k, fit_o) * CELL + 20

    @property
    def params(self) -> str:
        return f"i={self.i} k={self.k} s={self.s} p={self.p} d={self.d}"

    def svg(self, body: str, title: str, desc: str = "", layer: str = "") -> str:
        """This scene's SVG around ``body``; ``layer`` is ``""`` for a standalone picture,
        ``"bottom"`` or ``"top"`` for an explorer layer (inline, opaque or transparent)."""
        return svg_doc(self.width, self.height, title, desc, body, standalone=not layer,
                       background=None if layer == "top" else "#fff")

    def kernel_part(self) -> str:
        """SVG body: the kernel with its weights (depends on k only)."""
        k, top = self.k, self.top
        return "".join([label(self.kx, top - 8, self._("kernel {k}×{k}", k=k)),
                        rect(self.kx, top, k * CELL, k * CELL, fill=TINT["kernel"]),
                        grid_lines(self.kx, top, k, k, stroke=ROLES["kernel"]),
                        cell_texts(self.kx, top, matrix(self.w))])


class ConvScene(_GridScene):
    """One convolution configuration laid out as input (padded), kernel and output grids (ch1).

    ``base()`` is the part that does not depend on the output position (made of
    ``input_part()``, ``kernel_part()`` and ``output_part()``, which an explorer can also show as
    separate layers); ``overlay(row, col)`` draws the window, the current output cell and its
    multiply-add on top (same size). Output values come from ``F.conv2d``; the size from
    :func:`convlab.conv_output_size`, whose ``ValueError`` is raised for a kernel that does not
    fit — or, with ``strict=False``, kept in ``error`` (then only the input and kernel parts
    can be drawn).
    """

    def __init__(self, i: int, k: int, s: int = 1, p: int = 0, d: int = 1,
                 x: torch.Tensor | None = None, w: torch.Tensor | None = None,
                 fit: tuple[int, int, int] | None = None, strict: bool = True,
                 lang: str = "en") -> None:
        super().__init__(i, k, s, p, d, fit, strict, lang)
        self.x = example_input(i) if x is None else x.to(torch.float32)
        self.w = example_kernel(k) if w is None else w.to(torch.float32)
        self.xp = F.pad(self.x, (p, p, p, p))
        if not self.error:
            self.y = F.conv2d(self.x[None, None], self.w[None, None], stride=s, padding=p,
                              dilation=d)[0, 0]
            if tuple(self.y.shape) != (self.o, self.o):
                raise AssertionError(f"F.conv2d gave {tuple(self.y.shape)}, formula {self.o}")

    @property
    def caption(self) -> str:
        span = self.d * (self.k - 1) + 1
        padding = (self._("zero padding p={p} (grey, hatched)", p=self.p) if self.p
                   else self._("no padding (p=0)"))
        kernel = self._("kernel {k}×{k}", k=self.k) + (
            self._(" with dilation {d} (window spans {span}×{span})",
                   d=self.d, span=span) if self.d > 1 else "")
        return (self._("Input {i}×{i} with {padding}, {kernel}, stride {s}; each output value is "
                       "the window's inputs multiplied elementwise by the kernel and summed (⋆ = "
                       "cross-correlation) → output {o}×{o}; ",
                  i=self.i, padding=padding, kernel=kernel, s=self.s, o=self.o)
                + output_size_formula(self.i, self.k, self.s, self.p, self.d))

    def base(self) -> str:
        """SVG body: grids with values and labels, no window."""
        return self.input_part() + self.kernel_part() + self.output_part()

    def input_part(self) -> str:
        """SVG body: the padded input with its values (depends on i and p only)."""
        n, p, top = self.n, self.p, self.top
        parts = [label(self.ix, top - 8, self._("input {i}×{i}", i=self.i)
                        + (self._(", padded to {n}×{n}", n=n) if p else "")),
                 rect(self.ix, top, n * CELL, n * CELL, fill="#fff")]
        pad_cells = [(r, c) for r in range(n) for c in range(n)
                     if r < p or c < p or r >= n - p or c >= n - p]
        parts.append(hatch(self.ix, top, pad_cells))
        vals = matrix(self.xp)
        inner = [[v if p <= r < n - p and p <= c < n - p else "" for c, v in enumerate(row)]
                 for r, row in enumerate(vals)]
        padding = set(pad_cells)
        zeros = [["0" if (r, c) in padding else "" for c in range(n)] for r in range(n)]
        parts += [grid_lines(self.ix, top, n, n), cell_texts(self.ix, top, inner),
                  cell_texts(self.ix, top, zeros, fill=GREY_TEXT)]
        if p:
            parts.append(label(self.ix, top + n * CELL + 14, self._("grey hatched = zero padding"),
                                extra=f" font-size='11' fill='{GREY_TEXT}'"))
        return "".join(parts)

    def kernel_part(self) -> str:
        """SVG body: the kernel with its weights and ⋆ (cross-correlation) before it."""
        return super().kernel_part() + (f"<text x='{self.kx - GAP // 2}' y='{self.top + 20}' "
                                         "font-size='22'>⋆</text>")

    def output_part(self) -> str:
        """SVG body: the output grid with the values from ``F.conv2d``."""
        if self.error:
            return label(self.ox, self.top - 8, self._("no output"),
                          extra=f" fill='{ROLES['cropped']}'")
        o, top = self.o, self.top
        return "".join([label(self.ox, top - 8, self._("output {o}×{o}", o=o)),
                        rect(self.ox, top, o * CELL, o * CELL, fill=TINT["output"]),
                        grid_lines(self.ox, top, o, o, stroke=ROLES["output"]),
                        cell_texts(self.ox, top, matrix(self.y)),
                        f"<text x='{self.ox - GAP // 2 - 5}' y='{top + 16}'>=</text>"])

    def terms(self, row: int, col: int) -> list[tuple[float, float]]:
        """(weight, input value) pairs that make output cell (row, col)."""
        out = []
        for u in range(self.k):
            for v in range(self.k):
                a = float(self.w[u, v])
                b = float(self.xp[row * self.s + self.d * u, col * self.s + self.d * v])
                out.append((a, b))
        return out

    def arithmetic(self, row: int, col: int) -> str:
        """``y[r,c] = w·x + … = value`` with the value taken from ``F.conv2d``."""
        terms = " + ".join(f"{factor(a)}·{factor(b)}" for a, b in self.terms(row, col))
        return f"y[{row},{col}] = {terms} = {num(self.y[row, col])}"

    def overlay(self, row: int, col: int) -> str:
        """SVG body: window at output (row, col), taps, highlighted output cell, arithmetic."""
        if not (0 <= row < self.o and 0 <= col < self.o):
            return label(self.ix, self.text_y,
                          self._("Output cell ({row}, {col}) does not exist: the output is "
                                 "only {o}×{o}. Move the position slider back.", row=row,
                                 col=col, o=self.o),
                          extra=f" fill='{ROLES['cropped']}' font-weight='bold'")
        k, d, s, top = self.k, self.d, self.s, self.top
        span = d * (k - 1) + 1
        x0, y0 = self.ix + col * s * CELL, top + row * s * CELL
        taps = "".join(f"M{x0 + v * d * CELL + 2} {y0 + u * d * CELL + 2}h{CELL - 4}v{CELL - 4}"
                       f"h-{CELL - 4}z" for u in range(k) for v in range(k))
        ox, oy = self.ox + col * CELL, top + row * CELL
        text = self.arithmetic(row, col)
        size = 12 if len(text) < 80 else 11
        return (f"<path d='{taps}' fill='none' stroke='{ROLES['kernel']}' stroke-width='2'/>"
                + rect(x0, y0, span * CELL, span * CELL, stroke=ROLES["kernel"],
                        extra=" stroke-width='3' stroke-dasharray='6 3'")
                + rect(ox, oy, CELL, CELL, fill=TINT["current"], stroke=ROLES["current"],
                        extra=" stroke-width='3'")
                + cell_texts(ox, oy, [[num(self.y[row, col])]])  # the value, over its fill
                + label(self.ix, self.text_y, text, extra=f" font-size='{size}'"))

    def figure(self, row: int = 0, col: int = 0) -> Figure:
        """The whole picture (base and overlay) as one figure."""
        title = self._("Convolution {params}: output {o}×{o}", params=self.params, o=self.o)
        desc = self.caption + (" " + self.arithmetic(row, col)
                               if row < self.o and col < self.o else "")
        return Figure(self.svg(self.base() + self.overlay(row, col), title, desc),
                      self.caption + self._(". Window at output ({row}, {col}).", row=row, col=col))


def conv_window(i: int = 5, k: int = 3, s: int = 1, p: int = 0, d: int = 1,
                position: tuple[int, int] = (0, 0), x: torch.Tensor | None = None,
                w: torch.Tensor | None = None, *, lang: str = "en") -> Figure:
    """Input (with hatched zero padding), kernel window at output ``position`` (with dilation
    gaps), output grid with that cell highlighted and its multiply-add written out (ch1).

    ``x`` (``i x i``) and ``w`` (``k x k``) default to :func:`example_input`/:func:`example_kernel`.
    Raises ``ValueError`` (from :func:`convlab.conv_output_size`) if the kernel does not fit.
    """
    if x is not None:
        i = int(x.shape[-1])
    if w is not None:
        k = int(w.shape[-1])
    return ConvScene(i, k, s, p, d, x, w, lang=lang).figure(*position)


# ---------------------------------------------------------------------------------------------
# ch1: what a strided window never reaches (why the formula has a floor)
# ---------------------------------------------------------------------------------------------


def _rows_and_columns(n: int, *, lang: str = "en") -> str:
    """``row and column`` for 1, ``2 rows and columns`` for 2 (singular or plural)."""
    _ = i18n.translator(lang)
    return _("row and column") if n == 1 else _("{n} rows and columns", n=n)


def unreached_pixels(i: int = 6, k: int = 3, s: int = 2, p: int = 0, d: int = 1, *,
                     lang: str = "en") -> Figure:
    """Padded input where every cell some window reads is marked, and the rows/columns no
    window reaches are hatched in vermillion: the floor in ``o = ⌊(i+2p−k)/s⌋+1`` (ch1; the
    label shows the dilated formula only for ``d > 1``, see :func:`output_size_formula`).

    Coverage is measured with PyTorch: the gradient of ``F.conv2d`` with a ones kernel is
    non-zero exactly at the pixels some window reads.
    """
    _ = i18n.translator(lang)
    o = conv_output_size(i, k, s, p, d)
    n = i + 2 * p
    xp = torch.zeros(1, 1, n, n, requires_grad=True)
    F.conv2d(xp, torch.ones(1, 1, k, k), stride=s, dilation=d).sum().backward()
    reads = xp.grad[0, 0]
    unreached = [(r, c) for r in range(n) for c in range(n) if reads[r, c] == 0]
    top = 36
    grid = _("padded input {n}×{n}", n=n) if p else _("input {n}×{n}", n=n)
    parts = [label(MARGIN, 14, _("{grid}: number = how many windows read the cell", grid=grid)),
             rect(MARGIN, top, n * CELL, n * CELL, fill=TINT["input"])]
    if unreached:
        fill = "".join(f"M{MARGIN + c * CELL} {top + r * CELL}h{CELL}v{CELL}h-{CELL}z"
                       for r, c in unreached)
        hatch_path = hatch_d(MARGIN, top, unreached)
        parts.append(f"<path d='{fill}' fill='#F6D5C0'/><path d='{hatch_path}' "
                     f"stroke='{ROLES['cropped']}'/>")
    parts += [grid_lines(MARGIN, top, n, n), cell_texts(MARGIN, top, matrix(reads))]
    span = d * (k - 1) + 1
    lost = n - ((o - 1) * s + span)
    formula = f"o = {_substituted(i, k, s, p, d)} = {o}"
    if lost:
        last = _rows_and_columns(lost, lang=lang)
        text = _("{formula}; the last {last} (hatched, 0 windows) are never read",
                 formula=formula, last=last)
        reach = _("the last {last} at the bottom/right are never reached", last=last)
    else:
        text = _("{formula}; the windows reach the last row and column", formula=formula)
        reach = _("they reach the last row and column: the floor drops nothing here")
    interior = [c for c in range(n - lost) if float(reads[:, c].sum()) == 0]
    gaps = ""
    if interior:
        where = ", ".join(str(c) for c in interior)
        more = _("1 more row and column") if len(interior) == 1 else (
            _("{n_interior} more rows and columns", n_interior=len(interior)))
        gaps = (_(" {more} inside (at {where}) are skipped too: the stride or the dilation "
                  "gaps jump over them.", more=more, where=where))
    parts.append(label(MARGIN, top + n * CELL + 20, text))
    width = max(MARGIN * 2 + n * CELL, 8 * len(text))
    caption = (_("Input {i}×{i}, padding {p}, kernel {k}, stride {s}, dilation {d}: output "
                 "{o}×{o}. Windows start every {s} cells; {reach}",
                 i=i, p=p, k=k, s=s, d=d, o=o, reach=reach)
               + (_(", which is what the floor drops.") if lost else ".") + gaps)
    svg = svg_doc(width, top + n * CELL + 32, _("Pixels a stride-{s} window never reaches", s=s),
                  caption, "".join(parts))
    return Figure(svg, caption)


# ---------------------------------------------------------------------------------------------
# ch2: multi-channel input and one kernel per output channel
# ---------------------------------------------------------------------------------------------


def _stack_of(x: int, y: int, size: int, count: int, fill: str, stroke: str,
              cells: int = 0, off: int = 6) -> str:
    """``count`` squares of side ``size`` offset diagonally by ``off`` (a channel stack), the
    front one (index 0) drawn last."""
    parts = []
    for j in reversed(range(count)):
        sx, sy = x + j * off, y + j * off
        parts.append(rect(sx, sy, size, size, fill=fill, stroke=stroke))
        if cells > 1 and j == 0:
            parts.append(grid_lines(sx, sy, cells, cells, cell=size // cells, stroke=stroke))
    return "".join(parts)


def param_count_text(c_in: int, c_out: int, k: int, *, lang: str = "en") -> tuple[str, int, int]:
    """(``C_out·(C_in·k·k+1) = … = n``, n from :func:`convlab.conv_params`, PyTorch's count)."""
    _ = i18n.translator(lang)
    n = conv_params(c_in, c_out, k)
    torch_n = sum(t.numel() for t in torch.nn.Conv2d(c_in, c_out, k).parameters())
    text = _("parameters = C_out·(C_in·k·k+1) = {c_out}·({c_in}·{k}·{k}+1) = {n}",
             c_out=c_out, c_in=c_in, k=k, n=n)
    return text, n, torch_n


def kernel_stack(c_in: int = 3, c_out: int = 2, k: int = 3, desc: bool = True, *,
                 lang: str = "en") -> Figure:
    """A ``C_in``-channel input, ``C_out`` kernels of shape ``C_in × k × k`` (each with one
    bias), and the ``C_out`` output channels, one per kernel; with the parameter count from
    :func:`convlab.conv_params` checked against ``nn.Conv2d`` (ch2).

    Labels count from 0 like PyTorch: "kernel 0 = weight[0], bias b[0]" is ``conv.weight[0]``
    and ``conv.bias[0]``, "out 0" is output channel 0, "c0" is input channel 0. ``desc=False``
    leaves the caption out of the SVG ``<desc>`` (the visible caption is the figure's
    ``caption``, shown under the SVG by :func:`html_figure`)."""
    _ = i18n.translator(lang)
    text, n, torch_n = param_count_text(c_in, c_out, k, lang=lang)
    big = " font-size='14'"
    kc = 12  # kernel cell size
    ksz = k * kc
    off_in = 16  # input channels are offset this much: their labels (font 12) do not touch
    row_h = max(ksz + 6 * (c_in - 1), 44) + 26
    top = 44
    kx, ox = 210, 600
    parts = [label(MARGIN, 18, _("input: {counted}",
                              counted=counted(c_in, 'channel', lang=lang)), extra=big),
             label(kx, 18, _("{counted}, each {c_in}×{k}×{k}",
                              counted=counted(c_out, 'kernel', lang=lang), c_in=c_in, k=k),
                              extra=big),
             label(ox - 30, 18, _("output: {counted}",
                                   counted=counted(c_out, 'channel', lang=lang)), extra=big)]
    parts.append(_stack_of(MARGIN + 10, top, 80, c_in, TINT["input"], ROLES["input"], cells=4,
                           off=off_in))
    for j in range(c_in):
        parts.append(label(MARGIN + 10 + 80 + j * off_in + 4, top + j * off_in + 12, f"c{j}"))
    for o in range(c_out):
        y = top + o * row_h
        parts.append(_stack_of(kx, y, ksz, c_in, TINT["kernel"], ROLES["kernel"], cells=k))
        parts.append(label(kx + ksz + 6 * (c_in - 1) + 10, y + 14,
                            _("kernel {o} = weight[{o}], bias b[{o}]",
                              o=o), extra=" font-size='13'"))
        oy = y + 4
        parts.append(rect(ox, oy, 48, 40, fill=TINT["output"], stroke=ROLES["output"]))
        parts.append(label(ox + 24, oy + 25, _("out {o}", o=o), anchor="middle",
                            extra=" font-size='13'"))
        parts.append(f"<path d='M{ox - 30} {oy + 20}h24m-5 -4l5 4l-5 4' stroke='#555' "
                     "fill='none'/>")
    height = top + max(c_out * row_h, 80 + off_in * (c_in - 1) + 10) + 50
    check = "equal" if n == torch_n else "DIFFERENT"
    parts.append(label(MARGIN, height - 30, text, extra=big))
    parts.append(label(MARGIN, height - 10, _("nn.Conv2d({c_in}, {c_out}, {k}) has {torch_n} "
                                           "parameters: {check}",
                                           c_in=c_in, c_out=c_out, k=k, torch_n=torch_n,
                                           check=check), extra=big))
    kernels = counted(c_out, "kernel", lang=lang)
    caption = (_("C_in={c_in}, C_out={c_out}, k={k}: each of the {kernels} (numbered from 0, "
                 "like conv.weight[0]) covers all {counted} and makes one output channel; "
                 "{text}.",
                 c_in=c_in, c_out=c_out, k=k, kernels=kernels,
                 counted=counted(c_in, 'input channel', lang=lang), text=text))
    width = max(ox + 48, ox - 30 + text_width(_("output: {counted}",
                                                counted=counted(c_out, 'channel', lang=lang)), 14),
                MARGIN + text_width(text, 14)) + MARGIN
    svg = svg_doc(width, height, _("Kernel stack C_in={c_in} C_out={c_out} k={k}",
                                   c_in=c_in, c_out=c_out, k=k),
                  caption if desc else "", "".join(parts))
    return Figure(svg, caption)


# ---------------------------------------------------------------------------------------------
# ch3: backpropagating from one output pixel
# ---------------------------------------------------------------------------------------------


def gradient_kernel(k: int) -> torch.Tensor:
    """The ``k x k`` kernel of the gradient pictures (ch3): weights 1, 2, …, k² row by row
    (float64). All weights differ and none is 0, so every pixel a tap reads gets a non-zero
    gradient, and the gradient's value names the weight that touched it."""
    return torch.arange(1, k * k + 1, dtype=torch.float64).view(k, k)


def pixel_gradient(i: int, w: torch.Tensor, s: int = 1, p: int = 0, d: int = 1,
                   position: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """``∂y[row, col] / ∂x`` (shape ``[i, i]``, float64) for ``y = F.conv2d(x, w, stride=s,
    padding=p, dilation=d)`` on an ``i x i`` input, by ``torch.autograd.grad`` of that one output
    pixel (ch3). ``w`` is a ``k x k`` kernel. Raises ``ValueError`` if the kernel does not fit
    (from :func:`convlab.conv_output_size`) or the position is outside the output."""
    k = int(w.shape[-1])
    o = conv_output_size(i, k, s, p, d)
    row, col = position
    if not (0 <= row < o and 0 <= col < o):
        raise ValueError(f"output pixel ({row}, {col}) does not exist: the output is {o}×{o} "
                         f"(rows and columns 0…{o - 1})")
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 1, i, i, generator=gen, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(x, w.to(torch.float64)[None, None], stride=s, padding=p, dilation=d)
    (grad,) = torch.autograd.grad(y[0, 0, row, col], x)
    return grad[0, 0]


class GradientScene(_GridScene):
    """Backpropagation from one output pixel of a convolution (ch3): the padded input with the
    pixels that receive a gradient highlighted (their gradient written in them), the kernel
    (:func:`gradient_kernel`), and the output with the pixel ``backward`` starts from.

    The gradient comes from :func:`pixel_gradient` (``torch.autograd.grad``), the output size
    from :func:`convlab.conv_output_size`. Parts that depend on fewer parameters can be drawn as
    separate layers (``input_part()``: i and p; ``kernel_part()``: k; ``output_part()``: the
    output size; ``overlay(row, col)``: everything). ``fit`` = (largest padded input, kernel,
    output) of a series of scenes drawn at the same size. A kernel that does not fit raises
    ``ValueError``, or with ``strict=False`` is kept in ``error``.
    """

    def __init__(self, i: int = 7, k: int = 3, s: int = 1, p: int = 0, d: int = 1,
                 fit: tuple[int, int, int] | None = None, strict: bool = True,
                 lang: str = "en") -> None:
        super().__init__(i, k, s, p, d, fit, strict, lang)
        self.w = gradient_kernel(k)
        self.span = d * (k - 1) + 1

    def exists(self, row: int, col: int) -> bool:
        """Whether output pixel (row, col) exists (the kernel fits and it is inside the output)."""
        return not self.error and 0 <= row < self.o and 0 <= col < self.o

    def gradient(self, row: int, col: int) -> torch.Tensor:
        """``∂y[row, col] / ∂x`` by autograd (:func:`pixel_gradient`), shape ``[i, i]``."""
        return pixel_gradient(self.i, self.w, self.s, self.p, self.d, (row, col))

    @property
    def caption(self) -> str:
        """Parameters, the output size (with the formula) and what the highlighted pixels are
        (for any output pixel; :meth:`summary` adds the numbers for one pixel)."""
        i, k, s, p, d, span = self.i, self.k, self.s, self.p, self.d, self.span
        _ = self._
        text = (_("Input {i}×{i}, kernel {k}×{k} (weights 1…{kk}), stride {s}, padding {p}, "
                  "dilation {d} → output {o}×{o}; ", i=i, k=k, kk=k * k, s=s, p=p, d=d, o=self.o)
                + output_size_formula(i, k, s, p, d)
                + _(". Backward from one output pixel alone (torch.autograd.grad): the "
                    "highlighted input pixels are that pixel's receptive field and the footprint "
                    "of its gradient; each holds the kernel weight that multiplied it. The "
                    "window spans d(k−1)+1 = {d}·({k}−1)+1 = {span} pixels per side, fewer "
                    "where taps fall on the zero padding (not an input)", d=d, k=k, span=span))
        if d > 1 and k > 1:
            nth = {2: _("second"), 3: _("third")}.get(d) or _("{d}th", d=d)
            text += self._("; with dilation {d} only every {nth} pixel of the window is read "
                           "(holes)", d=d, nth=nth)
        return _("{text}.", text=text)

    def summary(self, row: int, col: int) -> str:
        """One line for output pixel (row, col): how many input pixels get a gradient, over
        which rows × columns, and how many taps fall on the padding (from autograd)."""
        k = self.k
        rows, cols = torch.nonzero(self.gradient(row, col), as_tuple=True)
        if not len(rows):
            taps = self._("its only tap reads") if k == 1 else self._("all {value} taps read",
                                                                      value=k * k)
            return (self._("backward from y[{row},{col}]: {taps} padding, no input pixel gets a "
                           "gradient (y is 0 + bias)", row=row, col=col, taps=taps))
        h, w = int(rows.max() - rows.min()) + 1, int(cols.max() - cols.min()) + 1
        if len(rows) == 1:
            text = self._("backward from y[{row},{col}]: 1 input pixel gets a gradient, spanning "
                          "{h}×{w}", row=row, col=col, h=h, w=w)
        else:
            text = self._("backward from y[{row},{col}]: {n} input pixels get a gradient, "
                          "spanning {h}×{w}", row=row, col=col, n=len(rows), h=h, w=w)
        lost = k * k - len(rows)
        if lost:
            text += self._(" ({lost} of {counted} on padding)",
                           lost=lost, counted=counted(k * k, 'tap', lang=self.lang))
        return text

    def input_part(self) -> str:
        """SVG body: the padded input grid, padding hatched (depends on i and p only)."""
        n, p, top = self.n, self.p, self.top
        heading = self._("input {i}×{i}", i=self.i) + (self._(", padded to {n}×{n}",
                                                            n=n) if p else "") + ": ∂y/∂x"
        pad_cells = [(r, c) for r in range(n) for c in range(n)
                     if r < p or c < p or r >= n - p or c >= n - p]
        parts = [label(self.ix, top - 8, heading),
                 rect(self.ix, top, n * CELL, n * CELL, fill="#fff"),
                 hatch(self.ix, top, pad_cells), grid_lines(self.ix, top, n, n)]
        if p:
            parts.append(label(self.ix, top + n * CELL + 14,
                                self._("grey hatched = zero padding: not an input, no gradient"),
                                extra=f" font-size='11' fill='{GREY_TEXT}'"))
        return "".join(parts)


    def output_part(self) -> str:
        """SVG body: the empty output grid (depends on the output size only)."""
        if self.error:
            return label(self.ox, self.top - 8, self._("no output"),
                          extra=f" fill='{ROLES['cropped']}'")
        o, top = self.o, self.top
        return "".join([label(self.ox, top - 8, self._("output {o}×{o}", o=o)),
                        rect(self.ox, top, o * CELL, o * CELL, fill=TINT["output"]),
                        grid_lines(self.ox, top, o, o, stroke=ROLES["output"])])

    def overlay(self, row: int, col: int) -> str:
        """SVG body: the pixels with a gradient (filled, ``data-role='gradient'``) and their
        values (``data-role='gradient-values'``), the kernel window and its taps, the output
        pixel ``backward`` starts from (seeded with 1) and a one-line summary."""
        if self.error:
            return ""
        if not self.exists(row, col):
            return label(self.ix, self.text_y,
                          self._("Output pixel ({row}, {col}) does not exist: the output is "
                                 "only {o}×{o}. Move the position slider back.", row=row,
                                 col=col, o=self.o),
                          extra=f" fill='{ROLES['cropped']}' font-weight='bold'")
        k, d, s, p, top, ix = self.k, self.d, self.s, self.p, self.top, self.ix
        grad = self.gradient(row, col)
        cells = [(r + p, c + p) for r, c in torch.nonzero(grad).tolist()]
        fill = "".join(f"M{ix + c * CELL} {top + r * CELL}h{CELL}v{CELL}h-{CELL}z"
                       for r, c in cells)
        values = [["" for _ in range(self.n)] for _ in range(self.n)]
        for r, c in cells:
            values[r][c] = num(grad[r - p, c - p])
        x0, y0 = ix + col * s * CELL, top + row * s * CELL
        taps = "".join(f"M{x0 + v * d * CELL + 3} {y0 + u * d * CELL + 3}h{CELL - 6}v{CELL - 6}"
                       f"h-{CELL - 6}z" for u in range(k) for v in range(k))
        ox, oy = self.ox + col * CELL, top + row * CELL
        return (f"<path data-role='gradient' d='{fill}' fill='{TINT['field']}' "
                f"stroke='{ROLES['field']}' stroke-width='2'/>"
                f"<g data-role='gradient-values'>{cell_texts(ix, top, values)}</g>"
                f"<path d='{taps}' fill='none' stroke='{ROLES['kernel']}' stroke-width='2'/>"
                + rect(x0, y0, self.span * CELL, self.span * CELL, stroke=ROLES["kernel"],
                        extra=" stroke-width='3' stroke-dasharray='6 3'")
                + rect(ox, oy, CELL, CELL, fill=TINT["current"], stroke=ROLES["current"],
                        extra=" stroke-width='3'")
                + cell_texts(ox, oy, [["1"]])
                + label(ix, self.text_y, self.summary(row, col)))

    def figure(self, row: int = 0, col: int = 0) -> Figure:
        """The whole picture as one figure; raises ``ValueError`` if the pixel does not exist."""
        if self.error:
            raise ValueError(self.error)
        if not self.exists(row, col):
            raise ValueError(f"output pixel ({row}, {col}) does not exist: the output is "
                             f"{self.o}×{self.o}")
        body = self.input_part() + self.kernel_part() + self.output_part() + self.overlay(row, col)
        title = self._("Gradient of output pixel ({row}, {col}), {params}",
                       row=row, col=col, params=self.params)
        caption = self._("{caption} {summary}.", caption=self.caption,
                         summary=self.summary(row, col))
        return Figure(self.svg(body, title, caption), caption)


def output_pixel_gradient(i: int = 7, k: int = 3, s: int = 1, p: int = 1, d: int = 1,
                          position: tuple[int, int] = (0, 0), *, lang: str = "en") -> Figure:
    """Which input pixels receive a gradient when ``backward`` starts from one output pixel
    (ch3): its receptive field, each pixel holding the weight that touched it (autograd)."""
    return GradientScene(i, k, s, p, d, lang=lang).figure(*position)


# ---------------------------------------------------------------------------------------------
# ch4: receptive fields of a stack of layers
# ---------------------------------------------------------------------------------------------

_FIELD_COLOURS = (PALETTE["reddish_purple"], PALETTE["blue"], PALETTE["vermillion"],
                  PALETTE["bluish_green"], PALETTE["orange"], PALETTE["black"])


def receptive_fields(layers: Sequence[tuple[int, int, int, int]], size: int | None = None,
                     desc: bool = True, *, lang: str = "en") -> Figure:
    """The receptive field of one unit of each layer drawn on the input as nested boxes, with
    its size r and jump j from :func:`convlab.receptive_field` (ch4). ``layers`` are
    ``(k, s, p, d)`` tuples. Boxes are centred on the deepest layer's central unit, snapped to
    whole pixels (a box with r of the other parity than ``size`` sits half a pixel up-left).

    ``desc=False`` leaves the caption out of the SVG's ``<desc>`` (for explorers, which show
    the caption visibly anyway); the visible caption is the returned figure's ``caption``,
    which a notebook shows under the SVG (:func:`html_figure`)."""
    _ = i18n.translator(lang)
    table = receptive_field(list(layers))
    rows = list(table)
    r_last = rows[-1].r
    n = size if size is not None else r_last + 2
    cell = max(2, min(CELL, 320 // n))
    top = 30
    side = n * cell
    scale = _("one square = one input pixel") if cell >= 6 else _("drawn to scale")
    parts = [label(MARGIN, 16, _("input {n}×{n} ({scale})", n=n, scale=scale)),
             rect(MARGIN, top, side, side, fill=TINT["input"], stroke=ROLES["input"])]
    if cell >= 6:
        parts.append(grid_lines(MARGIN, top, n, n, cell=cell, stroke="#C8DDEA"))
    for idx, row in enumerate(rows):
        colour = _FIELD_COLOURS[idx % len(_FIELD_COLOURS)]
        lo = (n - row.r) // 2  # whole pixels: on the grid lines, nested in the next box
        x = MARGIN + lo * cell
        w = row.r * cell
        dash = "" if idx % 2 == 0 else " stroke-dasharray='5 3'"
        parts.append(rect(x, top + lo * cell, w, w, stroke=colour,
                           extra=f" stroke-width='{2 + (idx == len(rows) - 1)}'{dash}"))
        parts.append(label(MARGIN + side + 12, top + 14 + idx * 18,
                            _("layer {value}: r={r}, j={j}", value=idx + 1, r=row.r, j=row.j),
                            extra=f" fill='{colour}' font-weight='bold'"))
        parts.append(rect(MARGIN + side + 12 + 118, top + 5 + idx * 18, 22, 10, stroke=colour,
                           extra=f" stroke-width='2'{dash}"))
    width = MARGIN * 2 + side + 170
    per_layer = _("; ").join(_("layer {value} (k={k}, s={s}, d={d}): r={r}, j={j}",
                            value=j + 1, k=r.k, s=r.s, d=r.d, r=r.r, j=r.j)
                          for j, r in enumerate(rows))
    caption = (_("Receptive field of one unit per layer on the input, innermost box = layer 1. "
                 "{per_layer}.", per_layer=per_layer))
    svg = svg_doc(width, top + max(side, 18 * len(rows)) + 10,
                  _("Receptive fields of {n_rows} layer(s)",
                    n_rows=len(rows)), caption if desc else "",
                  "".join(parts))
    return Figure(svg, caption)


# ---------------------------------------------------------------------------------------------
# ch5: transposed convolution as scatter-add
# ---------------------------------------------------------------------------------------------


def _kept(p: int, o: int, short: bool = False, lang: str = "en") -> str:
    """Which rows/columns of the full grid a transposed convolution keeps: ``rows/cols 1…4``."""
    _ = i18n.translator(lang)
    if short:
        return _("row/col {p}", p=p) if o == 1 else _("rows/cols {p}…{last}", p=p,
                                                         last=p + o - 1)
    return _("row/column {p}", p=p) if o == 1 else _("rows/columns {p}…{last}", p=p,
                                                        last=p + o - 1)


class TransposedScene:
    """Transposed convolution of an ``i x i`` input with a ``k x k`` kernel drawn as scatter-add
    (ch5): the full ``(i−1)s + d(k−1) + 1`` grid of summed kernel copies, the border that
    ``padding`` crops, the ``output_padding`` rows/columns, and the output (from
    ``F.conv_transpose2d``; its size from :func:`convlab.conv_transpose_output_size`).

    ``grid_part()`` (input, kernel, full sums; independent of padding and output_padding) and
    ``crop_part()`` (what padding crops, output_padding adds, and the output) can be drawn as
    separate layers. ``fit`` = (largest i, k, full size + output_padding) of a series of scenes
    drawn at the same size. A configuration PyTorch refuses raises ``ValueError``, or with
    ``strict=False`` is kept in ``error`` (then only ``grid_part()`` can be drawn).
    """

    def __init__(self, i: int = 2, k: int = 3, s: int = 1, p: int = 0, output_padding: int = 0,
                 d: int = 1, x: torch.Tensor | None = None, w: torch.Tensor | None = None,
                 fit: tuple[int, int, int] | None = None, strict: bool = True,
                 lang: str = "en") -> None:
        self.i, self.k, self.s, self.p, self.op, self.d = i, k, s, p, output_padding, d
        self.lang, self._ = lang, i18n.translator(lang)  # the language of the texts
        self.error = ""
        try:
            self.o = conv_transpose_output_size(i, k, s, p, output_padding, d)
        except ValueError as err:
            if strict:
                raise
            self.error, self.o = str(err), 0
        self.x = (torch.arange(1, i * i + 1, dtype=torch.float32).view(i, i) if x is None
                  else x.to(torch.float32))
        self.w = example_kernel(k) if w is None else w.to(torch.float32)
        x4, w4 = self.x[None, None], self.w[None, None]
        self.full = F.conv_transpose2d(x4, w4, stride=s, dilation=d)[0, 0]
        ones = torch.ones_like(x4)
        self.count = F.conv_transpose2d(ones, torch.ones_like(w4), stride=s, dilation=d)[0, 0]
        self.f = int(self.full.shape[-1])
        if not self.error:
            self.out = F.conv_transpose2d(x4, w4, stride=s, padding=p,
                                          output_padding=output_padding, dilation=d)[0, 0]
            if tuple(self.out.shape) != (self.o, self.o):
                raise AssertionError(f"torch gave {tuple(self.out.shape)}, formula {self.o}")
        fit_i, fit_k, fit_size = fit if fit is not None else (i, k, self.f + output_padding)
        self.top = 36
        self.kx = MARGIN + fit_i * CELL + GAP
        self.gx = self.kx + fit_k * CELL + GAP + 10
        # the legend sits right under this scene's own drawing; the size fits the largest one
        own = max(self.f, p + self.o) if not self.error else self.f
        self.legend_y = self.top + max(own, i, k) * CELL + 18
        fit_legend_y = self.top + max(fit_size, fit_i, fit_k) * CELL + 18
        self.width = max(self.gx + fit_size * CELL + MARGIN, 520)
        self.height = max(fit_legend_y, self.legend_y) + 2 * 16 + 10  # up to 3 legend lines

    @property
    def params(self) -> str:
        return f"i={self.i} k={self.k} s={self.s} p={self.p} op={self.op} d={self.d}"

    @property
    def caption(self) -> str:
        p, op, f, o = self.p, self.op, self.f, self.o
        if op > p:
            crop = (self._("cropped by {p} at the top/left; output_padding {op} then reaches "
                           "{counted} past the full grid at the bottom/right, where no kernel copy "
                           "lands (0 + bias)",
                      p=p, op=op, counted=counted(op - p, 'row/column', 'rows/columns',
                      lang=self.lang)))
        elif op:
            crop = (self._("cropped by {p} at the top/left and by {value} at the bottom/right "
                           "(output_padding {op} keeps {counted} that padding would crop)",
                      p=p, value=p - op, op=op,
                      counted=counted(op, 'computed row/column', 'computed rows/columns',
                      lang=self.lang)))
        else:
            crop = self._("cropped by {p} on each side",
                          p=p) if p else self._("not cropped (padding 0)")
        return (self._("Transposed conv, input {i}×{i}, kernel {k}×{k}, stride {s}, padding {p}, "
                       "output_padding {op}, dilation {d}: every input value times the kernel is "
                       "added at stride {s}; the full {f}×{f} sum is {crop}; the output is {kept}; "
                       "o = ({i}−1)·{s} − 2·{p} + {d}·({k}−1) + {op} + 1 = {o}.",
                  i=self.i, k=self.k, s=self.s, p=p, op=op, d=self.d, f=f, crop=crop,
                  kept=_kept(p, o, lang=self.lang), o=o))

    @property
    def crops_everything(self) -> bool:
        """Whether padding alone leaves no output: ``(i−1)s − 2p + d(k−1) + output_padding + 1``
        is 0 or less while output_padding itself is allowed (smaller than stride or dilation).
        """
        return (self.f + self.op - 2 * self.p <= 0 and self.op < max(self.s, self.d))

    def contribution(self, r: int, c: int) -> torch.Tensor:
        """The full-size copy of the kernel weighted by input (r, c) (PyTorch, one-hot input)."""
        one = torch.zeros(1, 1, self.i, self.i)
        one[0, 0, r, c] = self.x[r, c]
        return F.conv_transpose2d(one, self.w[None, None], stride=self.s, dilation=self.d)[0, 0]

    def grid_part(self, step: int | None = None, counts: bool = True) -> str:
        """SVG body: input, kernel and the full grid of sums (with ``step``: the partial sums
        after input values 0..step, row-major, the last one's kernel copy outlined)."""
        i, k, f, top, gx, kx = self.i, self.k, self.f, self.top, self.gx, self.kx
        parts = [label(MARGIN, top - 8, self._("input {i}×{i}", i=i)),
                 label(kx, top - 8, self._("kernel {k}×{k}", k=k)),
                 rect(MARGIN, top, i * CELL, i * CELL, fill=TINT["input"]),
                 grid_lines(MARGIN, top, i, i, stroke=ROLES["input"]),
                 cell_texts(MARGIN, top, matrix(self.x)),
                 rect(kx, top, k * CELL, k * CELL, fill=TINT["kernel"]),
                 grid_lines(kx, top, k, k, stroke=ROLES["kernel"]),
                 cell_texts(kx, top, matrix(self.w))]
        if step is None:
            grid = self.full
        else:
            grid = sum((self.contribution(*divmod(t, i)) for t in range(step + 1)),
                       torch.zeros(f, f))
        parts += [rect(gx, top, f * CELL, f * CELL, fill="#fff"), grid_lines(gx, top, f, f),
                  cell_texts(gx, top, matrix(grid))]
        if step is None and counts:
            many = [[num(v) if v > 1 else "" for v in row] for row in self.count.tolist()]
            parts.append(cell_texts(gx + 8, top - 7, many, fill=GREY_TEXT, size=9))
        elif step is not None:
            r0, c0 = divmod(step, i)
            cells = "".join(
                f"M{gx + (c0 * self.s + v * self.d) * CELL + 2} "
                f"{top + (r0 * self.s + u * self.d) * CELL + 2}h{CELL - 4}v{CELL - 4}h-{CELL - 4}z"
                for u in range(k) for v in range(k))
            parts.append(f"<path d='{cells}' fill='none' stroke='{ROLES['kernel']}' "
                         f"stroke-width='2'/>")
            parts.append(rect(MARGIN + c0 * CELL, top + r0 * CELL, CELL, CELL,
                               stroke=ROLES["current"], extra=" stroke-width='3'"))
        return "".join(parts)

    def crop_part(self, note: str = "") -> str:
        """SVG body: what the crop does to the full grid, and the legend.

        The output is rows/columns ``p … p+o−1`` of the full grid (green frame, row numbers on
        the left, kept ones bold); the rest of the full grid is cropped (hatched): ``p`` rows at
        the top/left, ``p − output_padding`` at the bottom/right. While ``output_padding ≤ p``
        the rows it keeps are computed sums of the full grid. Only when ``output_padding > p``
        does the output reach past the full grid: those cells (dashed) are positions no kernel
        copy reaches, so PyTorch gives 0 (+ bias) there; the numbers written in them are taken
        from ``F.conv_transpose2d``'s output.
        """
        f, p, o, top, gx = self.f, self.p, self.o, self.top, self.gx
        if self.error:
            heading = self._("full {f}×{f} (sums): no output", f=f)
            if self.crops_everything:  # show what padding crops: all of the full grid
                heading = self._("full {f}×{f} (sums): padding {p} crops all of it, no output",
                               f=f, p=p)
                every = [(r, c) for r in range(f) for c in range(f)]
                side = f * CELL
                return (f"<path d='M{gx} {top}h{side}v{side}h-{side}z' fill='#EFA27A' "
                        f"fill-opacity='.45'/><path d='{hatch_d(gx, top, every)}' "
                        f"stroke='{ROLES['cropped']}' stroke-opacity='.5'/>"
                        + label(gx, top - 8, heading, extra=f" fill='{ROLES['cropped']}'"))
            return label(gx, top - 8, heading, extra=f" fill='{ROLES['cropped']}'")
        size = max(f, p + o)
        kept = range(p, p + o)
        parts = [label(gx, top - 8, self._("full {f}×{f} (sums), output {o}×{o} (green)",
                                            f=f, o=o))]
        cropped = [(r, c) for r in range(size) for c in range(size)
                   if not (r in kept and c in kept)]
        if cropped:
            big, small = size * CELL, o * CELL
            ring = (f"M{gx} {top}h{big}v{big}h-{big}z"
                    f"M{gx + p * CELL} {top + p * CELL}v{small}h{small}v-{small}z")
            hatch_path = hatch_d(gx, top, cropped)
            parts.append(f"<path d='{ring}' fill='#EFA27A' fill-opacity='.45' "
                         f"fill-rule='evenodd'/>"
                         f"<path d='{hatch_path}' stroke='{ROLES['cropped']}' "
                         f"stroke-opacity='.5'/>")
        beyond = [(r, c) for r in kept for c in kept if r >= f or c >= f]
        if beyond:
            d = "".join(f"M{gx + c * CELL} {top + r * CELL}h{CELL}v{CELL}h-{CELL}z"
                        for r, c in beyond)
            where = set(beyond)
            values = [[num(self.out[r - p, c - p]) if (r, c) in where else ""
                       for c in range(size)] for r in range(size)]
            parts += [f"<path d='{d}' fill='none' stroke='#555' stroke-dasharray='3 2'/>",
                      cell_texts(gx, top, values)]
        for style, rows in ((" font-weight='bold'", kept),
                            (f" fill='{GREY_TEXT}'", [r for r in range(size) if r not in kept])):
            if rows:  # row numbers, kept ones bold
                parts.append(f"<g font-size='10' text-anchor='end'{style}>"
                             + "".join(f"<text x='{gx - 3}' y='{top + r * CELL + CELL // 2 + 3}'>"
                                       f"{r}</text>" for r in rows) + "</g>")
        parts.append(rect(gx + p * CELL, top + p * CELL, o * CELL, o * CELL,
                           stroke=ROLES["output"], extra=" stroke-width='3'"))
        for n, line in enumerate(self.legend(bool(beyond), note)):
            parts.append(label(MARGIN, self.legend_y + 16 * n, line))
        return "".join(parts)

    def legend(self, beyond: bool, note: str = "") -> list[str]:
        """The legend lines under the picture (``beyond``: the output reaches past the full
        grid, i.e. ``output_padding > p``)."""
        p, op, o = self.p, self.op, self.o
        end = max(p - op, 0)
        lines = []
        if p or op:  # with neither, nothing is cropped: the output is the full grid
            lines.append(self._("kept (green): {kept} of the full grid; cropped (hatched): {p} "
                                "top/left, {end} bottom/right",
                           kept=_kept(p, o, short=True, lang=self.lang), p=p, end=end))
        if beyond:
            lines.append(self._("dashed = beyond the full output: no kernel copy lands here (0 + "
                                "bias)"))
        elif op:
            lines.append(self._("output_padding {op} keeps {op} more computed row/col at the "
                                "bottom/right (not zeros)", op=op) if op == 1 else
                         self._("output_padding {op} keeps {op} more computed rows/cols at the "
                                "bottom/right (not zeros)", op=op))
        if note:
            lines.append(note)
        return lines

    def svg(self, body: str, title: str, desc: str = "", layer: str = "") -> str:
        """This scene's SVG around ``body``; ``layer`` is ``""`` for a standalone picture,
        ``"bottom"`` or ``"top"`` for an explorer layer (inline, opaque or transparent)."""
        return svg_doc(self.width, self.height, title, desc, body, standalone=not layer,
                       background=None if layer == "top" else "#fff")

    def figure(self, step: int | None = None, desc: bool = True, counts: bool = False) -> Figure:
        """Whole picture; with ``step`` only input values 0..step (row-major) are scattered and
        the last one's copy is outlined. ``counts`` writes the overlap count (if above 1) small
        in each cell's corner (:func:`overlap_heatmap` shows the counts better); ``desc`` adds
        the caption as the SVG ``<desc>`` too. Needs a valid scene."""
        if self.error:
            raise ValueError(self.error)
        if step is None:
            title = self._("Transposed convolution {params}: output {o}×{o}",
                           params=self.params, o=self.o)
            note = self._("small grey numbers: how many kernel copies overlap") if counts else ""
        else:
            r, c = divmod(step, self.i)
            title = self._("Transposed convolution step {value}/{value2}: input ({r}, {c})",
                           value=step + 1, value2=self.i * self.i, r=r, c=c)
            note = self._("orange frames: input ({r}, {c}) × kernel", r=r, c=c)
        body = self.grid_part(step, counts) + self.crop_part(note)
        # a standalone picture ends under its last legend line (layers keep the common height)
        lines = len(self.legend(self.p + self.o > self.f, note))
        height = min(self.height, self.legend_y + 16 * (lines - 1) + 10 if lines
                     else self.legend_y - 8)
        svg = svg_doc(self.width, height, title, self.caption if desc else "", body)
        return Figure(svg, self.caption)


def transposed_scatter(i: int = 2, k: int = 3, s: int = 1, p: int = 0, output_padding: int = 0,
                       d: int = 1, step: int | None = None, *, lang: str = "en") -> Figure:
    """Transposed convolution as scatter-add (ch5); ``step`` shows the input values one at a
    time (0 = only the first). Raises ``ValueError`` (from
    :func:`convlab.conv_transpose_output_size`) for a configuration PyTorch refuses."""
    return TransposedScene(i, k, s, p, output_padding, d, lang=lang).figure(step)


def stride_zero_insertion(i: int = 3, s: int = 2, *, lang: str = "en") -> Figure:
    """Stride ``s`` in a transposed convolution as ``s − 1`` zeros inserted between input
    values (ch5); the dilated grid is ``(i−1)s + 1`` wide (checked with ``F.conv_transpose2d``
    of a 1x1 kernel, which does exactly this insertion)."""
    _ = i18n.translator(lang)
    x = torch.arange(1, i * i + 1, dtype=torch.float32).view(1, 1, i, i)
    z = F.conv_transpose2d(x, torch.ones(1, 1, 1, 1), stride=s)[0, 0]
    n = int(z.shape[-1])
    top = 30
    gx = MARGIN + i * CELL + GAP + 20
    inserted = [(r, c) for r in range(n) for c in range(n) if r % s or c % s]
    zeros_text = counted(s - 1, "zero", lang=lang)
    heading = _("{zeros_text} inserted between values: {n}×{n}", zeros_text=zeros_text, n=n)
    parts = [label(MARGIN, 16, _("input {i}×{i}", i=i)), label(gx, 16, heading),
             rect(MARGIN, top, i * CELL, i * CELL, fill=TINT["input"]),
             grid_lines(MARGIN, top, i, i, stroke=ROLES["input"]),
             cell_texts(MARGIN, top, matrix(x[0, 0])),
             f"<path d='M{MARGIN + i * CELL + 6} {top + 20}h{GAP}m-5 -4l5 4l-5 4' stroke='#555' "
             f"fill='none'/>",
             rect(gx, top, n * CELL, n * CELL, fill=TINT["input"]), hatch(gx, top, inserted),
             grid_lines(gx, top, n, n)]
    vals = [[num(z[r, c]) if (r, c) not in set(inserted) else "" for c in range(n)]
            for r in range(n)]
    zeros = [["0" if (r, c) in set(inserted) else "" for c in range(n)] for r in range(n)]
    parts += [cell_texts(gx, top, vals), cell_texts(gx, top, zeros, fill=GREY_TEXT)]
    between = _(" (grey, hatched)") if s > 1 else ""
    caption = (_("Stride {s} as zero insertion: {zeros_text}{between} between the values of a "
                 "{i}×{i} input give a {n}×{n} grid, (i−1)s+1 = ({i}−1)·{s}+1 = {n}.",
                 s=s, zeros_text=zeros_text, between=between, i=i, n=n))
    width = max(gx + n * CELL, gx + text_width(heading)) + MARGIN
    svg = svg_doc(width, top + max(n, i) * CELL + 10,
                  _("Stride {s} as zero insertion", s=s), caption, "".join(parts))
    return Figure(svg, caption)


def overlap_heatmap(i: int = 4, k: int = 3, s: int = 2, d: int = 1, *, lang: str = "en") -> Figure:
    """How many kernel copies land on each cell of a transposed convolution's full output
    (ch5): with ``k`` not divisible by ``s`` the counts alternate, the checkerboard artefact.
    Counts come from ``F.conv_transpose2d`` of ones with a ones kernel."""
    _ = i18n.translator(lang)
    count = F.conv_transpose2d(torch.ones(1, 1, i, i), torch.ones(1, 1, k, k), stride=s,
                               dilation=d)[0, 0]
    n = int(count.shape[-1])
    hi = float(count.max())
    shades = ("#FFFFFF", "#E3EEF6", "#B9D5EA", "#7FB2D9", "#3F8CC4", "#0072B2")
    top = 30
    parts = [label(MARGIN, 16, _("full output {n}×{n}: number of overlapping kernel copies", n=n))]
    for r in range(n):
        for c in range(n):
            v = float(count[r, c])
            shade = shades[min(len(shades) - 1, round(v / hi * (len(shades) - 1)))]
            parts.append(rect(MARGIN + c * CELL, top + r * CELL, CELL, CELL, fill=shade))
    parts.append(grid_lines(MARGIN, top, n, n))
    dark = [[num(count[r, c]) if float(count[r, c]) / hi < 0.6 else "" for c in range(n)]
            for r in range(n)]
    light = [[num(count[r, c]) if float(count[r, c]) / hi >= 0.6 else "" for c in range(n)]
             for r in range(n)]
    parts += [cell_texts(MARGIN, top, dark), cell_texts(MARGIN, top, light, fill="#fff")]
    counts = _("Overlap counts of a transposed conv, input {i}×{i}, kernel {k}, stride {s}, "
               "dilation {d}: full output {n}×{n}, counts from {num} to {num2} (darker = "
               "more copies)", i=i, k=k, s=s, d=d, n=n, num=num(count.min()), num2=num(hi))
    caption = (counts + _("; the uneven counts are the checkerboard artefact.") if k % s
               else _("{sentence}.", sentence=counts))
    svg = svg_doc(max(MARGIN * 2 + n * CELL, 380), top + n * CELL + 10,
                  _("Overlap counts, k={k}, s={s}", k=k, s=s), caption, "".join(parts))
    return Figure(svg, caption)


# ---------------------------------------------------------------------------------------------
# A real photograph (ch1): matplotlib's sample image, grayscale, small
# ---------------------------------------------------------------------------------------------

#: Named 3x3 kernels used with the photograph (ch1).
IMAGE_KERNELS: dict[str, tuple[tuple[float, ...], ...]] = {
    "identity": ((0, 0, 0), (0, 1, 0), (0, 0, 0)),
    "box-blur": ((1 / 9, 1 / 9, 1 / 9),) * 3,
    "gaussian": ((1 / 16, 2 / 16, 1 / 16), (2 / 16, 4 / 16, 2 / 16), (1 / 16, 2 / 16, 1 / 16)),
    "sobel-x": ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)),
    "sobel-y": ((-1, -2, -1), (0, 0, 0), (1, 2, 1)),
    "sharpen": ((0, -1, 0), (-1, 5, -1), (0, -1, 0)),
    "laplacian": ((0, 1, 0), (1, -4, 1), (0, 1, 0)),
}


def photo(size: int = 64) -> torch.Tensor:
    """Grace Hopper's portrait from matplotlib's sample data, grayscale, ``size`` pixels wide,
    values in [0, 1], shape ``[H, W]`` (ch1). Shipped with matplotlib: no download."""
    import matplotlib.cbook as cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        img = Image.open(fh).convert("L")
        h = round(size * img.height / img.width)
        img = img.resize((size, h), Image.LANCZOS)
        data = torch.tensor(list(img.tobytes()), dtype=torch.float32).view(h, size)
    return data / 255.0


def png_bytes(image: torch.Tensor, normalise: bool = False) -> bytes:
    """A 2-D tensor as 8-bit grayscale PNG bytes. Values are clipped to [0, 1], or with
    ``normalise`` scaled so the smallest value is black and the largest white."""
    from PIL import Image

    img = image.detach().to(torch.float32)
    if normalise:
        lo, hi = float(img.min()), float(img.max())
        img = (img - lo) / (hi - lo) if hi > lo else torch.zeros_like(img)
    data = (img.clamp(0, 1) * 255).round().to(torch.uint8)
    h, w = data.shape
    pil = Image.frombytes("L", (w, h), bytes(data.flatten().tolist()))
    buf = io.BytesIO()
    pil.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def photo_conv(kernel: str = "sobel-x", s: int = 1, p: int = 1, size: int = 64,
               image: torch.Tensor | None = None, *, lang: str = "en") -> tuple[torch.Tensor, str]:
    """Apply a named kernel (:data:`IMAGE_KERNELS`) to the photograph (or to ``image``, a
    ``[H, W]`` tensor in [0, 1]) with ``F.conv2d`` (ch1); return the output ``[H', W']`` and an
    HTML ``<img>`` (PNG data URI) with its shape. Edge kernels (negative weights) are shown
    normalised, others clipped to [0, 1]."""
    _ = i18n.translator(lang)
    if kernel not in IMAGE_KERNELS:
        raise ValueError(f"unknown kernel {kernel!r}; choose one of {sorted(IMAGE_KERNELS)}")
    x = (photo(size) if image is None else image.to(torch.float32))[None, None]
    size = int(x.shape[-1])
    w = torch.tensor(IMAGE_KERNELS[kernel], dtype=torch.float32)[None, None]
    y = F.conv2d(x, w, stride=s, padding=p)[0, 0]
    edge = any(v < 0 for row in IMAGE_KERNELS[kernel] for v in row) and kernel != "sharpen"
    data = base64.b64encode(png_bytes(y, normalise=edge)).decode("ascii")
    h, w_ = y.shape
    scale = 2 * size // w_ if w_ else 2
    alt = _("{kernel} kernel, stride {s}, padding {p}: output {h}×{w_}",
            kernel=kernel, s=s, p=p, h=h, w_=w_)
    img = (f"<img src='data:image/png;base64,{data}' alt='{esc(alt)}' width='{w_ * scale}' "
           f"height='{h * scale}' style='image-rendering:pixelated;display:block;margin:0'/>")
    return y, img
