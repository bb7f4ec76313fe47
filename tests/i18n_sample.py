"""A sample of the texts convlab makes, for tests/test_i18n_convlab.py.

``renderings(**lang)`` calls convlab's public functions and returns the reader-visible texts
they produce (feedback, captions, labels, quiz messages). It runs unchanged on a convlab
without languages (``renderings()``): that is how ``tests/i18n_english_sample.json`` was made,
from the code before languages existed, so that the test compares today's ``lang="en"`` with
independent English, not with itself.

Regenerate the JSON only on purpose (when an English text is meant to change)::

    PYTHONPATH=<reference checkout> python tests/i18n_sample.py \
        > tests/i18n_english_sample.json
"""

from __future__ import annotations

import json
import sys
from typing import Any

import torch


def _wrong_size(i, k, s=1, p=0, d=1):
    return (i - k) // s  # forgets the padding, the dilation and the +1


def _stub_conv(x, w, b=None, stride=1, padding=0):
    raise NotImplementedError("write the sliding window")


def _slow_params(c_in, c_out, k, bias=True):
    return c_in * c_out * k * k  # forgets the biases


def renderings(**lang: Any) -> dict[str, str]:
    """Reader-visible texts of a sample of calls; ``lang`` is ``{}`` or ``{"lang": ...}``."""
    from convlab import arithmetic, checks, draw, explore, quiz
    from convlab import backward_graph as bg
    from convlab import channel_window as cw
    from convlab import graph as gr

    out: dict[str, str] = {}
    q = quiz.number("Output size for i=28, k=5, p=2?", answer=28,
                    hints={24: "24 is the size without padding."}, revisit="Padding", **lang)
    for response in ("28", "24", "27", "twenty"):
        out[f"quiz.number {response}"] = q.feedback(response)[1]
    out["quiz.number repr"] = repr(q)
    s = quiz.shape("Shape of conv(x)?", answer=(1, 8, 14, 14), **lang)
    for response in ("1, 8, 14", "(1, 8, 12, 12)", "nope"):
        out[f"quiz.shape {response}"] = s.feedback(response)[1]
    c = quiz.choice("Which are true?", ["A", "B", "C"], correct={0, 2}, **lang)
    for response in ([0], [], [0, 2]):
        out[f"quiz.choice {response}"] = c.feedback(response)[1]
    one = quiz.choice("Pick one", ["A", "B"], correct=1, **lang)
    out["quiz.choice none"] = one.feedback([])[1]

    out["check_output_size"] = str(checks.check_output_size(_wrong_size, **lang))
    out["check_conv2d stub"] = str(checks.check_conv2d(_stub_conv, **lang))
    out["check_param_count"] = str(checks.check_param_count(_slow_params, **lang))
    out["check_param_count not callable"] = str(checks.check_param_count(7, **lang))
    out["check_prediction"] = str(checks.check_prediction(3, 4, explain="Padding adds 2p.",
                                                          **lang))
    out["check_prediction unanswered"] = str(checks.check_prediction(..., 4, **lang))
    out["check_same_padding"] = str(checks.check_same_padding(2, k=7, **lang))
    out["check_receptive_field"] = str(checks.check_receptive_field(
        lambda layers: (len(layers), 1), **lang))

    out["draw.conv_window"] = draw.conv_window(5, 3, 2, 1, 1, **lang).caption
    out["draw.conv_window d=2"] = draw.conv_window(7, 3, 1, 0, 2, **lang).caption
    out["draw.unreached_pixels"] = draw.unreached_pixels(**lang).caption
    out["draw.kernel_stack"] = draw.kernel_stack(**lang).caption
    out["draw.output_pixel_gradient"] = draw.output_pixel_gradient(**lang).caption
    out["draw.output_pixel_gradient d=2"] = draw.output_pixel_gradient(
        7, 3, 1, 1, 2, **lang).caption
    out["draw.transposed_scatter"] = draw.transposed_scatter(3, 3, 2, 1, 1, **lang).caption
    out["draw.stride_zero_insertion"] = draw.stride_zero_insertion(**lang).caption
    out["draw.overlap_heatmap"] = draw.overlap_heatmap(**lang).caption
    out["draw.receptive_fields"] = draw.receptive_fields([(3, 2, 0, 1)] * 2, **lang).caption

    out["channel_window"] = cw.channel_window(**lang).caption
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    y = ((a * 2) * w).sum()
    out["graph.autograd_graph"] = gr.autograd_graph(y, {"a": a, "w": w}, **lang).caption
    out["backward_graph"] = bg.backward_graph(y, {"a": a, "w": w}, **lang).caption

    table = arithmetic.receptive_field([(3, 1, 1), (3, 2, 1)], **lang)
    out["receptive_field str"] = str(table)
    out["receptive_field html"] = table._repr_html_()

    ex = explore.conv_explorer(**lang)
    out["conv_explorer title"] = ex.children[0].value
    out["conv_explorer sliders"] = " | ".join(
        str(child.description) for child in ex.children[1:] if hasattr(child, "description"))
    return out


if __name__ == "__main__":
    json.dump(renderings(), sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
    sys.stdout.write("\n")
