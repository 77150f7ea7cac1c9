"""DPP-Net / CondenseNet building blocks (PyTorch).

Norm ops (``bnrelu``, ``bn``, ``id``) and conv ops (``conv1x1``, ``conv3x3``,
``gconv1x1``, ``gconv3x3``, ``lgconv1x1``, ``dwconv3x3``), ShuffleNet's
channel shuffle and CondenseNet's learned group convolution, which trains
with a sparsity mask and is *condensed* for inference into a gather of input
channels (an index permutation) followed by a standard group convolution.

Example:
    >>> import torch
    >>> conv = LearnedGroupConv(16, 8, groups=4, condense_factor=4)
    >>> conv.set_progress(1.0)          # end of training: fully condensed mask
    >>> fast = conv.condensed()         # gather + Conv2d(groups=4)
    >>> x = torch.randn(2, 16, 5, 5)
    >>> bool(torch.allclose(conv(x), fast(x), atol=1e-6))
    True
"""

from __future__ import annotations

import math

import torch
from torch import nn

NORM_OPS = ("bnrelu", "bn", "id")
CONV_OPS = ("conv1x1", "conv3x3", "gconv1x1", "gconv3x3", "lgconv1x1", "dwconv3x3")
GROUP_OPS = ("gconv1x1", "gconv3x3", "lgconv1x1")


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """ShuffleNet channel shuffle of ``x`` with shape ``(n, c, h, w)``, ``c % groups == 0``."""
    n, c, h, w = x.shape
    if groups <= 1:
        return x
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ChannelShuffle(nn.Module):
    """Module form of :func:`channel_shuffle`."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = int(groups)

    def forward(self, x):
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


def make_norm(op: str, channels: int) -> nn.Module:
    """A norm op of the DPP-Net space on ``channels`` channels."""
    if op == "bnrelu":
        return nn.Sequential(nn.BatchNorm2d(channels), nn.ReLU(inplace=False))
    if op == "bn":
        return nn.BatchNorm2d(channels)
    if op == "id":
        return nn.Identity()
    raise ValueError(f"unknown norm op {op!r}; choose one of {list(NORM_OPS)}.")


class LearnedGroupConv(nn.Module):
    """CondenseNet's 1x1 learned group convolution.

    The output channels are split into ``groups`` contiguous groups; during
    training each group learns which input channels it uses: at condensing
    stage ``s`` (``0 .. condense_factor - 1``) each group keeps the
    ``in_channels - s * in_channels // condense_factor`` input channels with
    the largest L1 weight norm over the group's outputs (the rest are masked
    to zero).  :meth:`set_progress` maps training progress (0..1) to the
    stage: as in CondenseNet, condensing happens during the first half of
    training, so from progress 0.5 on only ``in_channels // condense_factor``
    inputs remain per group.

    Args:
        in_channels: Input channels.
        out_channels: Output channels, a multiple of ``groups``.
        groups: Number of groups ``G``.
        condense_factor: ``C``; each group finally keeps ``in_channels // C`` inputs.
    """

    mask: torch.Tensor  # (out, in, 1, 1) 0/1 buffer, registered in __init__

    def __init__(self, in_channels: int, out_channels: int, *, groups: int = 4, condense_factor: int = 4):
        super().__init__()
        if out_channels % groups:
            raise ValueError(f"LearnedGroupConv: out_channels={out_channels} is not a multiple of groups={groups}.")
        if in_channels < condense_factor:
            raise ValueError(
                f"LearnedGroupConv: in_channels={in_channels} < condense_factor={condense_factor}; "
                "each group would keep no input channel."
            )
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.groups, self.condense_factor = int(groups), int(condense_factor)
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.register_buffer("mask", torch.ones(out_channels, in_channels, 1, 1))
        self.stage = 0

    @property
    def kept_per_group(self) -> int:
        drop = self.stage * (self.in_channels // self.condense_factor)
        return self.in_channels - drop

    def set_progress(self, progress: float) -> None:
        """Advance the condensing stage to the one implied by training ``progress`` in [0, 1]."""
        c = self.condense_factor
        stage = min(c - 1, int(math.floor(max(0.0, progress) * 2 * (c - 1) + 1e-9)))
        while self.stage < stage:
            self.stage += 1
            self._prune_to(self.kept_per_group)

    @torch.no_grad()
    def _prune_to(self, keep: int) -> None:
        w = (self.conv.weight * self.mask).abs().squeeze(-1).squeeze(-1)  # (out, in)
        og = self.out_channels // self.groups
        for g in range(self.groups):
            rows = slice(g * og, (g + 1) * og)
            importance = w[rows].sum(0)
            alive = self.mask[rows, :, 0, 0][0] > 0
            importance = torch.where(alive, importance, torch.full_like(importance, -1.0))
            order = torch.argsort(importance, descending=True, stable=True)
            new = torch.zeros(self.in_channels)
            new[order[:keep]] = 1.0
            self.mask[rows] = new.view(1, -1, 1, 1)

    def forward(self, x):
        return nn.functional.conv2d(x, self.conv.weight * self.mask)

    def kept_indices(self) -> list[list[int]]:
        """Input channel indices kept by each group (sorted)."""
        og = self.out_channels // self.groups
        return [torch.nonzero(self.mask[g * og, :, 0, 0] > 0).flatten().tolist() for g in range(self.groups)]

    @torch.no_grad()
    def condensed(self) -> "CondensedGroupConv":
        """The inference form: gather the kept inputs, then a standard group conv.

        The module must be at its final stage (``set_progress(1.0)``); the
        condensed module computes exactly the masked convolution.
        """
        if self.stage != self.condense_factor - 1:
            raise ValueError(
                f"LearnedGroupConv is at stage {self.stage}; call set_progress(1.0) before condensed()."
            )
        kept = self.kept_indices()
        index = torch.tensor([i for g in kept for i in g], dtype=torch.long)
        per = len(kept[0])
        og = self.out_channels // self.groups
        conv = nn.Conv2d(per * self.groups, self.out_channels, 1, groups=self.groups, bias=False)
        w = self.conv.weight[:, :, 0, 0]
        new = torch.empty(self.out_channels, per)
        for g, idx in enumerate(kept):
            new[g * og:(g + 1) * og] = w[g * og:(g + 1) * og][:, idx]
        conv.weight.copy_(new.view(self.out_channels, per, 1, 1))
        return CondensedGroupConv(index, conv)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, groups={self.groups}, "
                f"condense_factor={self.condense_factor}, stage={self.stage}")


class CondensedGroupConv(nn.Module):
    """Inference form of :class:`LearnedGroupConv`: ``conv(x[:, index])``."""

    def __init__(self, index: torch.Tensor, conv: nn.Conv2d):
        super().__init__()
        self.register_buffer("index", index)
        self.conv = conv

    def forward(self, x):
        return self.conv(x.index_select(1, self.index))


def condense_model(model: nn.Module) -> nn.Module:
    """Replace every :class:`LearnedGroupConv` in ``model`` by its condensed form (in place).

    Modules still before their final stage are first advanced to it.  Returns
    ``model`` (or its condensed form when ``model`` itself is a learned group conv).
    """
    if isinstance(model, LearnedGroupConv):
        model.set_progress(1.0)
        return model.condensed()
    for name, child in list(model.named_children()):
        if isinstance(child, LearnedGroupConv):
            child.set_progress(1.0)
            setattr(model, name, child.condensed())
        else:
            condense_model(child)
    return model


def set_condense_progress(model: nn.Module, progress: float) -> None:
    """Call ``set_progress(progress)`` on every learned group conv of ``model``."""
    for m in model.modules():
        if isinstance(m, LearnedGroupConv):
            m.set_progress(progress)


def _group_count(groups: int, cin: int, cout: int) -> int:
    return math.gcd(math.gcd(int(groups), int(cin)), int(cout))


def make_conv(op: str, cin: int, cout: int, *, groups: int = 4, condense_factor: int = 4,
              shuffle: bool = False) -> nn.Module:
    """A conv op of the DPP-Net space mapping ``cin`` to ``cout`` channels (stride 1, same size).

    Group convs use ``gcd(groups, cin, cout)`` groups (so any widths work);
    ``dwconv3x3`` is depthwise (``groups=cin``) when ``cin == cout`` and
    otherwise uses ``gcd(cin, cout)`` groups, the closest depthwise-like
    grouping that changes the width.  With ``shuffle``, group convs are
    followed by a channel shuffle.
    """
    if op == "conv1x1":
        return nn.Conv2d(cin, cout, 1, bias=False)
    if op == "conv3x3":
        return nn.Conv2d(cin, cout, 3, padding=1, bias=False)
    if op in ("gconv1x1", "gconv3x3"):
        g = _group_count(groups, cin, cout)
        k = 1 if op == "gconv1x1" else 3
        conv: nn.Module = nn.Conv2d(cin, cout, k, padding=k // 2, groups=g, bias=False)
        return nn.Sequential(conv, ChannelShuffle(g)) if shuffle and g > 1 else conv
    if op == "lgconv1x1":
        g = _group_count(groups, cout, cout)
        c = min(condense_factor, cin)
        conv = LearnedGroupConv(cin, cout, groups=g, condense_factor=c)
        return nn.Sequential(conv, ChannelShuffle(g)) if shuffle and g > 1 else conv
    if op == "dwconv3x3":
        g = cin if cin == cout else math.gcd(cin, cout)
        return nn.Conv2d(cin, cout, 3, padding=1, groups=g, bias=False)
    raise ValueError(f"unknown conv op {op!r}; choose one of {list(CONV_OPS)}.")
