"""MONAS macro search space and its builder.

MONAS's controller decides, for each of a fixed number of conv layers, the
number of filters and the kernel size (and optionally the stride); a global
average pool and a linear classifier follow.  The space is a list of
:class:`moopt.Categorical` variables *in decision order*
(``layer0_filters, layer0_kernel[, layer0_stride], layer1_filters, ...``), so
a REINFORCE controller emits one decision per variable in that order.

Example:
    >>> import torch
    >>> space = monas_space(n_layers=2, filters=(8, 16), kernels=(1, 3))
    >>> [v.name for v in space]
    ['layer0_filters', 'layer0_kernel', 'layer1_filters', 'layer1_kernel']
    >>> net = build_monas({"layer0_filters": 8, "layer0_kernel": 3, "layer1_filters": 16,
    ...                    "layer1_kernel": 1}, input_shape=(1, 8, 8), num_classes=10)
    >>> tuple(net(torch.zeros(2, 1, 8, 8)).shape)
    (2, 10)
"""

from __future__ import annotations

from typing import Mapping, Sequence

import torch
from torch import nn

DEFAULT_FILTERS = (24, 36, 48, 64)
DEFAULT_KERNELS = (1, 3, 5, 7)


def monas_space(n_layers: int = 4, *, filters: Sequence[int] = DEFAULT_FILTERS,
                kernels: Sequence[int] = DEFAULT_KERNELS, strides: Sequence[int] | None = None) -> list:
    """The MONAS macro space as Categorical variables in decision order.

    Args:
        n_layers: Number of conv layers.
        filters: Choices of output channels per layer.
        kernels: Choices of (odd) kernel size per layer.
        strides: Optional stride choices per layer (e.g. ``(1, 2)``); ``None`` = no stride decision.
    """
    from moopt.space import Categorical

    if n_layers < 1:
        raise ValueError(f"n_layers={n_layers}: a MONAS network needs at least one conv layer.")
    bad = [k for k in kernels if int(k) != k or k < 1 or k % 2 == 0]
    if bad:
        raise ValueError(f"kernels must be odd positive integers, got {bad}.")
    out = []
    for i in range(n_layers):
        out.append(Categorical(f"layer{i}_filters", tuple(int(f) for f in filters)))
        out.append(Categorical(f"layer{i}_kernel", tuple(int(k) for k in kernels)))
        if strides is not None:
            out.append(Categorical(f"layer{i}_stride", tuple(int(s) for s in strides)))
    return out


def monas_layers(params: Mapping) -> list[dict]:
    """The per-layer decisions of a candidate: ``[{"filters", "kernel", "stride"}]``."""
    layers, i = [], 0
    while f"layer{i}_filters" in params:
        try:
            layers.append({"filters": int(params[f"layer{i}_filters"]), "kernel": int(params[f"layer{i}_kernel"]),
                           "stride": int(params.get(f"layer{i}_stride", 1))})
        except KeyError as exc:
            raise ValueError(f"MONAS candidate lacks {exc.args[0]!r}.") from None
        i += 1
    if not layers:
        raise ValueError("MONAS candidate has no 'layer0_filters'; expected layer<i>_filters/kernel[/stride].")
    return layers


class MonasNet(nn.Module):
    """Conv-BN-ReLU layers, global average pool, linear classifier."""

    def __init__(self, layers, input_shape, num_classes: int):
        super().__init__()
        c = int(input_shape[0])
        mods = []
        for layer in layers:
            k, s = layer["kernel"], layer["stride"]
            mods += [nn.Conv2d(c, layer["filters"], k, stride=s, padding=k // 2, bias=False),
                     nn.BatchNorm2d(layer["filters"]), nn.ReLU()]
            c = layer["filters"]
        self.features = nn.Sequential(*mods)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def build_monas(params: Mapping, *, input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """Build the network of a MONAS candidate (a params dict of :func:`monas_space`).

    Returns:
        Module mapping ``(n, *input_shape)`` to ``(n, num_classes)``.
    """
    return MonasNet(monas_layers(params), tuple(input_shape), int(num_classes))
