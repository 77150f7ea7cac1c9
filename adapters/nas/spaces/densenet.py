"""DenseNet / CondenseNet macro space: per dense block, its number of layers and growth rate.

Decision order: ``block0_layers, block0_growth, block1_layers, ...``.  The
builder makes a DenseNet-BC (BN-ReLU-Conv1x1 bottleneck to ``4k``, BN-ReLU-
Conv3x3 to ``k``, dense concatenation; transitions BN-ReLU-Conv1x1 with
compression 0.5 and 2x2 average pooling) or, with ``condense=True``, a
CondenseNet (learned group 1x1 conv, group 3x3 conv with channel shuffle,
pooling-only transitions).

Example:
    >>> import torch
    >>> space = densenet_space(n_blocks=2, layers=(1, 2), growth=(4, 8))
    >>> [v.name for v in space]
    ['block0_layers', 'block0_growth', 'block1_layers', 'block1_growth']
    >>> net = build_densenet({"block0_layers": 1, "block0_growth": 4, "block1_layers": 2,
    ...                       "block1_growth": 8}, input_shape=(1, 8, 8), num_classes=10)
    >>> tuple(net(torch.zeros(2, 1, 8, 8)).shape)
    (2, 10)
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
from torch import nn

from .dpp import CONDENSENET_CELL, DenseCell, DPPConfig


def densenet_space(n_blocks: int = 3, *, layers: Sequence[int] = (2, 4, 6, 8),
                   growth: Sequence[int] = (8, 12, 16, 24, 32)) -> list:
    """The block-wise space as Categorical variables in decision order."""
    from moopt.space import Categorical

    if n_blocks < 1:
        raise ValueError(f"n_blocks={n_blocks}: need at least one dense block.")
    out = []
    for b in range(n_blocks):
        out.append(Categorical(f"block{b}_layers", tuple(int(v) for v in layers)))
        out.append(Categorical(f"block{b}_growth", tuple(int(v) for v in growth)))
    return out


def densenet_blocks(params: Mapping) -> list[tuple[int, int]]:
    """``[(layers, growth)]`` per block of a candidate."""
    out, b = [], 0
    while f"block{b}_layers" in params:
        if f"block{b}_growth" not in params:
            raise ValueError(f"DenseNet candidate lacks 'block{b}_growth'.")
        out.append((int(params[f"block{b}_layers"]), int(params[f"block{b}_growth"])))
        b += 1
    if not out:
        raise ValueError("DenseNet candidate has no 'block0_layers'; expected block<i>_layers/growth.")
    return out


class _Transition(nn.Sequential):
    def __init__(self, cin: int, cout: int, pool: bool):
        mods = [nn.BatchNorm2d(cin), nn.ReLU(), nn.Conv2d(cin, cout, 1, bias=False)]
        if pool:
            mods.append(nn.AvgPool2d(2))
        super().__init__(*mods)


class DenseNetBC(nn.Module):
    """DenseNet-BC / CondenseNet of given (layers, growth) per block."""

    def __init__(self, blocks, input_shape, num_classes: int, *, condense: bool, groups: int = 4):
        super().__init__()
        cin, h, w = (int(v) for v in input_shape)
        c = 2 * blocks[0][1]
        self.stem = nn.Conv2d(cin, c, 3, padding=1, bias=False)
        mods: list[nn.Module] = []
        hw = min(h, w)
        for b, (n, k) in enumerate(blocks):
            if b > 0:
                pool = hw >= 2
                hw = hw // 2 if pool else hw
                if condense:
                    mods.append(nn.AvgPool2d(2) if pool else nn.Identity())
                else:
                    mods.append(_Transition(c, c // 2, pool))
                    c = c // 2
            cell = CONDENSENET_CELL if condense else ("bnrelu", "conv1x1", "bnrelu", "conv3x3")
            cfg = DPPConfig(stem_channels=c, stages=(n,), growth=(k,), groups=groups, condense_factor=groups)
            for _ in range(n):
                mods.append(DenseCell(cell, c, k, cfg))
                c += k
        self.features = nn.Sequential(*mods)
        self.head_norm = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        x = self.head_norm(self.features(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


def build_densenet(params: Mapping, *, input_shape: Sequence[int], num_classes: int,
                   condense: bool = False) -> nn.Module:
    """Build the DenseNet-BC (or CondenseNet, ``condense=True``) of a candidate."""
    return DenseNetBC(densenet_blocks(params), tuple(input_shape), int(num_classes), condense=condense)
