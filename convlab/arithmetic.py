"""Convolution arithmetic: output sizes, input sizes, parameter counts, receptive fields.

Pure functions on integers (no tensors), each checked against PyTorch in ``tests/``.
Symbols follow the course: ``i`` input size, ``k`` kernel size, ``s`` stride, ``p`` padding
(per side), ``d`` dilation (1 = plain kernel), ``o`` output size.

Chapters: ch1 (convolution) uses :func:`conv_output_size` and :func:`conv_input_sizes`;
ch2 (multichannel) uses :func:`conv_params`; ch4 (receptive fields) uses
:func:`receptive_field`; ch5 (transposed convolution) uses :func:`conv_transpose_output_size`
and :func:`conv_input_sizes`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from convlab import i18n
from convlab._validate import IntOrPair, as_bool, as_int, as_pair, is_pair
from convlab.i18n import message as msg

_AXES = ("height", "width")
_NAMES = ("input size i", "kernel size k", "stride s", "padding p", "dilation d")


def _fmt(values: Sequence[int]) -> str:
    """Format per-axis numbers: ``3`` if both equal, else ``(3, 4)``."""
    return str(values[0]) if values[0] == values[1] else f"({values[0]}, {values[1]})"


def _axis_args(names: Sequence[str], values: Sequence[Any], minimums: Sequence[int]):
    """Validate scalar-or-pair arguments; return (answer_as_pair, [per-axis tuples])."""
    pair = any(is_pair(v) for v in values)
    if not pair:
        ints = [as_int(v, n, m) for n, v, m in zip(names, values, minimums, strict=True)]
        return False, [tuple(ints)]
    pairs = [as_pair(v, n, m) for n, v, m in zip(names, values, minimums, strict=True)]
    return True, [tuple(p[a] for p in pairs) for a in range(2)]


def _prefix(pair: bool, axis: int) -> str:
    return f"{_AXES[axis]}: " if pair else ""


# ---------------------------------------------------------------------------------------------
# Output and input sizes (ch1, ch5)
# ---------------------------------------------------------------------------------------------


def conv_output_size(
    i: IntOrPair, k: IntOrPair, s: IntOrPair = 1, p: IntOrPair = 0, d: IntOrPair = 1
) -> int | tuple[int, int]:
    """Output size of a convolution (or pooling) layer, PyTorch's rule (ch1, ch4).

    .. math:: o = \\left\\lfloor \\frac{i + 2p - d(k-1) - 1}{s} \\right\\rfloor + 1

    Any argument may be a ``(height, width)`` pair; then the answer is a pair too.
    Raises ``ValueError`` exactly when ``torch.nn.functional.conv2d`` refuses the configuration:
    non-positive size, kernel, stride or dilation, negative padding, or a dilated kernel
    ``d(k-1)+1`` larger than the padded input ``i+2p``.

    >>> conv_output_size(28, 5, p=2)
    28
    >>> conv_output_size((32, 24), 3, s=2, p=1)
    (16, 12)
    """
    pair, axes = _axis_args(_NAMES, (i, k, s, p, d), (1, 1, 1, 0, 1))
    out = []
    for a, (ia, ka, sa, pa, da) in enumerate(axes):
        span = da * (ka - 1) + 1
        if span > ia + 2 * pa:
            dilated = f" (dilated to {span})" if da != 1 else ""
            raise ValueError(
                f"{_prefix(pair, a)}kernel {ka}{dilated} does not fit the padded input "
                f"{ia}+2·{pa}={ia + 2 * pa}"
            )
        out.append((ia + 2 * pa - span) // sa + 1)
    return (out[0], out[1]) if pair else out[0]


def conv_transpose_output_size(
    i: IntOrPair,
    k: IntOrPair,
    s: IntOrPair = 1,
    p: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    d: IntOrPair = 1,
) -> int | tuple[int, int]:
    """Output size of a transposed convolution, PyTorch's rule (ch5).

    .. math:: o = (i-1)s - 2p + d(k-1) + \\text{output\\_padding} + 1

    The *full* output ``(i-1)s + d(k-1) + 1`` is what scattering every input times the kernel
    covers; ``padding`` crops ``p`` from each side and ``output_padding`` adds rows/columns at
    the bottom/right. Raises ``ValueError`` exactly when ``torch.nn.functional.conv_transpose2d``
    refuses: ``output_padding`` must be smaller than the stride or the dilation, and the result
    must be at least 1. (For an output size of exactly 0, some CPU code paths of torch 2.x
    return an empty tensor instead of raising; convlab refuses, as torch's reference path does.)
    Any argument may be a ``(height, width)`` pair.

    >>> conv_transpose_output_size(4, 3, s=2, p=1, output_padding=1)
    8
    """
    pair, axes = _axis_args(
        (*_NAMES[:4], "output_padding", _NAMES[4]),
        (i, k, s, p, output_padding, d),
        (1, 1, 1, 0, 0, 1),
    )
    for a, (_, _, sa, _, opa, da) in enumerate(axes):
        if opa >= sa and opa >= da:
            # a Message (English str) so that an explorer can show the rule translated
            raise ValueError(msg(
                "{axis}output_padding {op} must be smaller than stride {s} or dilation {d}",
                axis=_prefix(pair, a), op=opa, s=sa, d=da))
    full = [(ia - 1) * sa + da * (ka - 1) + 1 for ia, ka, sa, _, _, da in axes]
    out = [f - 2 * pa + opa for f, (_, _, _, pa, opa, _) in zip(full, axes, strict=True)]
    if min(out) < 1:
        pads = [ax[3] for ax in axes]
        ops = [ax[4] for ax in axes]
        p_text = _fmt(pads) if pair else pads[0]
        what = msg("padding {p}", p=p_text)
        if max(ops) > 0:
            what = msg("padding {p} and output_padding {op}", p=p_text,
                       op=_fmt(ops) if pair else ops[0])
        if pair:
            crop = msg("the {full} full output to {out}", full=f"{full[0]}x{full[1]}",
                       out=f"{out[0]}x{out[1]}")
        else:
            crop = msg("the full output {full} to {out}", full=full[0], out=out[0])
        raise ValueError(msg(
            "transposed conv with {what} would crop {crop}; the output size must be at least 1 "
            "(o = (i-1)s - 2p + d(k-1) + output_padding + 1)", what=what, crop=crop))
    return (out[0], out[1]) if pair else out[0]


def conv_input_sizes(
    o: IntOrPair, k: IntOrPair, s: IntOrPair = 1, p: IntOrPair = 0, d: IntOrPair = 1
) -> range | tuple[range, range]:
    """Every input size that a convolution maps to output size ``o`` (ch1, ch5).

    Because the output formula rounds down, a stride ``s > 1`` makes up to ``s`` consecutive
    input sizes give the same output size. This is why a transposed convolution, which goes from
    ``o`` back to an input size, needs ``output_padding`` to say which one it means:
    ``output_padding`` ``a`` gives the input size ``(o-1)s - 2p + d(k-1) + 1 + a``, where ``a``
    is the remainder ``(i + 2p - d(k-1) - 1) mod s`` of that input size ``i``. Usually the
    sizes are ``lowest, ..., lowest + s - 1`` with ``lowest = (o-1)s - 2p + d(k-1) + 1``, and
    ``output_padding`` ``j`` gives the ``j``-th. When padding makes ``lowest < 1`` the range is
    cut at 1: the first ``1 - lowest`` values of ``output_padding`` give no valid size (PyTorch
    and :func:`conv_transpose_output_size` refuse them) and ``output_padding`` ``j`` gives the
    ``(j - (1 - lowest))``-th size, e.g. ``conv_input_sizes(2, 1, s=3, p=2)`` is ``range(1, 3)``,
    reached by ``output_padding`` 1 and 2.

    Raises ``ValueError`` if no positive input size gives output ``o`` (heavy padding makes
    even input 1 produce a larger output). Any argument may be a pair; then a pair of ranges
    is returned.

    >>> conv_input_sizes(4, 3, s=2, p=1)
    range(7, 9)
    """
    pair, axes = _axis_args(("output size o", *_NAMES[1:]), (o, k, s, p, d), (1, 1, 1, 0, 1))
    out = []
    for a, (oa, ka, sa, pa, da) in enumerate(axes):
        span = da * (ka - 1) + 1
        lowest = (oa - 1) * sa + span - 2 * pa
        highest = lowest + sa - 1
        if highest < 1:
            smallest_out = conv_output_size(1, ka, sa, pa, da)
            raise ValueError(
                f"{_prefix(pair, a)}no input size gives output {oa}: with kernel {ka}, "
                f"stride {sa}, padding {pa}, dilation {da} even input 1 gives output "
                f"{smallest_out}"
            )
        out.append(range(max(1, lowest), highest + 1))
    return (out[0], out[1]) if pair else out[0]


# ---------------------------------------------------------------------------------------------
# Parameter counts (ch2)
# ---------------------------------------------------------------------------------------------


def conv_params(
    c_in: int, c_out: int, k: IntOrPair, bias: bool = True, groups: int = 1
) -> int:
    """Number of learnable parameters of ``nn.Conv2d(c_in, c_out, k, bias=bias, groups=groups)``
    (ch2).

    Weights ``C_out · (C_in / groups) · kH · kW`` plus ``C_out`` biases. ``groups`` must divide
    both channel counts (as ``nn.Conv2d`` requires).

    >>> conv_params(3, 16, 3)
    448
    """
    c_in = as_int(c_in, "in channels c_in", 1)
    c_out = as_int(c_out, "out channels c_out", 1)
    kh, kw = as_pair(k, "kernel size k", 1)
    bias = as_bool(bias, "bias")
    groups = as_int(groups, "groups", 1)
    for name, c in (("in_channels", c_in), ("out_channels", c_out)):
        if c % groups:
            raise ValueError(
                f"groups {groups} must divide {name} {c} "
                f"({c} % {groups} = {c % groups}); in_channels={c_in}, out_channels={c_out}"
            )
    return c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)


# ---------------------------------------------------------------------------------------------
# Receptive fields (ch4)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RFLayer:
    """One row of a :func:`receptive_field` table (ch4).

    ``k, s, p, d`` are the layer's kernel, stride, padding (top/left) and dilation;
    ``r`` is the receptive field size of one output of this layer measured in input pixels,
    ``j`` the jump (distance in input pixels between neighbouring outputs), and ``start`` the
    input coordinate where output 0's field begins (negative if it reaches into the padding).
    """

    name: str
    k: int
    s: int
    p: int
    d: int
    r: int
    j: int
    start: int

    @property
    def centre(self) -> float:
        """Input coordinate of the centre of output 0's field: ``start + (r - 1) / 2``."""
        return self.start + (self.r - 1) / 2


_COLUMNS = ("layer", "k", "s", "p", "d", "r", "j", "start", "centre")
_HEADINGS = (msg("layer"), "k", "s", "p", "d", "r", "j", msg("start"), msg("centre"))


def _centre_text(c: float) -> str:
    return str(int(c)) if c == int(c) else f"{c:g}"


class ReceptiveFieldTable(list):
    """A list of :class:`RFLayer` rows that prints as an aligned table (ch4).

    ``str()``/``repr()`` give plain text; Jupyter shows ``_repr_html_`` as an HTML table. The
    headings and layer names are shown in ``lang`` (set by :func:`receptive_field`).
    """

    lang: str = "en"

    def _cells(self) -> list[list[str]]:
        return [
            [i18n.translate(row.name, self.lang), *(str(getattr(row, c)) for c in _COLUMNS[1:-1]),
             _centre_text(row.centre)]
            for row in self
        ]

    def _headings(self) -> list[str]:
        return [i18n.translate(h, self.lang) for h in _HEADINGS]

    def __str__(self) -> str:
        rows = [self._headings(), *self._cells()]
        widths = [max(len(r[c]) for r in rows) for c in range(len(_COLUMNS))]
        lines = []
        for row in rows:
            first = row[0].ljust(widths[0])
            rest = [cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)]
            lines.append("  ".join([first, *rest]).rstrip())
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._headings())
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
            for cells in self._cells()
        )
        return (
            '<table class="convlab-rf-table"><thead><tr>'
            f"{head}</tr></thead><tbody>{body}</tbody></table>"
        )


def _square(value: Any, what: str, name: str, minimum: int) -> int:
    """A module parameter that may be an int or a square (a, a) tuple."""
    h, w = as_pair(value, f"{name}.{what}", minimum)
    if h != w:
        raise ValueError(
            f"receptive_field needs square layers, but {name} has {what} {(h, w)}; "
            "compute height and width separately with square layers"
        )
    return h


def _module_layers(module: Any, name: str) -> list[tuple[str, int, int, int, int]]:
    """Turn one module into (name, k, s, p, d) rows; pass-through modules give no rows."""
    from torch import nn

    if isinstance(module, nn.Sequential):
        rows = []
        for child_name, child in module.named_children():
            rows.extend(_module_layers(child, f"{name}.{child_name}" if name else child_name))
        return rows
    label = f"{name}: {type(module).__name__}" if name else type(module).__name__
    if isinstance(module, nn.Conv2d):
        k = _square(module.kernel_size, "kernel_size", label, 1)
        s = _square(module.stride, "stride", label, 1)
        d = _square(module.dilation, "dilation", label, 1)
        if isinstance(module.padding, str):
            # 'valid' pads nothing; 'same' pads d(k-1) in total, the smaller half at top/left.
            p = 0 if module.padding == "valid" else d * (k - 1) // 2
        else:
            p = _square(module.padding, "padding", label, 0)
        return [(label, k, s, p, d)]
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        k = _square(module.kernel_size, "kernel_size", label, 1)
        s = _square(module.stride if module.stride is not None else k, "stride", label, 1)
        p = _square(module.padding, "padding", label, 0)
        # only max pooling has a dilation; an average-pooling window has no gaps
        d = _square(module.dilation, "dilation", label, 1) if isinstance(
            module, nn.MaxPool2d) else 1
        return [(label, k, s, p, d)]
    if _is_pass_through(module):
        return []
    raise TypeError(
        f"receptive_field does not know the spatial effect of {label} ({module!r}); "
        "supported: Conv2d, MaxPool2d, AvgPool2d, nested Sequential, and shape-preserving "
        "modules (activations, BatchNorm, Dropout, Identity)"
    )


def _is_pass_through(module: Any) -> bool:
    """True for modules that act on each pixel independently of its neighbours."""
    from torch import nn
    from torch.nn.modules import activation, batchnorm, dropout

    if isinstance(module, nn.MultiheadAttention):
        return False
    passing = (
        batchnorm._BatchNorm,
        dropout._DropoutNd,
        nn.Identity,
        nn.GroupNorm,
        nn.LocalResponseNorm,
    )
    return isinstance(module, passing) or type(module).__module__ == activation.__name__


def _tuple_layer(spec: Any, index: int) -> tuple[str, int, int, int, int]:
    name = msg("layer {index}", index=index)
    if len(spec) < 1 or len(spec) > 4:
        raise ValueError(
            f"{name}: a layer is (k,), (k, s), (k, s, p) or (k, s, p, d); got {len(spec)} "
            f"values {tuple(spec)!r}"
        )
    k, s, p, d = (*spec, *(1, 0, 1)[len(spec) - 1:])
    return (
        name,
        as_int(k, f"{name}: {_NAMES[1]}", 1),
        as_int(s, f"{name}: {_NAMES[2]}", 1),
        as_int(p, f"{name}: {_NAMES[3]}", 0),
        as_int(d, f"{name}: {_NAMES[4]}", 1),
    )


def parse_layers(layers: Any) -> list[tuple[str, int, int, int, int]]:
    """Normalise ``layers`` (tuples or modules) to ``(name, k, s, p, d)`` rows (ch4).

    Shared by :func:`receptive_field` and :func:`convlab.reference.gradient_receptive_field`.
    Pass-through modules (activations, BatchNorm, Dropout, Identity) give no row.
    """
    from torch import nn

    if isinstance(layers, nn.Module):
        if not isinstance(layers, nn.Sequential):
            return _module_layers(nn.Sequential(layers), "")
        return _module_layers(layers, "")
    if isinstance(layers, str | bytes) or not isinstance(layers, Iterable):
        raise TypeError(
            "layers must be a list of (k, s, p, d) tuples or of modules, or an nn.Sequential; "
            f"got {type(layers).__name__}"
        )
    rows = []
    for index, spec in enumerate(layers, start=1):
        if isinstance(spec, nn.Module):
            rows.extend(_module_layers(spec, str(index - 1)))
        elif isinstance(spec, tuple | list):
            rows.append(_tuple_layer(spec, index))
        else:
            raise TypeError(
                f"layer {index} must be a (k, s, p, d) tuple or an nn.Module, "
                f"got {spec!r} of type {type(spec).__name__}"
            )
    return rows


def receptive_field(layers: Any, *, lang: str = "en") -> ReceptiveFieldTable:
    """Receptive field size, jump and start of every layer of a stack (ch4).

    ``layers`` is a list of ``(k, s, p, d)`` tuples (shorter ``(k,)``, ``(k, s)``,
    ``(k, s, p)`` mean ``s=1, p=0, d=1``) or an ``nn.Sequential`` / list of modules
    (``Conv2d``, ``MaxPool2d``, ``AvgPool2d``; activations, BatchNorm, Dropout and Identity are
    skipped since they do not mix neighbouring pixels; nested ``Sequential`` is flattened).

    Starting from the input (``r_0 = 1``, ``j_0 = 1``, ``start_0 = 0``), layer ``l`` gives

    .. math::
        r_l = r_{l-1} + d_l (k_l - 1) j_{l-1}, \\quad j_l = j_{l-1} s_l, \\quad
        \\text{start}_l = \\text{start}_{l-1} - p_l j_{l-1}

    Padding moves where the field starts but not its size. Returns a list of :class:`RFLayer`
    that prints as a table (headings in ``lang``).

    >>> receptive_field([(3, 1, 1), (3, 2, 1)])[-1].r
    5
    """
    r, j, start = 1, 1, 0
    table = ReceptiveFieldTable()
    table.lang = i18n.check_language(lang)
    for name, k, s, p, d in parse_layers(layers):
        r = r + d * (k - 1) * j
        start = start - p * j
        j = j * s
        table.append(RFLayer(name, k, s, p, d, r, j, start))
    return table
