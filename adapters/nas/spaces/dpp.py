"""DPP-Net cell space (progressive) and its network builder.

A *cell* is a token sequence ``Norm, Conv, Norm, Conv, ...`` (norm tokens at
even positions, conv tokens at odd ones) with

* Norm in ``bnrelu`` (BN + ReLU), ``bn``, ``id`` (identity);
* Conv in ``conv1x1``, ``conv3x3``, ``gconv1x1``, ``gconv3x3`` (group convs,
  optionally followed by a ShuffleNet channel shuffle), ``lgconv1x1``
  (CondenseNet's learned group conv, condensed for inference) and
  ``dwconv3x3`` (depthwise).

The network stacks the same cell CondenseNet-style: a 3x3 stem, ``len(stages)``
dense blocks (cell ``i`` of a block sees the concatenation of the stem/previous
block output and every earlier cell output, and adds ``growth`` channels),
2x2 average-pool transitions between blocks, then BN-ReLU, global average
pooling and a linear classifier.  Inside a cell every conv but the last
outputs ``bottleneck * growth`` channels, the last outputs ``growth``.

The space grows a cell one token (layer) at a time
(:class:`~moopt.search.progressive.ProgressiveSpace`): the first step holds every
``(norm, conv)`` pair, and expansion alternates norm and conv tokens up to
``max_length``.

Example:
    >>> import torch
    >>> space = DPPCellSpace(max_length=4)
    >>> len(space.initial())                 # 3 norms x 6 convs
    18
    >>> net = build_dpp(("bnrelu", "conv3x3"), input_shape=(1, 8, 8), num_classes=10,
    ...                 config=DPPConfig(stem_channels=8, stages=(1, 1), growth=(4, 8)))
    >>> tuple(net(torch.zeros(2, 1, 8, 8)).shape)
    (2, 10)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterator, Sequence

import torch
from torch import nn

from moopt.search.progressive.space import ProgressiveSpace

from ..ops import CONV_OPS, NORM_OPS, make_conv, make_norm

TOKENS = NORM_OPS + CONV_OPS


@dataclass(frozen=True)
class DPPConfig:
    """Macro skeleton of a DPP-Net network.

    Attributes:
        stem_channels: Output channels of the 3x3 stem conv.
        stages: Cells per dense block.
        growth: Growth rate of each block (CondenseNet doubles it per block).
        bottleneck: Inner conv width is ``bottleneck * growth``.
        groups: Groups of the group / learned group convs.
        condense_factor: CondenseNet's ``C`` for learned group convs.
        shuffle: Channel shuffle after group convs.
    """

    stem_channels: int = 16
    stages: tuple = (2, 2, 2)
    growth: tuple = (8, 16, 32)
    bottleneck: int = 4
    groups: int = 4
    condense_factor: int = 4
    shuffle: bool = True

    def __post_init__(self):
        object.__setattr__(self, "stages", tuple(int(s) for s in self.stages))
        object.__setattr__(self, "growth", tuple(int(g) for g in self.growth))
        if len(self.stages) != len(self.growth) or not self.stages:
            raise ValueError(
                f"DPPConfig: stages {self.stages} and growth {self.growth} need the same non-zero length."
            )
        if min(self.stages) < 1 or min(self.growth) < 1 or self.stem_channels < 1 or self.bottleneck < 1:
            raise ValueError("DPPConfig: stages, growth, stem_channels and bottleneck must be positive.")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["stages"], d["growth"] = list(self.stages), list(self.growth)
        return d


def is_valid_cell(seq: Sequence, max_length: int | None = None) -> bool:
    """True when ``seq`` alternates norm (even positions) and conv tokens and holds a conv."""
    seq = tuple(seq)
    if len(seq) < 2 or (max_length is not None and len(seq) > max_length):
        return False
    for i, t in enumerate(seq):
        if (t not in NORM_OPS) if i % 2 == 0 else (t not in CONV_OPS):
            return False
    return True


def check_cell(seq: Sequence) -> tuple:
    """Return ``seq`` as a tuple or raise a ValueError that says what is wrong."""
    seq = tuple(seq)
    if not is_valid_cell(seq):
        raise ValueError(
            f"invalid DPP-Net cell {seq!r}: a cell alternates a norm token {list(NORM_OPS)} at even "
            f"positions and a conv token {list(CONV_OPS)} at odd positions, starting with a norm, "
            "and holds at least one conv."
        )
    return seq


class DPPCellSpace(ProgressiveSpace):
    """The DPP-Net cell space for :mod:`moopt.search.progressive`.

    Args:
        max_length: Longest cell in tokens (``6`` = three norm/conv layers).
        variable: Name of the problem's token-sequence variable.
    """

    tokens = TOKENS

    def __init__(self, max_length: int = 6, *, variable: str = "cell"):
        if max_length < 2:
            raise ValueError(f"max_length={max_length}: a cell needs at least 2 tokens (norm, conv).")
        self.max_length = int(max_length)
        self.variable = variable

    def initial(self) -> list[tuple]:
        return [(n, c) for n in NORM_OPS for c in CONV_OPS]

    def is_valid(self, seq: tuple) -> bool:
        return is_valid_cell(seq, self.max_length)

    def token_sequence(self):
        """The matching :class:`moopt.TokenSequence` variable."""
        from moopt.space import TokenSequence

        return TokenSequence(self.variable, TOKENS, min_length=2, max_length=self.max_length)

    def sample(self, rng, *, length: int | None = None) -> tuple:
        """A uniformly random valid cell (of ``length`` tokens, default a random length)."""
        n = int(rng.integers(2, self.max_length + 1)) if length is None else int(length)
        return tuple(
            (NORM_OPS if i % 2 == 0 else CONV_OPS)[int(rng.integers(3 if i % 2 == 0 else 6))] for i in range(n)
        )


# --------------------------------------------------------------------------- layers / shapes
def cell_layers(seq: Sequence, cin: int, growth: int, config: DPPConfig) -> Iterator[tuple]:
    """The layers of one cell as ``(token, in_channels, out_channels)`` triples."""
    seq = check_cell(seq)
    n_conv = sum(1 for t in seq if t in CONV_OPS)
    width, seen = cin, 0
    for t in seq:
        if t in NORM_OPS:
            yield (t, width, width)
        else:
            seen += 1
            out = growth if seen == n_conv else config.bottleneck * growth
            yield (t, width, out)
            width = out


def network_positions(input_shape: Sequence[int], config: DPPConfig) -> list[dict]:
    """Input width and spatial size of every cell: ``[{stage, index, cin, growth, hw}]``."""
    _, h, w = (int(v) for v in input_shape)
    if min(h, w) >= 64:
        h, w = (h + 1) // 2, (w + 1) // 2
    c = config.stem_channels
    out = []
    for s, (n, k) in enumerate(zip(config.stages, config.growth)):
        if s > 0 and min(h, w) >= 2:
            h, w = h // 2, w // 2
        for i in range(n):
            out.append({"stage": s, "index": i, "cin": c, "growth": k, "hw": (h, w)})
            c += k
    return out


# --------------------------------------------------------------------------- torch modules
def make_layer(token: str, cin: int, cout: int, config: DPPConfig) -> nn.Module:
    """The torch module of one cell layer."""
    if token in NORM_OPS:
        return make_norm(token, cin)
    return make_conv(token, cin, cout, groups=config.groups, condense_factor=config.condense_factor,
                     shuffle=config.shuffle)


class DenseCell(nn.Module):
    """``concat(x, cell(x))``: one cell with dense connectivity."""

    def __init__(self, seq, cin: int, growth: int, config: DPPConfig):
        super().__init__()
        self.body = nn.Sequential(*[make_layer(t, a, b, config) for t, a, b in cell_layers(seq, cin, growth, config)])

    def forward(self, x):
        return torch.cat([x, self.body(x)], 1)


class DPPNet(nn.Module):
    """Stem, dense blocks of one cell with average-pool transitions, BN-ReLU, pool, linear."""

    def __init__(self, seq, input_shape, num_classes: int, config: DPPConfig):
        super().__init__()
        cin, h, w = (int(v) for v in input_shape)
        stride = 2 if min(h, w) >= 64 else 1
        self.stem = nn.Conv2d(cin, config.stem_channels, 3, stride=stride, padding=1, bias=False)
        blocks: list[nn.Module] = []
        c, hw = config.stem_channels, None
        for p in network_positions(input_shape, config):
            if p["index"] == 0 and p["stage"] > 0:
                blocks.append(nn.AvgPool2d(2) if p["hw"] != hw else nn.Identity())
            blocks.append(DenseCell(seq, p["cin"], p["growth"], config))
            hw, c = p["hw"], p["cin"] + p["growth"]
        self.features = nn.Sequential(*blocks)
        self.head_norm = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)
        self.cell = tuple(seq)
        self.config = config

    def forward(self, x):
        x = self.head_norm(self.features(self.stem(x)))
        return self.classifier(torch.flatten(self.pool(x), 1))


def build_dpp(seq: Sequence, *, input_shape: Sequence[int], num_classes: int,
              config: DPPConfig | None = None):
    """Build the DPP-Net network of cell ``seq``.

    Args:
        seq: A valid cell (see :func:`check_cell`).
        input_shape: ``(channels, height, width)`` of one input image.
        num_classes: Classifier outputs.
        config: Macro skeleton (default :class:`DPPConfig`).

    Returns:
        A ``torch.nn.Module`` mapping ``(n, *input_shape)`` to ``(n, num_classes)``
        logits.  Learned group convs are in training form; see
        :func:`moopt.adapters.nas.ops.condense_model` for inference.
    """
    config = config or DPPConfig()
    check_cell(seq)
    return DPPNet(tuple(seq), tuple(input_shape), int(num_classes), config)


def build_condensenet_like(*, input_shape: Sequence[int], num_classes: int, config: DPPConfig | None = None):
    """A CondenseNet-like network from DPP-Net ops: cell ``bnrelu, lgconv1x1, bnrelu, gconv3x3``."""
    return build_dpp(CONDENSENET_CELL, input_shape=input_shape, num_classes=num_classes, config=config)


CONDENSENET_CELL = ("bnrelu", "lgconv1x1", "bnrelu", "gconv3x3")
