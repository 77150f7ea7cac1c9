"""Device objectives: MACs and params against analytic formulas, latency/memory/energy sanity."""

import math

import pytest
import torch
from torch import nn

from moopt.adapters.nas.objectives import (HOROWITZ_45NM, DEVICE_OBJECTIVES, activation_elements, count_macs,
                                           count_params, device_objective, estimate_energy, measure_all,
                                           measure_energy, measure_latency, measure_peak_memory, rapl_delta_uj,
                                           rapl_domains)


@pytest.mark.parametrize("cin,cout,k,stride,groups,hw", [(3, 8, 3, 1, 1, 8), (4, 8, 5, 2, 1, 9), (8, 8, 3, 1, 8, 6),
                                                          (8, 16, 1, 1, 4, 7)])
def test_macs_of_one_conv(cin, cout, k, stride, groups, hw):
    conv = nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, groups=groups, bias=False)
    out = (hw + 2 * (k // 2) - k) // stride + 1
    assert count_macs(conv, (cin, hw, hw)) == (cin // groups) * k * k * cout * out * out
    assert count_params(conv) == cout * (cin // groups) * k * k


def test_macs_and_params_of_known_layers():
    lin = nn.Linear(20, 7)
    assert count_macs(nn.Sequential(nn.Flatten(), lin), (5, 2, 2)) == 20 * 7
    assert count_params(lin) == 20 * 7 + 7
    assert count_params(nn.BatchNorm2d(6)) == 12
    # the condensed form is counted: a learned group conv keeps 1/4 of its weights
    from moopt.adapters.nas.ops import LearnedGroupConv

    lgc = LearnedGroupConv(16, 8, groups=4, condense_factor=4)
    assert count_params(lgc, condense=False) == 128 and count_params(lgc) == 32
    assert count_macs(lgc, (16, 3, 3)) == 32 * 9


def test_objective_descriptors():
    for name in DEVICE_OBJECTIVES:
        o = device_objective(name)
        assert o.direction == "min" and o.cheap and o.unit
    with pytest.raises(ValueError, match="unknown device objective"):
        device_objective("speed")


def _small():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(8, 10))


def test_latency_record():
    r = measure_latency(_small(), (1, 8, 8), repeats=7, warmup=2, batch_size=3, threads=1)
    assert r["latency_ms"] > 0 and r["latency_iqr_ms"] >= 0 and r["latency_cv"] >= 0
    assert (r["batch_size"], r["threads"], r["repeats"], r["device"]) == (3, 1, 7, "cpu")
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(_small(), (1, 8, 8), repeats=0)


def test_peak_memory_counts_weights_input_and_activations():
    m = _small()
    r = measure_peak_memory(m, (1, 8, 8), batch_size=4)
    weights = sum(t.numel() * 4 for t in list(m.parameters()) + list(m.buffers()) if t.dtype == torch.float32)
    assert r["source"] == "measured:torch-profiler"
    assert r["input_mb"] == pytest.approx(4 * 64 * 4 / 1e6)
    assert r["weights_mb"] >= weights / 1e6
    # the conv output (4 x 8 x 8 x 8 floats) must be alive at some point
    assert r["activations_peak_mb"] >= 4 * 8 * 64 * 4 / 1e6
    assert r["peak_memory_mb"] == pytest.approx(r["weights_mb"] + r["input_mb"] + r["activations_peak_mb"])


def test_energy_estimate_matches_formula():
    conv = nn.Conv2d(2, 4, 3, padding=1, bias=False)
    r = estimate_energy(conv, (2, 5, 5), latency_ms=2.0)
    macs = 2 * 4 * 9 * 25
    acts = activation_elements(conv, (2, 5, 5))
    assert acts == 4 * 25 and r["macs"] == macs
    c = HOROWITZ_45NM
    e_pj = macs * c["mac_fp32_pj"] + 72 * c["dram_word_pj"] + (50 + 2 * acts) * c["sram_word_pj"]
    assert r["energy_mj"] == pytest.approx(e_pj * 1e-9)
    assert r["peak_power_w"] == pytest.approx(r["energy_mj"] / 2.0)
    assert r["source"] == "estimated:horowitz45nm"


def test_measure_energy_labels_its_source(tmp_path):
    r = measure_energy(_small(), (1, 8, 8), rapl_root=str(tmp_path), min_time_s=0.01)
    assert r["source"] == "estimated:horowitz45nm" and r["energy_mj"] > 0 and r["peak_power_w"] > 0


def test_rapl_helpers(tmp_path):
    d = tmp_path / "intel-rapl:0"
    d.mkdir()
    (d / "energy_uj").write_text("100\n")
    (d / "max_energy_range_uj").write_text("1000\n")
    (tmp_path / "intel-rapl:0:0").mkdir()  # subdomain: not a package, ignored
    assert rapl_domains(tmp_path) == [d]
    assert rapl_delta_uj([(100, 1000)], [(250, 1000)]) == 150
    assert rapl_delta_uj([(900, 1000)], [(50, 1000)]) == 150  # counter wrapped


def test_measure_all_keys():
    r = measure_all(_small(), (1, 8, 8), repeats=5)
    for k in DEVICE_OBJECTIVES:
        assert k in r and math.isfinite(r[k]) and r[k] > 0
    assert r["energy_source"].startswith(("measured:", "estimated:"))


def test_cpu_clock_option():
    r = measure_latency(_small(), (1, 8, 8), repeats=5, clock="cpu")
    assert r["clock"] == "cpu" and r["latency_ms"] > 0
    with pytest.raises(ValueError, match="threads=1"):
        measure_latency(_small(), (1, 8, 8), repeats=5, clock="cpu", threads=2)
    with pytest.raises(ValueError, match="clock="):
        measure_latency(_small(), (1, 8, 8), clock="sundial")
