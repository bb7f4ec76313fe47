"""Shared argument checks for :mod:`convlab.arithmetic` and :mod:`convlab.reference`.

Every public convlab function turns bad input into a ``TypeError`` (wrong kind of value: float,
bool, str, tensor with the wrong number of dimensions) or a ``ValueError`` (right kind, wrong
range) whose message names the rule and the numbers. These helpers keep those messages uniform.
They are private: chapters never call them.
"""

from __future__ import annotations

import operator
from typing import Any

import torch

#: PyTorch stores sizes, strides and paddings as 64-bit integers; larger values overflow there.
INT64_MAX = 2**63 - 1

#: Either one integer (used for height and width) or a (height, width) pair.
IntOrPair = int | tuple[int, int]


def as_int(value: Any, name: str, minimum: int = 0) -> int:
    """Return ``value`` as a Python int, or raise a clear ``TypeError``/``ValueError``.

    Accepts ``int`` and integer-like objects (``numpy.int64``, 0-d integer tensors) but not
    ``bool`` (``True`` is not a size), ``float`` (even ``3.0``, as PyTorch also refuses it) or
    ``str``. ``minimum`` is the smallest allowed value (1 for sizes and strides, 0 for padding).
    """
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, got the bool {value!r}")
    if isinstance(value, float):
        raise TypeError(f"{name} must be an integer, got the float {value!r}")
    try:
        result = operator.index(value)
    except TypeError:
        raise TypeError(
            f"{name} must be an integer, got {value!r} of type {type(value).__name__}"
        ) from None
    if result < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if minimum == 0:
            kind = "a non-negative integer"
        raise ValueError(f"{name} must be {kind}, got {result}")
    if result > INT64_MAX:
        raise ValueError(
            f"{name} must fit in a 64-bit integer (at most 2**63-1, as in PyTorch), got {result}"
        )
    return result


def as_pair(value: Any, name: str, minimum: int = 0) -> tuple[int, int]:
    """Return ``value`` as a ``(height, width)`` pair of ints.

    An int means the same value for both axes (PyTorch's convention); a tuple or list must have
    exactly two entries.
    """
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(
                f"{name} must be an integer or a (height, width) pair of 2 integers, "
                f"got {len(value)} values {tuple(value)!r}"
            )
        return (
            as_int(value[0], f"{name} (height)", minimum),
            as_int(value[1], f"{name} (width)", minimum),
        )
    v = as_int(value, name, minimum)
    return (v, v)


def is_pair(value: Any) -> bool:
    """True if ``value`` is given as a tuple or list (so a function should answer per axis)."""
    return isinstance(value, tuple | list)


def output_position(out_yx: Any, oh: int, ow: int) -> tuple[int, int]:
    """The output pixel ``(y, x)`` to study in an oh×ow output; ``None`` means its centre."""
    if out_yx is None:
        return oh // 2, ow // 2
    if not isinstance(out_yx, tuple | list) or len(out_yx) != 2:
        raise TypeError(f"out_yx must be a (y, x) pair, got {out_yx!r}")
    oy, ox = as_int(out_yx[0], "out_yx y", 0), as_int(out_yx[1], "out_yx x", 0)
    if oy >= oh or ox >= ow:
        raise ValueError(f"out_yx {(oy, ox)} lies outside the {oh}x{ow} output")
    return oy, ox


def as_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a bool, else raise ``TypeError``."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r} of type "
                        f"{type(value).__name__}")
    return value


def check_tensor(value: Any, name: str, ndim: int, layout: str) -> torch.Tensor:
    """Check that ``value`` is a floating-point tensor with ``ndim`` dimensions.

    ``layout`` names the dimensions for the message, e.g. ``"(N, C, H, W)"``.
    """
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor {layout}, got {type(value).__name__}")
    if value.dim() != ndim:
        hint = ""
        if name == "x" and value.dim() == ndim - 1:
            hint = "; add a batch dimension with x.unsqueeze(0)"
        raise TypeError(
            f"{name} must be a {ndim}-D tensor {layout}, got {value.dim()}-D "
            f"with shape {tuple(value.shape)}{hint}"
        )
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    return value
