"""One output number of a multi-channel convolution, computed in full (chapter 2).

A ``C_in``-channel input and one output channel: the window at output position ``(row, col)``
cuts one ``k × k`` slice from every input channel; each slice is multiplied elementwise by its
own kernel slice and summed (one *partial sum* per channel); the partial sums plus one bias
make the output number. :func:`window_sums` computes every number with torch and checks the
result against ``torch.nn.functional.conv2d``; :func:`channel_window` draws it (input channels
with the window, the slices, the kernel slices, the partial sums, the bias and the output map);
:func:`channel_window_explorer` puts one such picture per output position behind two sliders
(precomputed frames in jslinked stacks, like every explorer in :mod:`convlab.explore`).
"""

from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as widgets
import torch
import torch.nn.functional as F

from convlab import draw, i18n, svg
from convlab.explore import _Explorer

CELL = draw.CELL
_M = 8
_GAP = 22
_HEAD = 28


@dataclass(frozen=True)
class WindowSums:
    """Every number of one output position (see :func:`window_sums`)."""

    row: int
    col: int
    slices: torch.Tensor  # (C_in, k, k): the input under the window, per channel
    kernel: torch.Tensor  # (C_in, k, k)
    partials: torch.Tensor  # (C_in,): sum(slice * kernel slice) per channel
    bias: float
    output: torch.Tensor  # (o_h, o_w): F.conv2d's whole output map
    value: float  # output[row, col]


def example_channels(size: int = 5, k: int = 3, channels: int = 3,
                     ) -> tuple[torch.Tensor, torch.Tensor, float]:
    """A deterministic example: an input ``(channels, size, size)`` of integers 0..4, a kernel
    ``(channels, k, k)`` of integers -1..1 and a bias of 1 (small numbers, easy to add up)."""
    r = torch.arange(size).view(1, -1, 1)
    c = torch.arange(size).view(1, 1, -1)
    ch = torch.arange(channels).view(-1, 1, 1)
    x = ((r * 2 + c * (ch + 1) + ch) % 5).to(torch.float32)
    kr = torch.arange(k).view(1, -1, 1)
    kc = torch.arange(k).view(1, 1, -1)
    kch = torch.arange(channels).view(-1, 1, 1)
    w = ((kr * kc + kch) % 3 - 1).to(torch.float32)
    return x, w, 1.0


def _check(x: torch.Tensor, w: torch.Tensor, bias: float) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError("x must be a tensor of shape (C_in, H, W), one unbatched input; got "
                         + (f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor)
                            else type(x).__name__))
    if not isinstance(w, torch.Tensor) or w.dim() not in (3, 4):
        raise ValueError("w must be one output channel's kernel, shape (C_in, k, k) or "
                         "(1, C_in, k, k)")
    if w.dim() == 4:
        if w.shape[0] != 1:
            raise ValueError(f"w must have one output channel, got {w.shape[0]}")
        w = w[0]
    if w.shape[0] != x.shape[0]:
        raise ValueError(f"the kernel has {w.shape[0]} channel slices but the input has "
                         f"{x.shape[0]} channels: one kernel slice per input channel")
    if w.shape[1] > x.shape[1] or w.shape[2] > x.shape[2]:
        raise ValueError(f"kernel {w.shape[1]}×{w.shape[2]} does not fit the input "
                         f"{x.shape[1]}×{x.shape[2]}")
    if isinstance(bias, bool) or not isinstance(bias, (int, float)):
        raise TypeError(f"bias must be a number, got {type(bias).__name__}")
    return w


def window_sums(x: torch.Tensor, w: torch.Tensor, bias: float, row: int, col: int,
                ) -> WindowSums:
    """The partial sums and the output number at ``(row, col)`` (stride 1, no padding).

    ``x`` is ``(C_in, H, W)``, ``w`` one output channel's kernel ``(C_in, k, k)`` (or
    ``(1, C_in, k, k)``), ``bias`` a number. The output map comes from
    ``F.conv2d``; the partial sums from the slices; their sum plus the bias is checked equal to
    the output number (``torch.testing.assert_close``).
    """
    w = _check(x, w, bias)
    out = F.conv2d(x[None], w[None], torch.tensor([float(bias)], dtype=x.dtype))[0, 0]
    if not (0 <= row < out.shape[0] and 0 <= col < out.shape[1]):
        raise ValueError(f"output position ({row}, {col}) is outside the "
                         f"{out.shape[0]}×{out.shape[1]} output")
    k_h, k_w = w.shape[1:]
    slices = x[:, row:row + k_h, col:col + k_w]
    partials = (slices * w).sum(dim=(1, 2))
    torch.testing.assert_close(partials.sum() + bias, out[row, col])
    return WindowSums(row, col, slices, w, partials, float(bias), out, float(out[row, col]))


def _grid(x: int, y: int, t: torch.Tensor, tint: str | None, stroke: str = "#999",
          highlight: tuple[int, int, int, int] | None = None, bold: str | None = None,
          cls: str = "") -> str:
    rows, cols = t.shape
    body = []
    if tint:
        body.append(svg.rect(x, y, cols * CELL, rows * CELL, fill=tint))
    if highlight is not None:
        r, c, h, w = highlight
        body.append(svg.rect(x + c * CELL, y + r * CELL, w * CELL, h * CELL,
                               fill=svg.TINT["current"]))
    body.append(svg.grid_lines(x, y, rows, cols, stroke=stroke))
    if highlight is not None:
        r, c, h, w = highlight
        body.append(svg.rect(x + c * CELL, y + r * CELL, w * CELL, h * CELL,
                               stroke=draw.ROLES["current"], extra=" stroke-width='3'"))
    text = svg.cell_texts(x, y, svg.matrix(t))
    if cls:
        text = text.replace("<text ", f"<text class='{cls}' ")
    body.append(text)
    if bold is not None:
        body.append(bold)
    return "".join(body)


def channel_window(x: torch.Tensor | None = None, w: torch.Tensor | None = None,
                   bias: float | None = None, row: int = 0, col: int = 0, *,
                   lang: str = "en") -> draw.Figure:
    """Draw the output number at ``(row, col)`` of a multi-channel convolution (chapter 2).

    One row per input channel: the channel with the window outlined, its slice, "×" the kernel
    slice, "=" the partial sum; then the partial sums added to the bias give the output
    number, shown in the output map. Every number comes from :func:`window_sums` (torch).
    Defaults: :func:`example_channels`. The partial sums' texts carry the class
    ``cl-partial``, the output number ``cl-output`` (tests read them).
    """
    _ = i18n.translator(lang)
    if x is None or w is None or bias is None:
        dx, dw, db = example_channels()
        x = dx if x is None else x
        w = dw if w is None else w
        bias = db if bias is None else bias
    s = window_sums(x, w, bias, row, col)
    c_in, h, wd = x.shape
    k_h, k_w = s.kernel.shape[1:]
    o_h, o_w = s.output.shape
    row_h = max(h, k_h) * CELL + _HEAD
    x_in = _M + 74
    x_slice = x_in + wd * CELL + _GAP + 14
    x_kern = x_slice + k_w * CELL + _GAP + 8
    x_part = x_kern + k_w * CELL + _GAP + 8
    part_w = 60
    x_sum = x_part + part_w + 40
    width = x_sum + max(o_w * CELL, 170) + _M
    height = _M + c_in * row_h + 8
    body: list[str] = []
    centres = []
    for c in range(c_in):
        y0 = _M + c * row_h
        y = y0 + _HEAD - 8
        body.append(svg.label(_M, y + CELL // 2 + 4, _("channel {c}",
                                                         c=c), extra=" font-weight='bold'"))
        body.append(svg.label(x_in, y - 6, f"input[{c}]", anchor="start"))
        body.append(_grid(x_in, y, x[c], svg.TINT["input"],
                          highlight=(row, col, k_h, k_w)))
        body.append(svg.label(x_slice, y - 6, _("window")))
        body.append(_grid(x_slice, y, s.slices[c], svg.TINT["current"]))
        mid = y + k_h * CELL // 2 + 5
        body.append(svg.label(x_slice + k_w * CELL + _GAP // 2 + 4, mid, "×",
                                anchor="middle", extra=" font-size='16'"))
        body.append(svg.label(x_kern, y - 6, f"kernel[{c}]"))
        body.append(_grid(x_kern, y, s.kernel[c], svg.TINT["kernel"]))
        body.append(svg.label(x_kern + k_w * CELL + _GAP // 2 + 4, mid, "=",
                                anchor="middle", extra=" font-size='16'"))
        body.append(svg.rect(x_part, mid - 17, part_w, 24, fill="#fff", stroke="#111"))
        body.append(f"<text class='cl-partial' x='{x_part + part_w // 2}' y='{mid}' "
                    f"font-weight='bold'>{svg.esc(draw.num(s.partials[c]))}</text>")
        body.append(svg.label(x_part, mid + 22, _("partial sum"), extra=" font-size='11'"
                                f" fill='{svg.GREY_TEXT}'"))
        centres.append((x_part + part_w, mid - 5))
    # the sum: partials + bias -> output number
    terms = " + ".join(svg.factor(float(p)) for p in s.partials)
    lines = [f"{terms}", _("+ bias {factor}", factor=svg.factor(s.bias))]
    join_x = x_sum - 12
    for cx, cy in centres:
        body.append(f"<path d='M{cx} {cy}H{join_x}' stroke='#111' fill='none'/>")
    body.append(f"<path d='M{join_x} {centres[0][1]}V{centres[-1][1]}' stroke='#111' "
                "fill='none'/>")
    ym = (centres[0][1] + centres[-1][1]) // 2
    body.append(f"<path d='M{join_x} {ym}H{x_sum - 2}' stroke='#111' fill='none'/>")
    body.append(svg.label(x_sum, ym - 30, lines[0], anchor="start"))
    body.append(svg.label(x_sum, ym - 12, lines[1], anchor="start"))
    body.append(svg.rect(x_sum, ym - 2, 84, 26, fill=svg.TINT["output"],
                           stroke=draw.ROLES["output"], extra=" stroke-width='2'"))
    body.append(f"<text class='cl-output' x='{x_sum + 42}' y='{ym + 16}' font-weight='bold'>"
                f"= {svg.esc(draw.num(s.value))}</text>")
    oy = ym + 58
    body.append(svg.label(x_sum, oy - 8, _("output ({o_h}×{o_w}), from F.conv2d",
                                             o_h=o_h, o_w=o_w),
                            anchor="start"))
    body.append(_grid(x_sum, oy, s.output, svg.TINT["output"], highlight=(row, col, 1, 1)))
    height = max(height, oy + o_h * CELL + _M)
    title = _("Output ({row}, {col}) of a {c_in}-channel convolution", row=row, col=col, c_in=c_in)
    desc = (_("; ").join(_("channel {c}: window sum with kernel slice = {num}", c=c,
                           num=draw.num(p)) for c, p in enumerate(s.partials))
            + _("; plus bias {num} gives {num2}", num=draw.num(s.bias), num2=draw.num(s.value)))
    picture = draw.svg_doc(width, height, title, desc, "".join(body))
    caption = (_("Output position (row {row}, column {col}): each of the {c_in} input channels "
                 "gives a {k_h}×{k_w} window, multiplied elementwise by its own kernel slice "
                 "and summed: partial sums {join}; plus the one bias {num} = {num2}, the "
                 "number F.conv2d computes there. One kernel with C_in slices and one bias "
                 "make one output channel.",
                 row=row, col=col, c_in=c_in, k_h=k_h, k_w=k_w,
                 join=', '.join(draw.num(p) for p in s.partials), num=draw.num(s.bias),
                 num2=draw.num(s.value)))
    return draw.Figure(picture, caption)


def channel_window_explorer(x: torch.Tensor | None = None, w: torch.Tensor | None = None,
                            bias: float | None = None, *, lang: str = "en") -> widgets.VBox:
    """Sliders for the output position (row, column) over :func:`channel_window` (chapter 2).

    One precomputed frame per output position (for the 5×5×3 example with a 3×3 kernel, 9
    frames), jslinked stacks as in :mod:`convlab.explore`; works on the static page.
    """
    _ = i18n.translator(lang)
    if x is None or w is None or bias is None:
        dx, dw, db = example_channels()
        x = dx if x is None else x
        w = dw if w is None else w
        bias = db if bias is None else bias
    s = window_sums(x, w, bias, 0, 0)
    o_h, o_w = s.output.shape
    ex = _Explorer(lang)
    ex.slider("row", _("output row"), range(o_h), 0)
    ex.slider("col", _("output column"), range(o_w), 0)

    def make(q: dict[str, int]) -> str:
        fig = channel_window(x, w, bias, q["row"], q["col"], lang=lang)
        return svg.html_figure(fig.svg, fig.caption)

    return ex.root(_("Three-channel window explorer: move the output position"),
                   [ex.tree(["row", "col"], make)])
