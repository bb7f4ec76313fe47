"""Receptive fields on the input grid: where the formula puts them, and gradient maps beside it.

Chapter 4 compares the recursion of :func:`convlab.receptive_field` with the autograd experiment
of :func:`convlab.reference.gradient_receptive_field`. This module holds the two small pieces that
comparison needs more than once:

* :func:`field_box` — the square of input pixels the formula assigns to one output pixel
  (``start + u·j`` … ``start + u·j + r − 1`` per axis), for the same output pixel the experiment
  uses by default (the centre one);
* :func:`field_panels` — a matplotlib figure of gradient maps side by side, each with the
  formula's square drawn on top (shared palette :data:`convlab.draw.PALETTE`).

Both are tested against PyTorch in ``tests/test_fieldmaps.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

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
) -> Any:
    """Gradient maps side by side, each with the formula's field drawn as a dashed square (ch4).

    ``maps`` maps a panel title to a 2-D tensor (e.g. from ``gradient_receptive_field``);
    ``boxes`` gives, for the same titles, the formula's ``(top, left, height, width)`` (from
    :func:`field_box`). Zero gradient is white, the largest gradient black; each panel title
    states the formula's size and the measured nonzero extent. ``margin`` (pixels) shows only the
    formula's box plus that many pixels around it (clipped to the map) so that small fields are
    visible; ``None`` shows the whole map. Panels are laid out ``columns`` per row. Returns the
    matplotlib ``Figure`` (the caller shows it with ``plt.show()``).
    """
    import matplotlib.pyplot as plt

    from convlab.draw import PALETTE
    from convlab.reference import nonzero_extent

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
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.9 * ncols, 3.3 * nrows + 0.4),
                             squeeze=False, layout="constrained")
    flat = list(axes.flat)
    for ax, (name, grad_map) in zip(flat, maps.items(), strict=False):
        if not isinstance(grad_map, torch.Tensor) or grad_map.dim() != 2:
            raise TypeError(f"maps[{name!r}] must be a 2-D tensor")
        top, left, height, width = boxes[name]
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
        ax.set_title(f"{name}\nformula r={height}, measured {mh}×{mw}", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in flat[n:]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)  # constrained layout keeps two-line titles off the row above
    return fig
