"""NAS-Bench-201 cell space: string encoding, builder, analytic parameter count.

A cell is a DAG on 4 nodes; each of the 6 edges ``j -> i`` (``j < i``) carries
one op of ``none``, ``skip_connect``, ``nor_conv_1x1``, ``nor_conv_3x3``,
``avg_pool_3x3``.  The standard string lists, for node ``i = 1, 2, 3``, the
ops entering it: ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``.  :data:`OPS`, :data:`EDGES`,
:data:`EDGE_NAMES`, :func:`parse_arch` and :func:`format_arch` are those of the
torch-free :mod:`moopt.problems.nb201` (one codec for the benchmark and the builder).

The network (NAS-Bench-201's macro skeleton, C=16, N=5): a 3x3 stem conv
(``3 -> C``) with BN, three stages of ``N`` cells at ``C``, ``2C``, ``4C``
channels separated by residual reduction blocks (two ReLU-Conv3x3-BN with the
first at stride 2; shortcut = 2x2 average pool then 1x1 conv), then BN-ReLU,
global average pooling and a linear classifier.  ``nor_conv_kxk`` is
ReLU-Conv(kxk, no bias)-BN (affine); pooling and skip have no weights.

Example:
    >>> ops = parse_arch("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|")
    >>> ops
    ('nor_conv_3x3', 'none', 'skip_connect', 'avg_pool_3x3', 'nor_conv_1x1', 'none')
    >>> format_arch(ops) == "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    True
    >>> nb201_param_count(ops)   # 10 classes
    344346
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

# the op vocabulary, the edge order and the arch-string codec live in the torch-free benchmark module
from moopt.problems.nb201 import EDGE_NAMES, EDGES, OPS, format_arch, parse_arch

__all__ = ["OPS", "EDGES", "EDGE_NAMES", "parse_arch", "format_arch", "ops_from_params", "nb201_space",
           "build_nb201", "nb201_param_count", "NB201Net", "NB201Cell", "ResidualReduction", "ReLUConvBN", "Zero"]


def ops_from_params(params) -> tuple:
    """The 6 ops from a candidate: ``{"arch": str}`` or one entry per :data:`EDGE_NAMES`."""
    if "arch" in params:
        return parse_arch(params["arch"])
    missing = [n for n in EDGE_NAMES if n not in params]
    if missing:
        raise ValueError(f"NB201 candidate lacks {missing}; give 'arch' or every one of {list(EDGE_NAMES)}.")
    ops = tuple(params[n] for n in EDGE_NAMES)
    format_arch(ops)
    return ops


def _ops(arch) -> tuple:
    """The 6 op names of an NB201 string or of 6 ops (names or op codes), validated."""
    return parse_arch(arch if isinstance(arch, str) else format_arch(arch))


def nb201_space():
    """The NB201 space as 6 :class:`moopt.Categorical` variables (edge order)."""
    from moopt.space import Categorical

    return [Categorical(n, OPS) for n in EDGE_NAMES]


# --------------------------------------------------------------------------- builder
class ReLUConvBN(nn.Sequential):
    """ReLU, Conv (no bias), BN: NAS-Bench-201's conv op."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1):
        super().__init__(nn.ReLU(), nn.Conv2d(cin, cout, kernel, stride, kernel // 2, bias=False),
                         nn.BatchNorm2d(cout))


class Zero(nn.Module):
    """The ``none`` op: zeros of the input's shape."""

    def forward(self, x):
        return x.mul(0.0)


def _op(name: str, c: int) -> nn.Module:
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(c, c, 1)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c, c, 3)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise ValueError(f"unknown NB201 op {name!r}; choose one of {list(OPS)}.")


class NB201Cell(nn.Module):
    """One cell: node ``i`` is the sum of its incoming edges' ops."""

    def __init__(self, ops: Sequence[str], c: int):
        super().__init__()
        self.ops = tuple(ops)
        self.edges = nn.ModuleList(_op(o, c) for o in self.ops)

    def forward(self, x):
        nodes = [x]
        k = 0
        for i in range(1, 4):
            nodes.append(sum(self.edges[k + j](nodes[j]) for j in range(i)))
            k += i
        return nodes[3]


class ResidualReduction(nn.Module):
    """NB201's residual reduction: two ReLU-Conv3x3-BN (stride 2 then 1) + pooled 1x1 shortcut."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv_a = ReLUConvBN(cin, cout, 3, stride=2)
        self.conv_b = ReLUConvBN(cout, cout, 3)
        self.shortcut = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1, bias=False))

    def forward(self, x):
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Net(nn.Module):
    """The NB201 macro skeleton around one cell."""

    def __init__(self, ops, input_shape, num_classes: int, c: int = 16, n: int = 5):
        super().__init__()
        layers = [nn.Conv2d(int(input_shape[0]), c, 3, padding=1, bias=False), nn.BatchNorm2d(c)]
        for stage in range(3):
            width = c * 2 ** stage
            if stage:
                layers.append(ResidualReduction(width // 2, width))
            layers.extend(NB201Cell(ops, width) for _ in range(n))
        layers += [nn.BatchNorm2d(4 * c), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(4 * c, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def build_nb201(arch, *, input_shape: Sequence[int] = (3, 32, 32), num_classes: int = 10,
                channels: int = 16, cells_per_stage: int = 5) -> nn.Module:
    """Build the NB201 network of ``arch`` (a string or 6 ops).

    Args:
        arch: NB201 string or 6 ops (names or op codes 0..4) in edge order.
        input_shape: ``(channels, height, width)``; height/width >= 4.
        num_classes: Classifier outputs.
        channels: ``C`` of the first stage (16 in NB201).
        cells_per_stage: ``N`` (5 in NB201).

    Returns:
        Module mapping ``(n, *input_shape)`` to ``(n, num_classes)``.
    """
    ops = _ops(arch)
    return NB201Net(ops, input_shape, num_classes, channels, cells_per_stage)


def nb201_param_count(arch, *, num_classes: int = 10, in_channels: int = 3, channels: int = 16,
                      cells_per_stage: int = 5) -> int:
    """Parameter count of :func:`build_nb201`'s network, derived analytically.

    ``nor_conv_1x1`` on width ``c`` holds ``c*c + 2c`` weights (conv + BN
    affine), ``nor_conv_3x3`` ``9c*c + 2c``; the other ops none.  The
    skeleton adds the stem (``9 * in * C + 2C``), the two reductions
    (``9*cin*cout + 2cout + 9*cout^2 + 2cout + cin*cout``), the last BN
    (``2 * 4C``) and the classifier (``4C * classes + classes``).
    """
    ops = _ops(arch)
    c, n = channels, cells_per_stage
    total = 9 * in_channels * c + 2 * c
    for stage in range(3):
        w = c * 2 ** stage
        if stage:
            cin = w // 2
            total += 9 * cin * w + 2 * w + 9 * w * w + 2 * w + cin * w
        per_cell = sum({"nor_conv_1x1": w * w + 2 * w, "nor_conv_3x3": 9 * w * w + 2 * w}.get(o, 0) for o in ops)
        total += n * per_cell
    total += 2 * 4 * c + 4 * c * num_classes + num_classes
    return total
