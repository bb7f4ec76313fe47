"""Answers written the way a learner would (loops, plain formulas), independently of convlab.

Shared by the checker tests: the reference solutions every checker must accept.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def size_ok(i, k, s=1, p=0, d=1):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


def conv2d_ok(x, w, b=None, stride=1, padding=0):
    n, _c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    xp = F.pad(x, (padding,) * 4)
    oh, ow = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    out = torch.zeros(n, c_out, oh, ow)
    for r in range(oh):
        for c in range(ow):
            window = xp[:, :, r * stride:r * stride + kh, c * stride:c * stride + kw]
            out[:, :, r, c] = torch.einsum("nchw,ochw->no", window, w)
    if b is not None:
        out += b.view(1, -1, 1, 1)
    return out


def transpose_ok(x, w, stride=1, padding=0):
    n, c_in, h, wd = x.shape
    _, c_out, k, _ = w.shape
    out = torch.zeros(n, c_out, (h - 1) * stride + k, (wd - 1) * stride + k)
    for r in range(h):
        for c in range(wd):
            out[:, :, r * stride:r * stride + k, c * stride:c * stride + k] += torch.einsum(
                "ni,iokl->nokl", x[:, :, r, c], w)
    return out[:, :, padding:out.shape[2] - padding, padding:out.shape[3] - padding]


def channel_loops(x, w, b=None, stride=1, padding=0):
    """Chapter 2's answer: single-channel F.conv2d pieces, summed, one bias per kernel."""
    channels = []
    for c_o in range(w.shape[0]):
        total = 0
        for c_i in range(w.shape[1]):
            total = total + F.conv2d(x[:, c_i:c_i + 1], w[c_o:c_o + 1, c_i:c_i + 1],
                                     stride=stride, padding=padding)
        if b is not None:
            total = total + b[c_o]
        channels.append(total)
    return torch.cat(channels, dim=1)


def train_ok(model, optimizer, batches, loss_fn):
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
