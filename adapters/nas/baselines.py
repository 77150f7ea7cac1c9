"""Handcrafted baselines measured with the same objectives and trainer as searched networks.

torchvision's MobileNetV2, ShuffleNetV2 (1.0x) and DenseNet-121 (``weights=None``),
adapted to the input: the stem takes ``input_shape[0]`` channels, and for
inputs smaller than 64 pixels the stem stride and max-pool are removed
(the usual CIFAR adaptation, so an 8x8 digit is not pooled away); the
classifier has ``num_classes`` outputs.  Plus a CondenseNet-like network
built from the DPP-Net ops (:func:`~moopt.adapters.nas.spaces.dpp.build_condensenet_like`).

Example:
    >>> import torch
    >>> net = build_baseline("mobilenet_v2", input_shape=(1, 8, 8), num_classes=10)
    >>> tuple(net(torch.zeros(2, 1, 8, 8)).shape)
    (2, 10)
"""

from __future__ import annotations

import functools
from typing import Sequence

from torch import nn

BASELINES = ("mobilenet_v2", "shufflenet_v2", "densenet121", "condensenet_like")


def _replace_conv(conv: nn.Conv2d, in_channels: int, stride: int) -> nn.Conv2d:
    k = conv.kernel_size
    if stride == 1 and k[0] == 7:  # DenseNet's 7x7/2 stem -> 3x3/1 for small inputs
        return nn.Conv2d(in_channels, conv.out_channels, 3, stride=1, padding=1, bias=conv.bias is not None)
    # torch types Conv2d.kernel_size/.padding as tuple[int, ...]; a Conv2d's are always pairs (or a str padding)
    return nn.Conv2d(in_channels, conv.out_channels, k, stride=stride, padding=conv.padding,  # type: ignore[arg-type]
                     bias=conv.bias is not None)


def build_baseline(name: str, *, input_shape: Sequence[int], num_classes: int) -> nn.Module:
    """Build a baseline network for ``input_shape`` ``(c, h, w)`` and ``num_classes``.

    Args:
        name: One of :data:`BASELINES`.
    """
    import torchvision.models as tvm

    cin, h, w = (int(v) for v in input_shape)
    small = min(h, w) < 64
    stride = 1 if small else 2
    if name == "mobilenet_v2":
        m = tvm.mobilenet_v2(weights=None, num_classes=num_classes)
        m.features[0][0] = _replace_conv(m.features[0][0], cin, stride)
        return m
    if name == "shufflenet_v2":
        m = tvm.shufflenet_v2_x1_0(weights=None, num_classes=num_classes)
        m.conv1[0] = _replace_conv(m.conv1[0], cin, stride)
        if small:
            m.maxpool = nn.Identity()
        return m
    if name == "densenet121":
        m = tvm.densenet121(weights=None, num_classes=num_classes)
        m.features.conv0 = _replace_conv(m.features.conv0, cin, stride)
        if small:
            m.features.pool0 = nn.Identity()
        return m
    if name == "condensenet_like":
        from .spaces.dpp import DPPConfig, build_condensenet_like

        return build_condensenet_like(input_shape=input_shape, num_classes=num_classes,
                                      config=DPPConfig(stem_channels=16, stages=(4, 4, 4), growth=(8, 16, 32)))
    raise ValueError(f"unknown baseline {name!r}; choose one of {list(BASELINES)}.")


def evaluate_baselines(names: Sequence[str] = BASELINES, *, dataset=None, train_config=None, seed: int = 0,
                       threads: int = 1, repeats: int = 20, clock: str = "wall",
                       progress=None) -> list[dict]:
    """Train each baseline with the shared trainer and measure its device objectives on this host.

    ``clock`` (``"wall"`` or ``"cpu"``) is the latency clock (see
    :func:`~moopt.adapters.nas.objectives.timer_for`).

    Returns:
        One row per baseline: ``name``, ``val_acc``, ``train_time_s``, ``epochs_run`` and every
        key of :func:`~moopt.adapters.nas.objectives.measure_all`.
    """
    from .data import load_digits
    from .objectives import measure_all
    from .train import TrainConfig, train_model

    dataset = dataset or load_digits()
    train_config = train_config or TrainConfig(epochs=1, threads=threads)
    rows = []
    for name in names:
        build = functools.partial(build_baseline, name, input_shape=dataset.input_shape,
                                  num_classes=dataset.num_classes)
        res = train_model(build, dataset, train_config, seed=seed, return_model=True)
        model = res.pop("model")
        obj = measure_all(model, dataset.input_shape, threads=threads, repeats=repeats, clock=clock)
        rows.append({"name": name, "val_acc": res["val_acc"], "train_time_s": res["train_time_s"],
                     "epochs_run": res["epochs_run"], "status": res["status"], **obj})
        if progress is not None:
            progress(rows[-1])
    return rows
