"""Tests for convlab.architectures: the ResNet layer lists chapter 4 reads its fields from.

The layer lists are checked against facts published independently of this code: the block
counts and widths of He et al. (2016), Table 1, and the parameter counts of the reference
models (ResNet-18: 11,689,512; ResNet-50: 25,557,032 — the figures torchvision and the
model cards give), to which the shortcuts and the classifier left out of the main path are
added here. The receptive fields are then measured with autograd on the real modules.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from convlab import receptive_field
from convlab.architectures import RESNET_STAGES, resnet_main_path
from convlab.reference import gradient_receptive_field, nonzero_extent

PUBLISHED_PARAMETERS = {18: 11_689_512, 50: 25_557_032}


def _shortcut_and_classifier_parameters(depth: int) -> int:
    """Parameters outside the main path: strided 1×1 shortcuts (+ BatchNorm) and the fc layer."""
    kind, _ = RESNET_STAGES[depth]
    expansion = 1 if kind == "basic" else 4
    total, c_in = 0, 64
    for width in (64, 128, 256, 512):
        c_out = width * expansion
        if c_in != c_out or width != 64:  # a projection shortcut: 1×1 conv and BatchNorm
            total += c_in * c_out + 2 * c_out
        c_in = c_out
    return total + c_in * 1000 + 1000  # fc to the 1000 ImageNet classes


@pytest.mark.parametrize("depth", [18, 50])
def test_main_path_plus_shortcuts_has_the_published_parameter_count(depth):
    net = resnet_main_path(depth)
    main = sum(p.numel() for p in net.parameters())
    assert main + _shortcut_and_classifier_parameters(depth) == PUBLISHED_PARAMETERS[depth]


@pytest.mark.parametrize(("depth", "three_by_three", "one_by_one"),
                         [(18, 16, 0), (34, 32, 0), (50, 16, 32), (101, 33, 66)])
def test_block_convolutions_follow_the_paper_table(depth, three_by_three, one_by_one):
    convs = [m for m in resnet_main_path(depth).modules() if isinstance(m, nn.Conv2d)]
    assert convs[0].kernel_size == (7, 7) and convs[0].stride == (2, 2)
    sizes = [m.kernel_size[0] for m in convs[1:]]
    assert (sizes.count(3), sizes.count(1)) == (three_by_three, one_by_one)


@pytest.mark.parametrize(("depth", "channels"), [(18, 512), (50, 2048)])
def test_runs_and_ends_at_stride_32(depth, channels):
    net = resnet_main_path(depth)
    with torch.no_grad():
        out = net(torch.zeros(1, 3, 224, 224))
    assert out.shape == (1, channels, 7, 7)
    assert receptive_field(net)[-1].j == 32


@pytest.mark.parametrize("stride_in_1x1", [False, True])
def test_stem_and_first_two_stages_field_measured_with_autograd(stride_in_1x1):
    net = resnet_main_path(50, stride_in_1x1=stride_in_1x1)
    part = nn.Sequential(*list(net.children())[:6])  # stem, layer1, layer2
    r = receptive_field(part)[-1].r
    _, _, h, w = nonzero_extent(gradient_receptive_field(part, 160))
    assert (h, w) == (r, r)


def test_where_the_bottleneck_stride_sits_changes_the_field():
    # stride on the 3×3 (torchvision): it runs at the old jump; on the 1×1 it runs at twice it
    fields = [receptive_field(resnet_main_path(50, stride_in_1x1=f))[-1].r for f in (False, True)]
    assert fields[0] < fields[1]
    strided = resnet_main_path(50, stride_in_1x1=True).layer2[0]
    assert strided.conv1.stride == (2, 2) and strided.conv2.stride == (1, 1)


@pytest.mark.parametrize(
    ("args", "exc", "fragment"),
    [
        ((19,), ValueError, "ResNet depth must be one of [18, 34, 50, 101, 152], got 19"),
        ((18, True), ValueError, "ResNet-18 has basic blocks"),
        ((50.0,), TypeError, "depth"),
        ((50, 1), TypeError, "stride_in_1x1 must be True or False"),
    ],
)
def test_bad_input(args, exc, fragment):
    with pytest.raises(exc) as info:
        resnet_main_path(*args)
    assert fragment in str(info.value)
