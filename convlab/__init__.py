"""ConvLab: small, tested helpers for an interactive course on convolution in PyTorch.

The course's formulas and reference implementations are re-exported here. Figures
(:mod:`convlab.draw`), slider explorers (:mod:`convlab.explore`), exercise checkers
(:mod:`convlab.checks`) and self-grading quick checks (:mod:`convlab.quiz`) are imported
from their own modules, so that ``import convlab`` stays light and has no side effects. Every
function that makes reader-visible text takes ``lang`` (:mod:`convlab.i18n`; default English).
"""

from convlab.arithmetic import (
    conv_input_sizes,
    conv_output_size,
    conv_params,
    conv_transpose_output_size,
    receptive_field,
)
from convlab.reference import (
    conv2d_loops,
    conv2d_unfold,
    conv_matrix,
    conv_transpose2d_scatter,
    conv_transpose2d_zero_insert,
)

__all__ = [
    "conv_output_size",
    "conv_transpose_output_size",
    "conv_input_sizes",
    "conv_params",
    "receptive_field",
    "conv2d_loops",
    "conv2d_unfold",
    "conv_transpose2d_scatter",
    "conv_transpose2d_zero_insert",
    "conv_matrix",
]
