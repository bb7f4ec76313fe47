"""The geometry of real networks, written out layer by layer (ch4).

Chapter 4 computes the receptive fields of well-known networks from their architectures rather
than quoting figures. torchvision cannot be installed next to the course's PyTorch, so the
layers are written out here, following the ResNet paper's architecture table (He et al.,
"Deep Residual Learning for Image Recognition", CVPR 2016, Table 1) and torchvision's
``torchvision/models/resnet.py`` for the details the table leaves open (padding, and where the
stride of a downsampling block sits).

A residual block adds its input (the *shortcut*, an identity or a strided 1×1 convolution) to
the output of its *main path*. The shortcut is never longer than the main path, so the
theoretical receptive field is that of the main paths one after the other:
:func:`resnet_main_path` returns exactly that chain, as an ``nn.Sequential`` that runs (random
weights, no download) and that :func:`convlab.receptive_field` reads.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from convlab._validate import as_bool, as_int

# blocks per stage (conv2_x ... conv5_x of the paper's Table 1) and the block type
RESNET_STAGES: dict[int, tuple[str, tuple[int, int, int, int]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
_WIDTHS = (64, 128, 256, 512)  # 3×3 width of each stage; a bottleneck outputs 4× as many


def _basic_path(c_in: int, width: int, stride: int) -> nn.Sequential:
    """Main path of a basic block: two 3×3 convolutions (the first carries the stride)."""
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(c_in, width, 3, stride=stride, padding=1, bias=False)),
        ("bn1", nn.BatchNorm2d(width)),
        ("relu", nn.ReLU()),
        ("conv2", nn.Conv2d(width, width, 3, padding=1, bias=False)),
        ("bn2", nn.BatchNorm2d(width)),
    ]))


def _bottleneck_path(c_in: int, width: int, stride: int, stride_in_1x1: bool) -> nn.Sequential:
    """Main path of a bottleneck block: 1×1 (reduce), 3×3, 1×1 (expand ×4)."""
    s1, s3 = (stride, 1) if stride_in_1x1 else (1, stride)
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv2d(c_in, width, 1, stride=s1, bias=False)),
        ("bn1", nn.BatchNorm2d(width)),
        ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(width, width, 3, stride=s3, padding=1, bias=False)),
        ("bn2", nn.BatchNorm2d(width)),
        ("relu2", nn.ReLU()),
        ("conv3", nn.Conv2d(width, 4 * width, 1, bias=False)),
        ("bn3", nn.BatchNorm2d(4 * width)),
    ]))


def resnet_main_path(depth: int, stride_in_1x1: bool = False) -> nn.Sequential:
    """The stem and every block's main path of ResNet-``depth``, one after the other (ch4).

    ``depth`` is 18 or 34 (basic blocks: two 3×3 convolutions) or 50, 101 or 152 (bottleneck
    blocks: 1×1, 3×3, 1×1 — one 3×3 each). The stem is a 7×7 convolution with stride 2 and
    padding 3, then 3×3 max pooling with stride 2 and padding 1; stages 2–4 start with a block
    of stride 2. In a bottleneck block torchvision puts that stride on the 3×3 convolution
    ("ResNet v1.5", the default); ``stride_in_1x1=True`` puts it on the first 1×1 as the
    original paper and Caffe model do. Modules are named as in torchvision (``layer3.0.conv2``);
    shortcuts, the final pooling and the classifier are left out (they do not lengthen the
    longest path). Weights are random: only the geometry is meant.
    """
    depth = as_int(depth, "depth", 1)
    stride_in_1x1 = as_bool(stride_in_1x1, "stride_in_1x1")
    if depth not in RESNET_STAGES:
        raise ValueError(f"ResNet depth must be one of {sorted(RESNET_STAGES)}, got {depth}")
    kind, blocks = RESNET_STAGES[depth]
    if stride_in_1x1 and kind == "basic":
        raise ValueError(f"ResNet-{depth} has basic blocks (no 1×1 convolution): "
                         "stride_in_1x1 applies to bottleneck blocks (depth 50, 101, 152)")
    layers: OrderedDict[str, nn.Module] = OrderedDict([
        ("conv1", nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)),
        ("bn1", nn.BatchNorm2d(64)),
        ("relu", nn.ReLU()),
        ("maxpool", nn.MaxPool2d(3, stride=2, padding=1)),
    ])
    c_in = 64
    for stage, (n_blocks, width) in enumerate(zip(blocks, _WIDTHS, strict=True), start=1):
        stage_blocks = []
        for b in range(n_blocks):
            stride = 2 if stage > 1 and b == 0 else 1
            if kind == "basic":
                stage_blocks.append(_basic_path(c_in, width, stride))
                c_in = width
            else:
                stage_blocks.append(_bottleneck_path(c_in, width, stride, stride_in_1x1))
                c_in = 4 * width
        layers[f"layer{stage}"] = nn.Sequential(*stage_blocks)
    return nn.Sequential(layers)
