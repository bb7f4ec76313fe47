"""Upsampling with a transposed convolution initialised to bilinear interpolation.

Chapter 5 (transposed convolution) uses these helpers for its super-resolution taste: a
``nn.ConvTranspose2d`` whose kernel is the bilinear "tent" reproduces
``F.interpolate(mode="bilinear", align_corners=False)`` everywhere except a thin border, and is a
good starting point for a layer that then learns a better kernel.

Why the numbers work: with stride ``s``, kernel ``k`` and padding ``p``, output pixel ``j``
receives input pixel ``i`` through kernel tap ``m = j + p - i*s``. The tent kernel
``w[m] = 1 - |m - (k-1)/2| / s`` with ``k = 2s - (s mod 2)`` and ``p = (k - s) / 2`` gives the
weight ``1 - |(j + 0.5)/s - 0.5 - i|``, which is exactly bilinear interpolation at the source
coordinate ``(j + 0.5)/s - 0.5`` that ``align_corners=False`` uses. Near the border that
coordinate falls outside the input: ``F.interpolate`` clamps it to the edge pixel, while the
transposed convolution sees zeros there, so the outermost ``scale // 2`` rows and columns differ.
"""

from __future__ import annotations

import torch
from torch import nn

from convlab._validate import as_int


def bilinear_kernel_size(scale: int) -> int:
    """Kernel size ``k = 2*scale - scale % 2`` of the bilinear kernel for an integer ``scale``.

    Used in chapter 5. ``scale=2`` gives 4, ``scale=3`` gives 5.
    """
    s = as_int(scale, "scale", minimum=1)
    return 2 * s - s % 2


def bilinear_padding(scale: int) -> int:
    """Padding ``p = (k - scale) / 2`` that makes the bilinear transposed convolution line up.

    With it, a ``ConvTranspose2d(k, stride=scale, padding=p)`` maps size ``i`` to exactly
    ``scale * i``. Used in chapter 5; ``scale=2`` gives 1.
    """
    s = as_int(scale, "scale", minimum=1)
    return (bilinear_kernel_size(s) - s) // 2


def bilinear_kernel(scale: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The 2-D bilinear ("tent") kernel for upsampling by the integer factor ``scale``.

    Returns a ``(k, k)`` tensor with ``k = bilinear_kernel_size(scale)``: the outer product of the
    1-D tent ``1 - |m - (k-1)/2| / scale`` with itself. For ``scale=2`` the 1-D tent is
    ``[0.25, 0.75, 0.75, 0.25]``. Used in chapter 5.
    """
    s = as_int(scale, "scale", minimum=1)
    k = bilinear_kernel_size(s)
    centre = (k - 1) / 2
    taps = 1 - (torch.arange(k, dtype=torch.float64) - centre).abs() / s
    return torch.outer(taps, taps).to(dtype)


def bilinear_conv_transpose2d(channels: int, scale: int) -> nn.ConvTranspose2d:
    """A ``nn.ConvTranspose2d`` that upsamples each channel bilinearly by ``scale``.

    The layer has ``channels`` input and output channels, kernel ``bilinear_kernel_size(scale)``,
    stride ``scale``, padding ``bilinear_padding(scale)`` and a zero bias. Channel ``c`` of the
    output depends only on channel ``c`` of the input (the weight is zero between different
    channels). Away from a border of ``scale // 2`` pixels its output equals
    ``F.interpolate(x, scale_factor=scale, mode="bilinear", align_corners=False)``. Its weights
    are ordinary parameters, so the layer can then be trained. Used in chapter 5.
    """
    c = as_int(channels, "channels", minimum=1)
    s = as_int(scale, "scale", minimum=1)
    k = bilinear_kernel_size(s)
    layer = nn.ConvTranspose2d(c, c, kernel_size=k, stride=s, padding=bilinear_padding(s))
    with torch.no_grad():
        layer.weight.zero_()
        kernel = bilinear_kernel(s, dtype=layer.weight.dtype)
        for i in range(c):
            layer.weight[i, i] = kernel
        assert layer.bias is not None
        layer.bias.zero_()
    return layer
