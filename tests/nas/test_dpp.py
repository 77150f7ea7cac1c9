"""DPP-Net cell space (progressive interface), ops (learned group conv, shuffle) and builder."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from moopt.adapters.nas.ops import CONV_OPS, NORM_OPS, LearnedGroupConv, channel_shuffle, condense_model, make_conv
from moopt.adapters.nas.spaces.dpp import (
    CONDENSENET_CELL,
    DPPCellSpace,
    DPPConfig,
    build_dpp,
    cell_layers,
    check_cell,
    is_valid_cell,
)
from moopt.search.progressive.space import ProgressiveSpace

TINY = DPPConfig(stem_channels=8, stages=(1, 1), growth=(4, 8))


def test_space_is_progressive_and_alternates():
    space = DPPCellSpace(max_length=4)
    assert isinstance(space, ProgressiveSpace) and space.variable == "cell"
    init = space.initial()
    assert len(init) == len(NORM_OPS) * len(CONV_OPS) and all(space.is_valid(s) for s in init)
    grown = space.expand(("bn", "conv3x3"))
    assert grown == [("bn", "conv3x3", n) for n in NORM_OPS]
    grown2 = space.expand(grown[0])
    assert grown2 == [grown[0] + (c,) for c in CONV_OPS]
    assert space.expand(grown2[0]) == []  # max_length reached
    assert space.encode(("bn", "conv3x3")) == [space.tokens.index("bn"), space.tokens.index("conv3x3")]
    assert not is_valid_cell(("conv3x3",)) and not is_valid_cell(("bn", "bn")) and not is_valid_cell(("conv1x1", "bn"))
    with pytest.raises(ValueError, match="alternates a norm"):
        check_cell(("bn", "bnrelu"))


def test_walk_counts_every_cell():
    space = DPPCellSpace(max_length=4)
    cells = list(space.walk())
    assert len(cells) == 18 + 18 * 3 + 18 * 3 * 6
    v = space.token_sequence()
    assert v.min_length == 2 and v.max_length == 4 and all(v.validate(c) == c for c in cells[:50])


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 32 - 1))
def test_random_cells_build_and_run(seed):
    space = DPPCellSpace(max_length=6)
    cell = space.sample(np.random.default_rng(seed))
    assert space.is_valid(cell)
    net = build_dpp(cell, input_shape=(1, 8, 8), num_classes=10, config=TINY)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    # widths: last conv outputs growth, the others bottleneck * growth
    convs = [(a, b) for t, a, b in cell_layers(cell, 12, 4, TINY) if t in CONV_OPS]
    assert convs[-1][1] == 4 and all(b == 16 for _, b in convs[:-1]) and convs[0][0] == 12


@pytest.mark.parametrize("shape,classes", [((1, 8, 8), 10), ((1, 28, 28), 10), ((3, 32, 32), 10), ((3, 64, 64), 5)])
def test_builder_forward_shapes(shape, classes):
    net = build_dpp(CONDENSENET_CELL, input_shape=shape, num_classes=classes, config=TINY)
    assert net(torch.zeros(2, *shape)).shape == (2, classes)
    inf = condense_model(net).eval()
    assert inf(torch.zeros(1, *shape)).shape == (1, classes)


def test_known_params_of_a_cell():
    # stem 1->8 3x3: 72; cell (bnrelu, conv3x3) at cin=8, k=4: BN 16 + 8*4*9=288;
    # transition pool; cell at cin=12, k=8: BN 24 + 12*8*9=864; head BN(20) 40 + linear 20*10+10
    net = build_dpp(("bnrelu", "conv3x3"), input_shape=(1, 8, 8), num_classes=10, config=TINY)
    assert sum(p.numel() for p in net.parameters()) == 72 + 16 + 288 + 24 + 864 + 40 + 210


def test_channel_shuffle_is_a_permutation():
    x = torch.arange(12.0).view(1, 12, 1, 1)
    y = channel_shuffle(x, 3).flatten().tolist()
    assert y == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    assert sorted(y) == list(range(12))


def test_learned_group_conv_condenses_exactly():
    torch.manual_seed(0)
    conv = LearnedGroupConv(16, 8, groups=4, condense_factor=4)
    x = torch.randn(3, 16, 5, 5)
    assert torch.allclose(conv(x), torch.nn.functional.conv2d(x, conv.conv.weight))  # stage 0: dense
    conv.set_progress(0.2)
    assert conv.stage == 1 and conv.kept_per_group == 12
    conv.set_progress(0.5)
    assert conv.stage == 3 and all(len(k) == 4 for k in conv.kept_indices())
    # kept inputs are the largest-L1 ones of each group (among the survivors of earlier stages)
    fast = conv.condensed()
    assert fast.conv.groups == 4 and fast.conv.in_channels == 16 and fast.index.numel() == 16
    assert torch.allclose(conv(x), fast(x), atol=1e-6)
    n_dense = sum(p.numel() for p in conv.parameters())
    assert sum(p.numel() for p in fast.parameters()) == n_dense // 4
    with pytest.raises(ValueError, match="set_progress"):
        LearnedGroupConv(16, 8).condensed()


def test_condensed_network_computes_the_same():
    torch.manual_seed(1)
    net = build_dpp(CONDENSENET_CELL, input_shape=(1, 8, 8), num_classes=10, config=TINY).eval()
    for m in net.modules():
        if isinstance(m, LearnedGroupConv):
            m.set_progress(1.0)
    x = torch.randn(4, 1, 8, 8)
    ref = net(x)
    import copy

    fast = condense_model(copy.deepcopy(net))
    assert not any(isinstance(m, LearnedGroupConv) for m in fast.modules())
    assert torch.allclose(ref, fast(x), atol=1e-5)


@pytest.mark.parametrize("op", CONV_OPS)
@pytest.mark.parametrize("cin,cout", [(12, 16), (16, 16), (16, 4)])
def test_conv_ops_map_widths(op, cin, cout):
    m = make_conv(op, cin, cout, groups=4, shuffle=True)
    assert m(torch.zeros(1, cin, 4, 4)).shape == (1, cout, 4, 4)
    if op == "dwconv3x3" and cin == cout:
        assert m.groups == cin


def test_config_validation():
    with pytest.raises(ValueError, match="same non-zero length"):
        DPPConfig(stages=(1, 2), growth=(4,))
    with pytest.raises(ValueError, match="max_length"):
        DPPCellSpace(max_length=1)
