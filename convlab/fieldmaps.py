"""Receptive fields on the input grid: where the formula puts them, and gradient maps beside it.

Chapter 4 compares the recursion of :func:`convlab.receptive_field` with the autograd experiment
of :func:`convlab.reference.gradient_receptive_field`. This module holds the two small pieces that
comparison needs more than once:

* :func:`field_box` — the square of input pixels the formula assigns to one output pixel
  (``start + u·j`` … ``start + u·j + r − 1`` per axis), for the same output pixel the experiment
  uses by default (the centre one);
* :func:`field_panels` — a matplotlib figure of gradient maps side by side, each with the
  formula's square drawn on top (shared palette :data:`convlab.draw.PALETTE`);
* :func:`effective_field_figure` and :func:`photo_fields` — the chapter's two other matplotlib
  figures (the effective receptive field; fields of one VGG-16 pixel on a photograph).

Every figure text is made here, in the language passed as ``lang=`` (English text as the message
id; Chinese drawn with the CJK font of :func:`convlab.plots.figure_font`); the chapter passes
numbers and, where it names panels, :func:`convlab.i18n.message` texts.
Both functions of the first pair are tested against PyTorch in ``tests/test_fieldmaps.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from convlab import i18n
from convlab._validate import as_int, as_pair, output_position
from convlab.arithmetic import conv_output_size, parse_layers, receptive_field


def field_box(
    layers: Any, input_hw: int | tuple[int, int], out_yx: tuple[int, int] | None = None
) -> tuple[int, int, int, int]:
    """Formula's field of one output pixel as ``(top, left, height, width)`` in input pixels (ch4).

    ``layers`` is anything :func:`convlab.receptive_field` accepts. The output size is computed
    layer by layer with :func:`convlab.conv_output_size` (so a stack that does not fit the input
    raises its ``ValueError``); ``out_yx`` defaults to the centre output pixel
    ``(oH // 2, oW // 2)``, the one :func:`convlab.reference.gradient_receptive_field` uses.
    ``top`` and ``left`` may be negative (the field reaches into the padding); height and width
    are both ``r``. Compare with :func:`convlab.reference.nonzero_extent` of the gradient map:
    when the box lies inside the input the two are equal; near a border the gradient covers
    only the part that real (non-padding) pixels of every layer reach.

    >>> field_box([(3, 1, 1, 1), (3, 2, 1, 1)], 9)
    (2, 2, 5, 5)
    """
    h, w = as_pair(input_hw, "input_hw", 1)
    rows = parse_layers(layers)
    oh, ow = h, w
    for _name, k, s, p, d in rows:
        oh = conv_output_size(oh, k, s, p, d)
        ow = conv_output_size(ow, k, s, p, d)
    oy, ox = output_position(out_yx, oh, ow)
    if not rows:
        return oy, ox, 1, 1
    last = receptive_field(layers)[-1]
    return last.start + oy * last.j, last.start + ox * last.j, last.r, last.r


def field_panels(
    maps: Mapping[str, torch.Tensor],
    boxes: Mapping[str, tuple[int, int, int, int]],
    title: str,
    margin: int | None = None,
    columns: int = 3,
    cmap: str = "Greys",
    *,
    lang: str = i18n.ENGLISH,
) -> Any:
    """Gradient maps side by side, each with the formula's field drawn as a dashed square (ch4).

    ``maps`` maps a panel title to a 2-D tensor (e.g. from ``gradient_receptive_field``);
    ``boxes`` gives, for the same titles, the formula's ``(top, left, height, width)`` (from
    :func:`field_box`). Zero gradient is white, the largest gradient black; each panel title
    states the formula's size and the measured nonzero extent. ``margin`` (pixels) shows only the
    formula's box plus that many pixels around it (clipped to the map) so that small fields are
    visible; ``None`` shows the whole map. Panels are laid out ``columns`` per row. The panel
    names (the keys of ``maps``) and ``title`` are English texts or
    :func:`convlab.i18n.message` templates, shown in ``lang``. Returns the matplotlib ``Figure``
    (the caller shows it with ``plt.show()``).
    """
    import matplotlib.pyplot as plt

    from convlab.plots import figure_font

    _ = i18n.translator(lang)
    if not isinstance(maps, Mapping) or not maps:
        raise TypeError("maps must be a non-empty dict {title: 2-D tensor}")
    if not isinstance(boxes, Mapping) or set(boxes) != set(maps):
        missing = sorted(set(maps) - set(boxes if isinstance(boxes, Mapping) else {}))
        raise ValueError(f"boxes must have one (top, left, height, width) per map; "
                         f"missing or extra titles: {missing}")
    columns = as_int(columns, "columns", 1)
    if margin is not None:
        margin = as_int(margin, "margin", 0)
    n = len(maps)
    ncols = min(columns, n)
    nrows = -(-n // ncols)
    with figure_font(lang):
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.9 * ncols, 3.3 * nrows + 0.4),
                                 squeeze=False, layout="constrained")
        flat = list(axes.flat)
        for ax, (name, grad_map) in zip(flat, maps.items(), strict=False):
            _panel(ax, name, grad_map, boxes[name], margin, cmap, _)
        for ax in flat[n:]:
            ax.axis("off")
        # constrained layout keeps two-line titles off the row above
        fig.suptitle(_(title), fontsize=10)
    return fig


def _panel(ax: Any, name: Any, grad_map: Any, box: tuple[int, int, int, int],
           margin: int | None, cmap: str, _: i18n.Translator) -> None:
    """One panel of :func:`field_panels`: the map, the formula's square, the title."""
    import matplotlib.pyplot as plt

    from convlab.draw import PALETTE
    from convlab.reference import nonzero_extent

    if not isinstance(grad_map, torch.Tensor) or grad_map.dim() != 2:
        raise TypeError(f"maps[{name!r}] must be a 2-D tensor")
    top, left, height, width = box
    _t, _l, mh, mw = nonzero_extent(grad_map)
    image = (grad_map / grad_map.max()).double().numpy()
    ax.imshow(image, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), width, height, fill=False,
                               ec=PALETTE["vermillion"], lw=2, ls="--"))
    if margin is not None:
        h, w = grad_map.shape
        y0, y1 = max(top - margin, 0), min(top + height + margin, h)
        x0, x1 = max(left - margin, 0), min(left + width + margin, w)
        ax.set_xlim(x0 - 0.5, x1 - 0.5)
        ax.set_ylim(y1 - 0.5, y0 - 0.5)
    line = _("formula r={r}, measured {h}×{w}", r=height, h=mh, w=mw)
    ax.set_title(f"{_(name)}\n{line}", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])


def effective_field_figure(
    random_map: torch.Tensor,
    ones_map: torch.Tensor,
    r: int,
    sigma: float,
    depth: int,
    seeds: int,
    *,
    lang: str = i18n.ENGLISH,
) -> Any:
    """The effective receptive field next to the theoretical one (ch4), texts in ``lang``.

    ``random_map`` is the mean gradient magnitude of the centre output pixel over ``seeds``
    randomly initialised stacks of ``depth`` 3×3 convolutions with ReLU, ``ones_map`` the exact
    map of the all-ones stack (both square, the same size); ``r`` the theoretical field and
    ``sigma`` the standard deviation measured on ``random_map``. Top: both maps with the dashed
    theoretical square; bottom: their centre rows, the flat theoretical profile and a Gaussian
    of standard deviation ``sigma``. Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from convlab.draw import PALETTE
    from convlab.plots import as_array, figure_font

    _ = i18n.translator(lang)
    if random_map.dim() != 2 or random_map.shape != ones_map.shape \
            or random_map.shape[0] != random_map.shape[1]:
        raise ValueError("random_map and ones_map must be square 2-D tensors of one size")
    size, sigma = random_map.shape[0], float(sigma)
    c, half_r = size // 2, as_int(r, "r", 1) // 2
    with figure_font(lang):
        fig = plt.figure(figsize=(8, 7.6))
        grid = fig.add_gridspec(2, 2, height_ratios=[1.1, 1])
        panels = [(grid[0, 0], random_map,
                   _("random weights + ReLU (mean of {seeds} seeds)", seeds=seeds)),
                  (grid[0, 1], ones_map, _("all-ones weights, no ReLU (exact)"))]
        for cell, m, title in panels:
            ax = fig.add_subplot(cell)
            ax.imshow(as_array(m / m.max()), cmap="magma")
            ax.add_patch(plt.Rectangle((c - half_r - 0.5,) * 2, r, r, fill=False,
                                       ec=PALETTE["sky_blue"], lw=2, ls="--"))
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
        ax = fig.add_subplot(grid[1, :])
        cols = (torch.arange(size) - c).numpy()
        ax.fill_between(cols, 0, (abs(cols) <= half_r) * 1.0, step="mid", alpha=0.2,
                        color=PALETTE["sky_blue"], label=_("theoretical field (r = {r})", r=r))
        ax.plot(cols, as_array(random_map[c] / random_map[c].max()), "o-",
                color=PALETTE["vermillion"], ms=4, label=_("random weights + ReLU"))
        ax.plot(cols, as_array(ones_map[c] / ones_map[c].max()), "s-", color=PALETTE["blue"],
                ms=4, label=_("all-ones weights"))
        ax.plot(cols, np.exp(-cols.astype(float) ** 2 / (2 * sigma**2)), "--",
                color=PALETTE["black"],
                label=_("Gaussian, std {sigma:.1f} (random weights)", sigma=sigma))
        ax.set_xlabel(_("input column − centre column"))
        ax.set_ylabel(_("gradient (centre row, max = 1)"))
        ax.set_ylim(0, 1.1)
        ax.legend(fontsize=8, loc="upper left")
        fig.suptitle(_("Effective receptive field of {depth} stacked 3×3 convolutions, "
                       "{size}×{size} input (dashed: theoretical r = {r})",
                       depth=depth, size=size, r=r), fontsize=10)
        fig.tight_layout()
    return fig


def photo_fields(
    photo: Any,
    fields: Mapping[str, tuple[int, int, int]],
    *,
    lang: str = i18n.ENGLISH,
) -> Any:
    """Nested receptive fields drawn on a photograph, each field's content enlarged below (ch4).

    ``photo`` is an ``H × W × 3`` image; ``fields`` maps a layer name (``"conv1_2"``, shown as
    it is) to the field ``(top, left, r)`` of one of its pixels, in input pixels (at most five,
    drawn in the palette's yellow, sky blue, bluish green, orange and reddish purple). Texts in
    ``lang``. Returns the matplotlib ``Figure``.
    """
    import matplotlib.pyplot as plt

    from convlab.draw import PALETTE
    from convlab.plots import figure_font

    names = ("yellow", "sky_blue", "bluish_green", "orange", "reddish_purple")
    if not fields or len(fields) > len(names):
        raise ValueError(f"fields must name 1 to {len(names)} layers")
    _ = i18n.translator(lang)
    colours = [PALETTE[name] for name in names]
    h, w = photo.shape[:2]
    n = len(fields)
    with figure_font(lang):
        fig = plt.figure(figsize=(8, 10.2))
        grid = fig.add_gridspec(2, n, height_ratios=[5.2, 1])
        ax = fig.add_subplot(grid[0, :])
        ax.imshow(photo)
        for (name, (top, left, r)), colour in zip(fields.items(), colours, strict=False):
            ax.add_patch(plt.Rectangle((left - 0.5, top - 0.5), r, r, fill=False, ec=colour,
                                       lw=2, label=_("{name}: r = {r}", name=name, r=r)))
        ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(_("Fields of one VGG-16 pixel at {n} depths ({h}×{w} photo)",
                       n=n, h=h, w=w), fontsize=10)
        for k, ((name, (top, left, r)), colour) in enumerate(
                zip(fields.items(), colours, strict=False)):
            sub = fig.add_subplot(grid[1, k])
            sub.imshow(photo[max(top, 0):top + r, max(left, 0):left + r])
            sub.set_title(f"{name}\n" + _("{r}×{r} pixels", r=r), fontsize=8)
            for side in sub.spines.values():
                side.set_edgecolor(colour)
                side.set_linewidth(3)
            sub.set_xticks([])
            sub.set_yticks([])
        fig.tight_layout()
    return fig
