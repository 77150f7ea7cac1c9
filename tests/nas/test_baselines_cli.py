"""Baselines (torchvision, adapted) and the `moopt nas` commands."""

import json

import pytest
import torch

from moopt.adapters.nas.baselines import BASELINES, build_baseline
from moopt.cli import main


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("shape,classes", [((1, 8, 8), 10), ((3, 32, 32), 7)])
def test_baselines_forward(name, shape, classes):
    net = build_baseline(name, input_shape=shape, num_classes=classes).eval()
    assert net(torch.zeros(1, *shape)).shape == (1, classes)


def test_baselines_keep_torchvision_weights_shapes():
    import torchvision.models as tvm

    # for 3-channel input only the stem stride changes: same parameter count as torchvision's model
    for name, ref in [("mobilenet_v2", tvm.mobilenet_v2), ("shufflenet_v2", tvm.shufflenet_v2_x1_0)]:
        ours = build_baseline(name, input_shape=(3, 32, 32), num_classes=10)
        theirs = ref(weights=None, num_classes=10)
        assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    with pytest.raises(ValueError, match="unknown baseline"):
        build_baseline("vgg", input_shape=(1, 8, 8), num_classes=10)


def test_cli_profile_device(tmp_path, capsys):
    out = tmp_path / "DEVICE.json"
    rc = main(["nas", "profile-device", "--space", "dpp", "--out", str(out), "--input", "1x8x8",
               "--stem-channels", "8", "--stages", "1,1", "--growth", "4,8", "--repeats", "2", "--name", "mydev"])
    assert rc == 0
    d = json.loads(out.read_text())
    assert d["name"] == "mydev" and d["input_shape"] == [1, 8, 8] and len(d["entries"]) > 30
    from moopt.adapters.nas.devices import LatencyTable

    assert LatencyTable.load(out).predict(("bn", "conv1x1")) > 0
    assert main(["nas", "profile-device", "--out", str(out), "--input", "8x8"]) == 2
    assert "CxHxW" in capsys.readouterr().err


def test_cli_baselines_markdown(capsys):
    rc = main(["nas", "baselines", "--names", "condensenet_like", "--max-train", "64", "--epochs", "1"])
    assert rc == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0].startswith("| model | params | MACs | latency_ms (wall clock")
    assert "| condensenet_like |" in text and ("estimated:horowitz45nm" in text or "measured:" in text)
    assert main(["nas", "baselines", "--names", "alexnet"]) == 2
