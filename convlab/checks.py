"""Exercise checkers: run the learner's answer on many cases and give specific, kind feedback.

Every checker takes the learner's function (or value), compares it with PyTorch on a set of
cases (including edge cases) and returns a :class:`CheckResult`. The checker prints nothing:
the result *is* the feedback. Put the call last in a notebook cell and the cell shows the
feedback exactly once; in a script use ``print(result)``, ``result.passed``, ``result.score``.

A checker never raises because of the learner's answer: a wrong type, a wrong shape, an
exception in the learner's code, a ``NotImplementedError`` stub, an exit, an output flood, or
code slower than ``time_limit`` seconds is reported in words. The learner's function runs in a
child process (:mod:`convlab.sandbox`) that is killed when the time limit is reached, so nothing
keeps running afterwards and nothing it does reaches the notebook. Every case counts: the score
is correct cases / all cases, and a case that raised, did not finish or was not run is failed
(:mod:`convlab.feedback` words the result). Expected values are computed in the calling
process; the child only reports what the learner's code returned, whether it changed its inputs
in place, and whether it called a function the exercise rules out.

Checkers and the learner's signature they expect (chapter in brackets):

* ``check_output_size(fn)`` — ``fn(i, k, s=1, p=0, d=1) -> int`` [1]
* ``check_output_sizes_table(answers)`` — ``{(i, k, s, p, d): o}`` (trailing entries may be
  omitted: ``(i, k)``, ``(i, k, s)``, ...; a value ``...`` means "not filled in yet") [1]
* ``check_same_padding(p, k=7, d=1)`` — the padding that keeps the size at stride 1 [1]
* ``check_conv2d(fn, conv2d="forbidden")`` — ``fn(x, w, b=None, stride=1, padding=0) ->
  Tensor`` on ``(N, C, H, W)`` input against ``F.conv2d``, with no convolution call allowed
  [1]; ``conv2d="single-channel"`` allows bias-free single-channel ``F.conv2d`` calls [2]
* ``check_param_count(fn)`` — ``fn(c_in, c_out, k, bias=True) -> int`` for one ``Conv2d`` [2]
* ``check_network_params(answer, model)`` — an ``int``: the parameter count of ``model`` [2]
* ``check_groups_answer(answer, c_in, c_out, k, groups, bias=True)`` — an ``int``: the
  parameter count of a grouped (``groups=c_in``: depthwise) ``Conv2d`` [2]
* ``check_shapes(answers, expected)`` — ``{name: shape}`` predictions against shapes the
  chapter computed by running torch modules [2]
* ``check_prediction(answer, actual, explain="")`` — "commit to an answer, then we run the
  code"; ``answer = ...`` means "not answered yet" [3, 4]
* ``check_training_loop(train_fn)`` — ``train_fn(model, optimizer, batches, loss_fn) ->
  list of losses``: a training loop (the gradient-accumulation bug fixed) [3]
* ``check_gan_discriminator_step(step_fn)`` — ``step_fn(generator, discriminator,
  d_optimizer, real, z)``: one discriminator update of a tiny GAN (``discriminator`` returns
  logits; use binary cross-entropy with real = 1, fake = 0) [3]
* ``check_receptive_field(fn)`` — ``fn(layers) -> (r, j)`` for a list of ``(k, s, p, d)`` [4]
* ``check_rf_design(layers, target=15, channels=64)`` — a stride-1 stack (kernel sizes from
  3, 5, 7, or ``(k, s, p, d)`` tuples, or an ``nn.Sequential`` of ``Conv2d``) reaching field
  ``target`` with the fewest parameters [4]
* ``check_transposed_output_size(fn)`` — ``fn(i, k, s=1, p=0, output_padding=0, d=1)`` [5]
* ``check_conv_transpose2d(fn)`` — scatter-add ``fn(x, w, stride=1, padding=0)`` against
  ``F.conv_transpose2d`` (``w`` is ``(C_in, C_out, k, k)``), no convolution call allowed [5]
* ``check_output_padding(answer, *, i=None, k=3, s=2, p=1)`` — ``answer`` is a function
  ``fn(i, k, s, p) -> output_padding`` (checked on many cases) or an ``int`` for the given
  ``i, k, s, p``; verified by running ``Conv2d`` then ``ConvTranspose2d`` [5]

This module is the checkers' public face; they live by concern: :mod:`convlab.check_runner`
(running the learner's code, the score), :mod:`convlab.checks_formulas` (size and count
formulas, PyTorch's ground truth), :mod:`convlab.checks_tensors` (the learner's convolutions),
:mod:`convlab.checks_values` (values written down, chapters 1-2),
:mod:`convlab.checks_autograd` (chapter 3), :mod:`convlab.checks_fields` (chapter 4) and
:mod:`convlab.checks_transposed` (chapter 5).
"""

from convlab.check_runner import DEFAULT_TIME_LIMIT
from convlab.checks_autograd import (
    check_gan_discriminator_step,
    check_prediction,
    check_training_loop,
    seeded_linear,
)
from convlab.checks_fields import check_receptive_field, check_rf_design
from convlab.checks_formulas import (
    check_output_size,
    check_param_count,
    check_transposed_output_size,
)
from convlab.checks_tensors import check_conv2d, check_conv_transpose2d
from convlab.checks_transposed import check_output_padding
from convlab.checks_values import (
    check_groups_answer,
    check_network_params,
    check_output_sizes_table,
    check_same_padding,
    check_shapes,
)
from convlab.feedback import CaseResult, CheckResult

__all__ = [
    "CaseResult",
    "CheckResult",
    "DEFAULT_TIME_LIMIT",
    "check_conv2d",
    "check_conv_transpose2d",
    "check_gan_discriminator_step",
    "check_groups_answer",
    "check_network_params",
    "check_output_padding",
    "check_output_size",
    "check_output_sizes_table",
    "check_param_count",
    "check_prediction",
    "check_rf_design",
    "check_receptive_field",
    "check_same_padding",
    "check_shapes",
    "check_training_loop",
    "check_transposed_output_size",
    "seeded_linear",
]
