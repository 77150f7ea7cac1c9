"""Latency lookup tables: coverage, prediction = sum of entries, JSON round trip, rank sanity."""

import json

import numpy as np
import pytest

from moopt.adapters.nas.devices import LatencyTable, dpp_keys, profile_dpp
from moopt.adapters.nas.spaces.dpp import DPPCellSpace, DPPConfig, build_dpp

CFG = DPPConfig(stem_channels=8, stages=(2, 1), growth=(4, 8))


@pytest.fixture(scope="module")
def lut():
    return profile_dpp((1, 8, 8), 10, config=CFG, repeats=5, warmup=1, name="testhost")


def test_lut_covers_every_architecture(lut):
    space = DPPCellSpace(max_length=6)
    rng = np.random.default_rng(0)
    for _ in range(200):
        cell = space.sample(rng)
        keys = dpp_keys(cell, (1, 8, 8), 10, CFG)
        assert all(k in lut.entries for k in keys)
        assert lut.predict(cell) == pytest.approx(sum(lut.entries[k]["ms"] for k in keys))
    assert all(v["ms"] > 0 for v in lut.entries.values())


def test_keys_follow_the_network():
    cell = ("bnrelu", "conv3x3", "bn")
    keys = dpp_keys(cell, (1, 8, 8), 10, CFG)
    assert keys[0] == "stem|1|8|8x8|s1" and keys[-1] == "head|24|4x4|10"
    assert "conv3x3|8|4|8x8" in keys and "conv3x3|12|4|8x8" in keys and "conv3x3|16|8|4x4" in keys
    assert "pool|16|8x8" in keys and sum(k.startswith("cat|") for k in keys) == 3
    # layer count: stem + 3 cells x (3 layers + cat) + pool + head
    assert len(keys) == 1 + 3 * 4 + 1 + 1
    net = build_dpp(cell, input_shape=(1, 8, 8), num_classes=10, config=CFG)
    assert net.classifier.in_features == 24


def test_json_roundtrip(lut, tmp_path):
    p = tmp_path / "dev.json"
    lut.save(p)
    d = json.loads(p.read_text())
    assert d["format"] == "moopt-latency-lut/1" and d["device"]["threads"] == 1 and d["device"]["batch_size"] == 1
    back = LatencyTable.load(p)
    assert back.entries == lut.entries and back.config == CFG and back.name == "testhost"
    cell = ("bn", "gconv3x3", "id", "lgconv1x1")
    assert back.predict(cell) == lut.predict(cell)


def test_bad_tables(tmp_path, lut):
    with pytest.raises(FileNotFoundError, match="profile-device"):
        LatencyTable.load(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        LatencyTable.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "x"}))
    with pytest.raises(ValueError, match="not a moopt latency table"):
        LatencyTable.load(tmp_path / "other.json")
    other = LatencyTable(lut.entries, input_shape=(1, 8, 8), num_classes=10,
                         config=DPPConfig(stem_channels=8, stages=(3, 1), growth=(4, 8)))
    with pytest.raises(ValueError, match="profile-device"):
        other.predict(("bn", "conv1x1"))


def test_lut_ranks_cheap_and_expensive_cells(lut):
    """Robust sanity on a loaded machine: the LUT orders cells of very different cost.

    (The rank correlation over 100 random cells is measured in benchmarks/bench_latency.py.)
    """
    light = ("id", "conv1x1")
    heavy = ("bnrelu", "conv3x3", "bnrelu", "conv3x3", "bnrelu", "conv3x3")
    assert lut.predict(heavy) > 1.5 * lut.predict(light)


def test_min_statistic(lut):
    cell = ("bnrelu", "conv3x3")
    keys = dpp_keys(cell, (1, 8, 8), 10, CFG)
    assert lut.predict(cell, stat="min_ms") == pytest.approx(sum(lut.entries[k]["min_ms"] for k in keys))
    assert lut.predict(cell, stat="min_ms") <= lut.predict(cell)
    with pytest.raises(ValueError, match="stat="):
        lut.predict(cell, stat="mean")
