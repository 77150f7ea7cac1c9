"""MONAS macro space and DenseNet/CondenseNet block space: decision order and builders."""

import numpy as np
import pytest
import torch

from moopt.adapters.nas.spaces.densenet import build_densenet, densenet_space
from moopt.adapters.nas.spaces.monas import build_monas, monas_space
from moopt.space import Categorical, Space


def test_monas_space_decision_order():
    space = monas_space(3, filters=(8, 16), kernels=(1, 3, 5), strides=(1, 2))
    assert all(isinstance(v, Categorical) for v in space)
    assert [v.name for v in space][:4] == ["layer0_filters", "layer0_kernel", "layer0_stride", "layer1_filters"]
    assert len(space) == 9 and space[1].choices == (1, 3, 5)
    with pytest.raises(ValueError, match="odd"):
        monas_space(2, kernels=(2, 3))


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 28, 28), (3, 32, 32)])
def test_monas_builder(shape):
    space = Space(monas_space(3, filters=(4, 8), kernels=(1, 3, 5, 7), strides=(1, 2)))
    params = space.sample(np.random.default_rng(3))
    net = build_monas(params, input_shape=shape, num_classes=10)
    assert net(torch.zeros(2, *shape)).shape == (2, 10)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [params[f"layer{i}_filters"] for i in range(3)]
    assert [c.kernel_size[0] for c in convs] == [params[f"layer{i}_kernel"] for i in range(3)]
    assert [c.stride[0] for c in convs] == [params[f"layer{i}_stride"] for i in range(3)]


def test_monas_known_params():
    net = build_monas({"layer0_filters": 8, "layer0_kernel": 3, "layer1_filters": 16, "layer1_kernel": 1},
                      input_shape=(1, 8, 8), num_classes=10)
    expect = 1 * 8 * 9 + 16 + 8 * 16 + 32 + 16 * 10 + 10
    assert sum(p.numel() for p in net.parameters()) == expect
    with pytest.raises(ValueError, match="layer0_filters"):
        build_monas({}, input_shape=(1, 8, 8), num_classes=10)


@pytest.mark.parametrize("condense", [False, True])
@pytest.mark.parametrize("shape", [(1, 8, 8), (3, 32, 32)])
def test_densenet_builder(condense, shape):
    space = Space(densenet_space(3, layers=(1, 2), growth=(4, 8)))
    params = space.sample(np.random.default_rng(0))
    net = build_densenet(params, input_shape=shape, num_classes=10, condense=condense)
    assert net(torch.zeros(2, *shape)).shape == (2, 10)
    # classifier width = stem + sum of growth (with DenseNet's 0.5 compression at transitions)
    c = 2 * params["block0_growth"]
    for b in range(3):
        if b and not condense:
            c //= 2
        c += params[f"block{b}_layers"] * params[f"block{b}_growth"]
    assert net.classifier.in_features == c


def test_densenet_space_order():
    space = densenet_space(2)
    assert [v.name for v in space] == ["block0_layers", "block0_growth", "block1_layers", "block1_growth"]
