"""Device objectives: params, MACs, memory and energy against hand-computed values; latency ordering."""

import math

import pytest
import torch
from torch import nn

from moopt.adapters.nas.objectives import (
    DEVICE_OBJECTIVES,
    HOROWITZ_45NM,
    activation_elements,
    count_macs,
    count_params,
    device_objective,
    estimate_energy,
    measure_all,
    measure_energy,
    measure_latency,
    measure_peak_memory,
    rapl_delta_uj,
    rapl_domains,
)


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


def test_params_and_macs_of_known_networks():
    # conv 1->8 3x3 with bias (72 + 8), BN(8) (8 + 8), linear 8->10 (80 + 10)
    m = _small()
    assert count_params(m) == sum(p.numel() for p in m.parameters()) == 80 + 16 + 90
    # conv: 1 * 9 MACs per output element, 8 x 8 x 8 outputs; linear 8 x 10 (BN, ReLU, pool: no MACs)
    assert count_macs(m, (1, 8, 8)) == 9 * 8 * 64 + 8 * 10
    # stride 2 (16x16 -> 8x8), pointwise conv, linear head
    net = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.ReLU(),
                        nn.Conv2d(16, 32, 1, bias=False), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))
    assert count_params(net) == sum(p.numel() for p in net.parameters()) == 3 * 16 * 9 + 16 * 32 + 32 * 10 + 10
    assert count_macs(net, (3, 16, 16)) == 3 * 9 * 16 * 64 + 16 * 32 * 64 + 32 * 10
    # MACs scale with the image area, params do not
    assert count_macs(net, (3, 32, 32)) == 3 * 9 * 16 * 256 + 16 * 32 * 256 + 32 * 10
    # frozen parameters are not counted
    net[0].weight.requires_grad_(False)
    assert count_params(net) == 16 * 32 + 32 * 10 + 10


def test_objective_descriptors():
    for name in DEVICE_OBJECTIVES:
        o = device_objective(name)
        assert o.direction == "min" and o.cheap and o.unit
    with pytest.raises(ValueError, match="unknown device objective"):
        device_objective("speed")


def _small(width=8):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                         nn.Flatten(), nn.Linear(width, 10))


def test_latency_record():
    r = measure_latency(_small(), (1, 8, 8), repeats=7, warmup=2, batch_size=3, threads=1)
    assert 0 < r["latency_min_ms"] <= r["latency_ms"] and r["latency_iqr_ms"] >= 0 and r["latency_cv"] >= 0
    assert (r["batch_size"], r["threads"], r["repeats"], r["device"], r["clock"]) == (3, 1, 7, "cpu", "wall")
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(_small(), (1, 8, 8), repeats=0)


def test_latency_of_a_much_bigger_network_is_larger():
    """~8000x the MACs of the small net: its latency (CPU clock, minimum of the passes) is far larger."""
    big = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))
    assert count_macs(big, (1, 32, 32)) > 5000 * count_macs(_small(), (1, 8, 8))
    small = measure_latency(_small(), (1, 8, 8), repeats=10, clock="cpu")["latency_min_ms"]
    large = measure_latency(big, (1, 32, 32), repeats=10, clock="cpu")["latency_min_ms"]
    assert large > 3 * small, (large, small)


def test_peak_memory_counts_weights_input_and_activations():
    m = _small()
    r = measure_peak_memory(m, (1, 8, 8), batch_size=4)
    assert r["source"] == "measured:torch-profiler"
    # 186 float32 parameters, 16 float32 running statistics and the int64 batch counter of BN
    assert r["weights_mb"] == pytest.approx((186 * 4 + 16 * 4 + 8) / 1e6, rel=1e-12)
    assert r["input_mb"] == pytest.approx(4 * 64 * 4 / 1e6, rel=1e-12)
    # the conv output and the BN output (4 x 8 x 8 x 8 floats each) are alive together
    assert r["activations_peak_mb"] >= 2 * 4 * 8 * 64 * 4 / 1e6
    assert r["peak_memory_mb"] == pytest.approx(r["weights_mb"] + r["input_mb"] + r["activations_peak_mb"])


def test_peak_memory_scales_with_batch_and_width():
    r8, r32 = (measure_peak_memory(_small(), (1, 8, 8), batch_size=b) for b in (8, 32))
    assert r32["weights_mb"] == r8["weights_mb"] and r32["input_mb"] == pytest.approx(4 * r8["input_mb"])
    assert r32["activations_peak_mb"] == pytest.approx(4 * r8["activations_peak_mb"], rel=0.1)
    # 8x the channels: at least the conv and BN outputs (8 x 64 x 8 x 8 floats each) are alive together,
    # and never more than every layer's output at once
    wide_net = _small(64)
    wide = measure_peak_memory(wide_net, (1, 8, 8), batch_size=8)
    conv_out = 8 * 64 * 64 * 4 / 1e6
    every_output = 8 * activation_elements(wide_net, (1, 8, 8)) * 4 / 1e6
    assert 2 * conv_out <= wide["activations_peak_mb"] <= every_output
    assert wide["activations_peak_mb"] > 4 * r8["activations_peak_mb"]
    assert wide["peak_memory_mb"] > 5 * r8["peak_memory_mb"]


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


def test_energy_estimate_of_a_linear_layer_with_a_batch():
    """E = b * MACs * 4.6 pJ + params * 640 pJ + b * (input + 2 * activations) * 5 pJ, by hand."""
    net = nn.Sequential(nn.Flatten(), nn.Linear(20, 7))
    r = estimate_energy(net, (5, 2, 2), batch_size=3, latency_ms=0.5)
    # 140 MACs, 147 weights, 20 input values, activations: flatten 20 + linear 7
    assert (r["macs"], r["weight_words"], r["activation_words"]) == (140, 147, 27)
    e_pj = 3 * 140 * 4.6 + 147 * 640.0 + 3 * (20 + 2 * 27) * 5.0
    assert e_pj == pytest.approx(97_122.0)
    assert r["energy_mj"] == pytest.approx(97_122.0e-9, rel=1e-12)
    assert r["peak_power_w"] == pytest.approx(97_122.0e-9 / 0.5, rel=1e-12)
    assert estimate_energy(net, (5, 2, 2))["peak_power_w"] is None  # no latency, no power


def test_measure_energy_labels_its_source(tmp_path):
    # no RAPL domain under this root: the estimate, the same as estimate_energy's
    r = measure_energy(_small(), (1, 8, 8), rapl_root=str(tmp_path), min_time_s=0.01, latency_ms=0.25)
    assert r["source"] == "estimated:horowitz45nm"
    expect = estimate_energy(_small(), (1, 8, 8))["energy_mj"]
    assert r["energy_mj"] == pytest.approx(expect, rel=1e-12) and r["peak_power_w"] == pytest.approx(expect / 0.25)
    # a readable RAPL package domain is used and labelled measured; its counter stands still here
    d = tmp_path / "intel-rapl:0"
    d.mkdir()
    (d / "energy_uj").write_text("5000\n")
    (d / "max_energy_range_uj").write_text("262143328850\n")
    r = measure_energy(_small(), (1, 8, 8), rapl_root=str(tmp_path), min_time_s=0.01)
    assert r["source"] == "measured:rapl" and r["energy_mj"] == 0.0 and r["peak_power_w"] == 0.0
    # an unreadable counter falls back to the estimate instead of failing
    (d / "energy_uj").write_text("garbage\n")
    assert measure_energy(_small(), (1, 8, 8), rapl_root=str(tmp_path), min_time_s=0.01)["source"] == \
        "estimated:horowitz45nm"


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
    assert (r["params"], r["macs"]) == (186, 9 * 8 * 64 + 80)
    assert r["memory_source"] == "measured:torch-profiler"
    if rapl_domains():  # this machine exposes RAPL: energy is measured
        assert r["energy_source"] == "measured:rapl"
    else:
        assert r["energy_source"] == "estimated:horowitz45nm"
        assert r["energy_mj"] == pytest.approx(estimate_energy(_small(), (1, 8, 8))["energy_mj"], rel=1e-12)
        # the estimated power is the energy over the latency measured in the same call
        assert r["peak_power_w"] == pytest.approx(r["energy_mj"] / r["latency_ms"], rel=1e-12)


def test_cpu_clock_option():
    r = measure_latency(_small(), (1, 8, 8), repeats=5, clock="cpu")
    assert r["clock"] == "cpu" and r["latency_ms"] > 0
    with pytest.raises(ValueError, match="threads=1"):
        measure_latency(_small(), (1, 8, 8), repeats=5, clock="cpu", threads=2)
    with pytest.raises(ValueError, match="clock="):
        measure_latency(_small(), (1, 8, 8), clock="sundial")


def test_energy_weight_words_count_float_buffers_but_not_the_batch_counter():
    from torch import nn

    from moopt.adapters.nas.objectives import estimate_energy

    m = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU()).eval()
    # conv 4*1*3*3 + 4 bias, BN weight + bias 8, running mean + var 8; num_batches_tracked is not read
    assert estimate_energy(m, (1, 8, 8))["weight_words"] == 40 + 8 + 8


def test_peak_memory_leaves_stderr_clean():
    """The CPU profiler's C++ log (e.g. ``gpuGetDeviceCount failed`` without a GPU) must not reach a CLI user."""
    import subprocess
    import sys

    code = ("import torch; from moopt.adapters.nas.objectives import measure_peak_memory; "
            "r = measure_peak_memory(torch.nn.Conv2d(1, 4, 3), (1, 8, 8)); print(repr(r['activations_peak_mb']))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "gpuGetDeviceCount" not in run.stderr and "CUPTI" not in run.stderr and "profiler_st" not in run.stderr
    assert run.stderr == ""
    # 4 x 6 x 6 float32 outputs of the conv, allocated during the profiled pass
    assert float(run.stdout.strip()) >= 4 * 6 * 6 * 4 / 1e6


def test_quiet_profiler_drops_only_profiler_lines(capfd):
    import os
    import sys
    import warnings

    from moopt.adapters.nas.objectives import quiet_profiler

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with quiet_profiler():
            os.write(2, b"ERROR:2026-12-01 01:12:34 27026:27026 DeviceProperties.cpp:56] gpuGetDeviceCount failed"
                        b" with code 35\nUSDT:2026-12-01 01:12:34 27026:27026 SyncActivityProfilerHandler.cpp:39]"
                        b" profiler_start\n[W1201 01:12:34.0 1 kineto_shim.cpp:343] Profiler is not initialized\n"
                        b"a real message\n")
            print("from python", file=sys.stderr)
            warnings.warn_explicit("profiler noise", UserWarning, "profiler.py", 1, module="torch.profiler.profiler")
            warnings.warn_explicit("a model warning", UserWarning, "model.py", 1, module="mymodel")
    # (under capfd, sys.stderr bypasses descriptor 2, so only the set of lines is fixed here)
    assert sorted(capfd.readouterr().err.splitlines()) == ["a real message", "from python"]
    assert [str(w.message) for w in seen] == ["a model warning"]
    with pytest.raises(RuntimeError, match="inside the profiler"):
        with quiet_profiler():
            os.write(2, b"kept before the error\n")
            raise RuntimeError("inside the profiler")
    os.write(2, b"stderr restored\n")
    assert capfd.readouterr().err == "kept before the error\nstderr restored\n"
