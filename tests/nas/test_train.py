"""The trainer: determinism under a seed, NaN abort, wall-time cap, options."""

import numpy as np
import pytest
import torch

from moopt.adapters.nas.spaces.dpp import CONDENSENET_CELL, DPPConfig, build_dpp
from moopt.adapters.nas.spaces.monas import build_monas
from moopt.adapters.nas.train import TrainConfig, build_seeded, state_arrays, train_model


def _build(ds):
    return lambda: build_dpp(CONDENSENET_CELL, input_shape=ds.input_shape, num_classes=10,
                             config=DPPConfig(stem_channels=8, stages=(1, 1), growth=(4, 8)))


def test_same_seed_same_weights_and_accuracy(digits):
    ds = digits.subset(train=192, val=96)
    cfg = TrainConfig(epochs=1, augment=True)
    a = train_model(_build(ds), ds, cfg, seed=5, return_model=True)
    b = train_model(_build(ds), ds, cfg, seed=np.random.default_rng(5), return_model=False)
    c = train_model(_build(ds), ds, cfg, seed=5, return_model=True)
    assert a["status"] == "ok" and a["epochs_run"] == 1.0 and a["steps"] == 6
    wa, wc = state_arrays(a["model"]), state_arrays(c["model"])
    assert all(np.array_equal(wa[k], wc[k]) for k in wa)
    assert a["val_acc"] == c["val_acc"] and a["final_loss"] == c["final_loss"]
    d = train_model(_build(ds), ds, cfg, seed=6, return_model=True)
    wd = state_arrays(d["model"])
    assert not all(np.array_equal(wa[k], wd[k]) for k in wa)
    assert b["status"] == "ok"
    # global RNG untouched
    torch.manual_seed(123)
    x = torch.rand(1)
    torch.manual_seed(123)
    train_model(_build(ds), ds, cfg, seed=1)
    assert torch.equal(torch.rand(1), x)


def test_learning_happens(digits):
    ds = digits.subset(val=200)
    build = lambda: build_monas({"layer0_filters": 16, "layer0_kernel": 3, "layer1_filters": 32,
                                 "layer1_kernel": 3}, input_shape=ds.input_shape, num_classes=10)
    r = train_model(build, ds, TrainConfig(epochs=2, optimizer="adamw", lr=0.01, label_smoothing=0.1), seed=0)
    assert r["val_acc"] > 0.5 and abs(r["val_error_pct"] - 100 * (1 - r["val_acc"])) < 1e-9


def test_nan_loss_aborts_as_failed(digits):
    ds = digits.subset(train=256, val=32)
    r = train_model(_build(ds), ds, TrainConfig(epochs=1, lr=1e8, weight_decay=0), seed=0)
    assert r["status"] == "failed" and "non-finite loss" in r["error"] and r["val_acc"] is None
    assert r["epochs_run"] < 1.0


def test_wall_time_cap(digits):
    ds = digits.subset(val=32)
    r = train_model(_build(ds), ds, TrainConfig(epochs=50, time_limit_s=0.0), seed=0)
    assert r["status"] == "ok" and r["time_capped"] and r["steps"] == 1 and r["val_acc"] is not None


def test_config_validation():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="label_smoothing"):
        TrainConfig(label_smoothing=1.0)
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)


def test_build_seeded_is_reproducible():
    b = lambda: torch.nn.Linear(3, 2)
    assert torch.equal(build_seeded(b, 4).weight, build_seeded(b, 4).weight)
    assert not torch.equal(build_seeded(b, 4).weight, build_seeded(b, 5).weight)


# -- the torch device (CUDA itself is exercised by the GPU check script, not here) ---------------
def test_device_cpu_is_the_default_and_returns_the_model_on_the_cpu(digits):
    ds = digits.subset(train=96, val=48)
    a = train_model(_build(ds), ds, TrainConfig(epochs=1), seed=3, return_model=True)
    b = train_model(_build(ds), ds, TrainConfig(epochs=1, device="cpu"), seed=3, return_model=True)
    assert a["val_acc"] == b["val_acc"] and a["final_loss"] == b["final_loss"]
    assert all(p.device.type == "cpu" for p in b["model"].parameters())
    assert TrainConfig(device="cuda:1").device == "cuda:1"  # the format is checked here, presence at training


@pytest.mark.parametrize("name, message", [
    ("bogus", r"device='bogus' is not a torch device; use 'cpu', 'cuda' or 'cuda:N'"),
    ("meta", r"device='meta': training runs on 'cpu' or 'cuda\[:N\]', not 'meta'"),
])
def test_bad_device_strings_are_refused_when_configured(name, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(device=name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_cuda_without_a_gpu_is_a_clear_error_before_training(digits):
    from moopt.adapters.nas.train import resolve_device

    no_gpu = r"device='cuda': no CUDA device is available on this machine; use device='cpu'"
    with pytest.raises(ValueError, match=no_gpu):
        resolve_device("cuda")
    ds = digits.subset(train=32, val=16)
    with pytest.raises(ValueError, match="no CUDA device"):
        train_model(_build(ds), ds, TrainConfig(epochs=1, device="cuda:0"), seed=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_index_beyond_the_devices_present_is_refused():
    from moopt.adapters.nas.train import resolve_device

    n = torch.cuda.device_count()
    assert resolve_device("cuda:0").type == "cuda"
    with pytest.raises(ValueError, match=f"has {n} CUDA device"):
        resolve_device(f"cuda:{n}")
