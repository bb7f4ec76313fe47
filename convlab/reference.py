"""Readable reference implementations of convolution and transposed convolution.

Each function computes exactly what its ``torch.nn.functional`` counterpart computes (tests in
``tests/test_reference.py`` compare them in float64 over random configurations), but in the
way the course explains it:

- ch1/ch2: :func:`conv2d_loops` (the sliding window of the definition) and
  :func:`conv2d_unfold` (im2col: unfold the windows, then one matrix multiply);
- ch4: :func:`gradient_receptive_field` and :func:`nonzero_extent` (measure a receptive field
  with autograd);
- ch5: :func:`conv_transpose2d_scatter` (scatter-add a kernel copy per input value),
  :func:`conv_transpose2d_zero_insert` (insert zeros, pad, ordinary convolution) and
  :func:`conv_matrix` (convolution as a matrix ``C``; the transposed convolution is ``C.T``).

Tensors are ``(N, C, H, W)``. ``stride``, ``padding``, ``dilation`` and ``output_padding`` are
ints or ``(height, width)`` pairs, as in PyTorch.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from convlab._validate import IntOrPair, as_int, as_pair, check_tensor, output_position

# ---------------------------------------------------------------------------------------------
# Validation shared by the functions below
# ---------------------------------------------------------------------------------------------


def _check_bias(b: Any, channels: int, x: torch.Tensor) -> torch.Tensor | None:
    if b is None:
        return None
    check_tensor(b, "b", 1, "(C_out,)")
    if b.shape[0] != channels:
        raise ValueError(f"b must have one value per output channel: {channels}, "
                         f"got shape {tuple(b.shape)}")
    if b.dtype != x.dtype:
        raise TypeError(f"b has dtype {b.dtype} but x has dtype {x.dtype}; use one dtype")
    return b


def _check_conv_args(
    x: Any, w: Any, b: Any, stride: Any, padding: Any, dilation: Any, groups: Any
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], int, tuple[int, int]]:
    """Validate conv2d arguments like ``F.conv2d``; return (s, p, d, groups, output hw)."""
    check_tensor(x, "x", 4, "(N, C, H, W)")
    check_tensor(w, "w", 4, "(C_out, C_in/groups, kH, kW)")
    if x.dtype != w.dtype:
        raise TypeError(f"x has dtype {x.dtype} but w has dtype {w.dtype}; use one dtype")
    s = as_pair(stride, "stride", 1)
    p = as_pair(padding, "padding", 0)
    d = as_pair(dilation, "dilation", 1)
    groups = as_int(groups, "groups", 1)
    c_out, c_in_g, kh, kw = w.shape
    if min(kh, kw) < 1 or c_out < 1 or c_in_g < 1:
        raise ValueError(f"w must have positive sizes, got shape {tuple(w.shape)}")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"x must have positive height and width, got shape {tuple(x.shape)}")
    if c_out % groups:
        raise ValueError(f"groups {groups} must divide out_channels {c_out} (w.shape[0]); "
                         f"{c_out} % {groups} = {c_out % groups}")
    if x.shape[1] != c_in_g * groups:
        raise ValueError(
            f"x has {x.shape[1]} channels but w expects w.shape[1]·groups = "
            f"{c_in_g}·{groups} = {c_in_g * groups}"
        )
    out_hw = _conv_out_hw(x.shape[2:], (kh, kw), s, p, d)
    _check_bias(b, c_out, x)
    return s, p, d, groups, out_hw


def _conv_out_hw(in_hw, k, s, p, d) -> tuple[int, int]:
    from convlab.arithmetic import conv_output_size

    out = conv_output_size(tuple(in_hw), tuple(k), s, p, d)
    assert isinstance(out, tuple)
    return out


def _check_transpose_args(
    x: Any, w: Any, b: Any, stride: Any, padding: Any, output_padding: Any, dilation: Any,
    groups: Any = 1,
):
    """Validate conv_transpose2d arguments; return (s, p, op, d, output hw).

    With ``groups`` > 1, ``w`` is ``[C_in, C_out/groups, kH, kW]`` as in PyTorch.
    """
    from convlab.arithmetic import conv_transpose_output_size

    check_tensor(x, "x", 4, "(N, C_in, H, W)")
    check_tensor(w, "w", 4, "(C_in, C_out/groups, kH, kW)")
    if x.dtype != w.dtype:
        raise TypeError(f"x has dtype {x.dtype} but w has dtype {w.dtype}; use one dtype")
    s = as_pair(stride, "stride", 1)
    p = as_pair(padding, "padding", 0)
    op = as_pair(output_padding, "output_padding", 0)
    d = as_pair(dilation, "dilation", 1)
    groups = as_int(groups, "groups", 1)
    c_in, c_out_g, kh, kw = w.shape
    if min(kh, kw) < 1 or c_out_g < 1 or c_in < 1:
        raise ValueError(f"w must have positive sizes, got shape {tuple(w.shape)}")
    if min(x.shape[2:]) < 1:
        raise ValueError(f"x must have positive height and width, got shape {tuple(x.shape)}")
    if x.shape[1] != c_in:
        raise ValueError(
            f"x has {x.shape[1]} channels but w expects w.shape[0] = {c_in} "
            "(a transposed conv weight is [C_in, C_out/groups, kH, kW])"
        )
    if c_in % groups:
        raise ValueError(f"groups {groups} must divide in_channels {c_in} (w.shape[0]); "
                         f"{c_in} % {groups} = {c_in % groups}")
    out_hw = conv_transpose_output_size(tuple(x.shape[2:]), (kh, kw), s, p, op, d)
    assert isinstance(out_hw, tuple)
    _check_bias(b, c_out_g * groups, x)
    return s, p, op, d, out_hw


# ---------------------------------------------------------------------------------------------
# Convolution (ch1, ch2)
# ---------------------------------------------------------------------------------------------


def conv2d_loops(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Convolution by its definition: slide the window over every output position (ch1, ch2).

    For output position ``(oy, ox)`` the window starts at input ``(oy·sH, ox·sW)`` of the
    zero-padded input and takes every ``dilation``-th pixel; each output channel is the sum of
    window × kernel over the window and the input channels of its group, plus the bias.
    Equal to ``F.conv2d(x, w, b, stride, padding, dilation, groups)``; ``w`` is
    ``[C_out, C_in/groups, kH, kW]``.
    """
    (sh, sw), (ph, pw), (dh, dw), groups, (oh, ow) = _check_conv_args(
        x, w, b, stride, padding, dilation, groups
    )
    n = x.shape[0]
    c_out, c_in_g, kh, kw = w.shape
    c_out_g = c_out // groups
    xp = F.pad(x, (pw, pw, ph, ph))  # zeros: left, right, top, bottom
    out = x.new_zeros(n, c_out, oh, ow)
    for g in range(groups):
        x_g = xp[:, g * c_in_g:(g + 1) * c_in_g]  # this group's input channels
        w_g = w[g * c_out_g:(g + 1) * c_out_g]  # this group's kernels
        for oy in range(oh):
            for ox in range(ow):
                y0, x0 = oy * sh, ox * sw
                window = x_g[:, :, y0:y0 + dh * (kh - 1) + 1:dh, x0:x0 + dw * (kw - 1) + 1:dw]
                # window: (N, C_in/groups, kH, kW); w_g: (C_out/groups, C_in/groups, kH, kW)
                out[:, g * c_out_g:(g + 1) * c_out_g, oy, ox] = torch.einsum(
                    "nchw,ochw->no", window, w_g
                )
    if b is not None:
        out = out + b.view(1, -1, 1, 1)
    return out


def conv2d_unfold(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Convolution as im2col + one matrix multiply per group (ch2).

    ``F.unfold`` copies every window into a column: ``(N, C_in·kH·kW, L)`` with ``L = oH·oW``
    windows. Each kernel flattened to a row of length ``C_in·kH·kW`` then meets every window
    in one matrix product ``(C_out, C_in·kH·kW) @ (N, C_in·kH·kW, L)``. With groups, each
    group's rows of the columns meet that group's kernels. Equal to ``F.conv2d``.
    """
    s, p, d, groups, (oh, ow) = _check_conv_args(x, w, b, stride, padding, dilation, groups)
    n = x.shape[0]
    c_out, c_in_g, kh, kw = w.shape
    c_out_g = c_out // groups
    cols = F.unfold(x, (kh, kw), dilation=d, padding=p, stride=s)  # (N, C_in·kH·kW, L)
    cols = cols.view(n, groups, c_in_g * kh * kw, oh * ow)  # each group's rows together
    rows = w.reshape(groups, c_out_g, c_in_g * kh * kw)  # one flattened kernel per row
    out = rows @ cols  # (groups, C_out/g, K) @ (N, groups, K, L) -> (N, groups, C_out/g, L)
    out = out.reshape(n, c_out, oh, ow)
    if b is not None:
        out = out + b.view(1, -1, 1, 1)
    return out


# ---------------------------------------------------------------------------------------------
# Transposed convolution (ch5)
# ---------------------------------------------------------------------------------------------


def conv_transpose2d_scatter(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> torch.Tensor:
    """Transposed convolution as scatter-add (ch5).

    Every input value, times the (dilated) kernel, is added into the *full* output at
    ``(y·sH, x·sW)``. The full output is ``(i-1)s + d(k-1) + 1`` per axis; then ``padding``
    crops ``p`` rows/columns from each side and ``output_padding`` adds rows/columns at the
    bottom/right. ``w`` is ``[C_in, C_out, kH, kW]`` like ``F.conv_transpose2d``, to which
    the result is equal.
    """
    (sh, sw), (ph, pw), (oph, opw), (dh, dw), (oh, ow) = _check_transpose_args(
        x, w, b, stride, padding, output_padding, dilation
    )
    n, _, ih, iw = x.shape
    _, c_out, kh, kw = w.shape
    full_h = (ih - 1) * sh + dh * (kh - 1) + 1
    full_w = (iw - 1) * sw + dw * (kw - 1) + 1
    # room for the output_padding rows/columns past the full output (they stay zero)
    full = x.new_zeros(n, c_out, full_h + oph, full_w + opw)
    for y in range(ih):
        for xx in range(iw):
            # (N, C_in) values times (C_in, C_out, kH, kW) kernels -> (N, C_out, kH, kW) copy
            stamp = torch.einsum("nc,cohw->nohw", x[:, :, y, xx], w)
            y0, x0 = y * sh, xx * sw
            full[:, :, y0:y0 + dh * (kh - 1) + 1:dh, x0:x0 + dw * (kw - 1) + 1:dw] += stamp
    out = full[:, :, ph:ph + oh, pw:pw + ow]
    if b is not None:
        out = out + b.view(1, -1, 1, 1)
    return out


def conv_transpose2d_zero_insert(
    x: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None = None,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    output_padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
    groups: int = 1,
) -> torch.Tensor:
    """Transposed convolution as zero insertion + an ordinary convolution (ch5).

    1. insert ``s-1`` zeros between neighbouring inputs;
    2. pad ``d(k-1)-p`` on top/left and ``d(k-1)-p+output_padding`` on bottom/right
       (a negative amount crops instead);
    3. convolve (stride 1, same dilation, same groups) with the kernel flipped in both spatial
       axes and with its in/out channel axes swapped within each group
       (``[C_in, C_out/g, kH, kW]`` -> ``[C_out, C_in/g, kH, kW]``).

    Equal to ``F.conv_transpose2d(x, w, b, stride, padding, output_padding, groups, dilation)``
    for every argument ``F.conv_transpose2d`` takes (``w`` is ``[C_in, C_out/groups, kH, kW]``).
    """
    (sh, sw), (ph, pw), (oph, opw), (dh, dw), _ = _check_transpose_args(
        x, w, b, stride, padding, output_padding, dilation, groups
    )
    n, c_in, ih, iw = x.shape
    _, c_out_g, kh, kw = w.shape
    spread = x.new_zeros(n, c_in, (ih - 1) * sh + 1, (iw - 1) * sw + 1)
    spread[:, :, ::sh, ::sw] = x  # s-1 zeros between neighbours
    top, left = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    bottom, right = top + oph, left + opw
    # F.pad pads with zeros for positive amounts and crops for negative ones
    padded = F.pad(spread, (left, right, top, bottom))
    # per group: [C_in/g, C_out/g, kH, kW] -> [C_out/g, C_in/g, kH, kW], flipped
    kernel = (w.flip(2, 3).reshape(groups, c_in // groups, c_out_g, kh, kw)
              .transpose(1, 2).reshape(groups * c_out_g, c_in // groups, kh, kw))
    return F.conv2d(padded, kernel, b, stride=1, padding=0, dilation=(dh, dw), groups=groups)


def conv_matrix(
    input_hw: IntOrPair,
    w: torch.Tensor,
    stride: IntOrPair = 1,
    padding: IntOrPair = 0,
    dilation: IntOrPair = 1,
) -> torch.Tensor:
    """The dense matrix ``C`` of a convolution, so ``conv2d(x, w).flatten() == C @ x.flatten()``
    (ch5).

    ``w`` is ``[C_out, C_in, kH, kW]`` and ``x`` one image ``[C_in, H, W]``; ``C`` has shape
    ``(C_out·oH·oW, C_in·H·W)``. Row ``(o, oy, ox)`` holds the kernel ``w[o]`` placed where the
    window of output ``(oy, ox)`` lies on the input (taps that fall into the padding are
    dropped). The transposed convolution is multiplication by ``C.T``:
    ``conv_transpose2d(y, w).flatten() == C.T @ y.flatten()`` — ``C.T`` is the transpose, not
    the inverse.
    """
    h, wd = as_pair(input_hw, "input_hw", 1)
    check_tensor(w, "w", 4, "(C_out, C_in, kH, kW)")
    s = as_pair(stride, "stride", 1)
    p = as_pair(padding, "padding", 0)
    d = as_pair(dilation, "dilation", 1)
    c_out, c_in, kh, kw = w.shape
    if min(c_out, c_in, kh, kw) < 1:
        raise ValueError(f"w must have positive sizes, got shape {tuple(w.shape)}")
    oh, ow = _conv_out_hw((h, wd), (kh, kw), s, p, d)
    matrix = w.new_zeros(c_out * oh * ow, c_in * h * wd)
    out_channels = torch.arange(c_out) * (oh * ow)  # row offset of each output channel
    in_channels = torch.arange(c_in) * (h * wd)  # column offset of each input channel
    for oy in range(oh):
        for ox in range(ow):
            rows = out_channels + oy * ow + ox
            for ky in range(kh):
                iy = oy * s[0] - p[0] + ky * d[0]
                if not 0 <= iy < h:
                    continue  # this kernel row lies in the padding
                for kx in range(kw):
                    ix = ox * s[1] - p[1] + kx * d[1]
                    if 0 <= ix < wd:
                        cols = in_channels + iy * wd + ix
                        matrix[rows[:, None], cols[None, :]] = w[:, :, ky, kx]
    return matrix


# ---------------------------------------------------------------------------------------------
# Receptive fields measured with autograd (ch4)
# ---------------------------------------------------------------------------------------------


def _ones_stack(layers: Any, channels: int, input_hw: tuple[int, int]) -> nn.Sequential:
    """Conv2d layers with all-ones weights, one per spatial layer of ``layers`` (float64).

    Checks first that every layer fits the size of its input, starting from ``input_hw``.
    """
    from convlab.arithmetic import conv_output_size, parse_layers

    modules = []
    hw: Any = input_hw
    for name, k, s, p, d in parse_layers(layers):
        try:
            hw = conv_output_size(hw, k, s, p, d)
        except ValueError as err:
            raise ValueError(
                f"{name} cannot run on an input of {input_hw[0]}x{input_hw[1]}: {err}"
            ) from None
        conv = nn.Conv2d(channels, channels, k, stride=s, padding=p, dilation=d, bias=False)
        conv = conv.double()
        with torch.no_grad():
            conv.weight.fill_(1.0)
        modules.append(conv)
    return nn.Sequential(*modules)


_FIELDS = ("theoretical", "effective")


def gradient_receptive_field(
    model_or_layers: Any,
    input_hw: IntOrPair,
    out_yx: tuple[int, int] | None = None,
    channels: int = 1,
    *,
    field: str = "theoretical",
) -> torch.Tensor:
    """Measure a receptive field with autograd: ``|d out[0, 0, y, x] / d input|`` (ch4).

    ``field`` says which field is measured, whatever ``model_or_layers`` is:

    - ``"theoretical"`` (the default; the one :func:`convlab.arithmetic.receptive_field`
      computes): ``model_or_layers`` is a list of ``(k, s, p, d)`` tuples and/or modules, or an
      ``nn.Sequential``; only its geometry is used. Every spatial layer becomes a ``Conv2d``
      with all-ones weights (float64, no bias), so every path adds a positive amount and no
      cancellation can hide a pixel. Pooling layers become such sum-pools too: ``MaxPool2d``
      would route the gradient to a single element per window (the largest), which measures
      where the maximum happened to be, not which pixels *could* influence the output.
      Activations, BatchNorm, Dropout are left out (they do not move information between
      pixels).
    - ``"effective"``: ``model_or_layers`` must be an ``nn.Module``; it runs as given (a float64
      copy in eval mode, its own weights, ReLU, max pooling), so the map shows which pixels
      influence the output for an all-ones input: it can be smaller than the theoretical field
      (max pooling passes the gradient to one element per window, ReLU blocks negative paths,
      zero weights cut paths).

    The input is ``(1, channels, H, W)`` of ones; ``out_yx`` defaults to the centre output
    pixel ``(oH // 2, oW // 2)``. Returns the ``H × W`` float64 map of gradient magnitudes,
    summed over input channels; use :func:`nonzero_extent` for its bounding box.
    """
    h, wd = as_pair(input_hw, "input_hw", 1)
    channels = as_int(channels, "channels", 1)
    if field not in _FIELDS:
        raise ValueError(f"field must be 'theoretical' or 'effective', got {field!r}")
    if field == "effective":
        if not isinstance(model_or_layers, nn.Module):
            raise TypeError(
                "field='effective' runs a real model, so model_or_layers must be an nn.Module "
                f"(e.g. an nn.Sequential), got {type(model_or_layers).__name__}; a list of "
                "(k, s, p, d) tuples has only a theoretical field"
            )
        model = copy.deepcopy(model_or_layers).double().eval()
    else:
        model = _ones_stack(model_or_layers, channels, (h, wd))
    x = torch.ones(1, channels, h, wd, dtype=torch.float64, requires_grad=True)
    try:
        out = model(x)
    except RuntimeError as err:
        raise ValueError(
            f"the model cannot run on a 1x{channels}x{h}x{wd} input: {err}"
        ) from err
    if out.dim() != 4:
        raise TypeError(f"the model must output (N, C, H, W), got shape {tuple(out.shape)}")
    oh, ow = out.shape[2:]
    oy, ox = output_position(out_yx, oh, ow)
    out[0, 0, oy, ox].backward()
    assert x.grad is not None
    return x.grad[0].abs().sum(dim=0).detach()


def nonzero_extent(grad_map: torch.Tensor) -> tuple[int, int, int, int]:
    """Bounding box ``(top, left, height, width)`` of the nonzero entries of a 2-D map (ch4).

    With dilation the field can have holes; the box spans from the first to the last nonzero
    row and column, which is what the receptive field size ``r`` measures.
    """
    if not isinstance(grad_map, torch.Tensor):
        raise TypeError(f"grad_map must be a torch.Tensor, got {type(grad_map).__name__}")
    if grad_map.dim() != 2:
        raise TypeError(f"grad_map must be 2-D (H, W), got shape {tuple(grad_map.shape)}")
    ys, xs = torch.nonzero(grad_map, as_tuple=True)
    if ys.numel() == 0:
        raise ValueError("grad_map has no nonzero entry, so it has no extent")
    top, left = int(ys.min()), int(xs.min())
    return top, left, int(ys.max()) - top + 1, int(xs.max()) - left + 1
