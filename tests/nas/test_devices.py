"""Latency lookup tables: coverage, hand-built predictions, JSON round trip, rank correlation."""

import json
import re

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
    assert all(v["ms"] > 0 for v in lut.entries.values())


# A table written by hand for CFG at 1x8x8, 10 classes (stem 8; block 0: two cells of growth 4 at
# 8x8, cin 8 and 12; pool; block 1: one cell of growth 8 at 4x4, cin 16; head on 24 channels).
# Keys are "op|cin|cout|HxW"; a cell's last conv outputs the growth, earlier convs 4 x growth.
HAND = {
    "stem|1|8|8x8|s1": 100.0, "pool|16|8x8": 200.0, "head|24|4x4|10": 300.0,
    "cat|8|4|8x8": 1.0, "cat|12|4|8x8": 2.0, "cat|16|8|4x4": 3.0,
    # cell ("bnrelu", "conv3x3"): one conv, straight to the growth
    "bnrelu|8|8|8x8": 10.0, "conv3x3|8|4|8x8": 20.0, "bnrelu|12|12|8x8": 30.0, "conv3x3|12|4|8x8": 40.0,
    "bnrelu|16|16|4x4": 50.0, "conv3x3|16|8|4x4": 60.0,
    # cell ("bnrelu", "conv1x1", "bnrelu", "conv3x3"): bottleneck 4 x growth, then the growth
    "conv1x1|8|16|8x8": 0.5, "bnrelu|16|16|8x8": 0.25, "conv3x3|16|4|8x8": 0.125, "conv1x1|12|16|8x8": 4.0,
    "conv1x1|16|32|4x4": 5.0, "bnrelu|32|32|4x4": 6.0, "conv3x3|32|8|4x4": 7.0,
    # decoys no network of these cells contains
    "bn|8|8|8x8": 1e6, "conv1x1|8|4|8x8": 1e6, "conv3x3|8|16|8x8": 1e6, "pool|24|4x4": 1e6,
}


def test_predict_sums_a_hand_built_table():
    lut = LatencyTable({k: {"ms": v, "iqr_ms": 0.0, "min_ms": v / 4} for k, v in HAND.items()},
                       input_shape=(1, 8, 8), num_classes=10, config=CFG)
    fixed = 100 + 200 + 300 + 1 + 2 + 3  # stem, pool, head, three concatenations
    # three cells of bnrelu + conv3x3
    assert lut.predict(("bnrelu", "conv3x3")) == fixed + (10 + 20) + (30 + 40) + (50 + 60) == 816
    # the two 8x8 cells share "bnrelu|16|16|8x8" and "conv3x3|16|4|8x8": each layer counts once per use
    two_conv = ("bnrelu", "conv1x1", "bnrelu", "conv3x3")
    assert lut.predict(two_conv) == fixed + (10 + 0.5 + 0.25 + 0.125) + (30 + 4 + 0.25 + 0.125) + (50 + 5 + 6 + 7)
    assert lut.predict(two_conv) == 719.25
    assert lut.predict(two_conv, stat="min_ms") == 719.25 / 4
    # an entry written without min_ms falls back to its median
    only_ms = LatencyTable({k: {"ms": v} for k, v in HAND.items()}, input_shape=(1, 8, 8), num_classes=10,
                           config=CFG)
    assert only_ms.predict(("bnrelu", "conv3x3"), stat="min_ms") == 816
    with pytest.raises(ValueError, match=re.escape("no entry 'conv1x1|8|16|8x8'")):
        LatencyTable({k: v for k, v in lut.entries.items() if k != "conv1x1|8|16|8x8"}, input_shape=(1, 8, 8),
                     num_classes=10, config=CFG).predict(two_conv)


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
    assert 0 < lut.predict(cell, stat="min_ms") <= lut.predict(cell)  # every layer's minimum <= its median
    with pytest.raises(ValueError, match="stat="):
        lut.predict(cell, stat="mean")


def test_lut_ranks_random_cells_like_measured_latency(tmp_path):
    """The documented claim: LUT-predicted and measured latency of random DPP-Net cells rank alike.

    The table comes from ``moopt nas profile-device`` (default skeleton, 3x32x32, 1 thread) with the
    single-thread CPU clock, which leaves out waits for a core; minima are the least load-sensitive
    statistic.  Calibration on the shared 2-core machine with this exact test (12 runs, half of them
    beside 6 busy processes, load average 5-8): Spearman rho of the minima 0.974-0.998, of the
    medians 0.936-0.998, mean measured/predicted 1.01-1.12; a predictor counting layers reaches
    0.58-0.86, one by MACs 0.74-0.89.  The thresholds leave a margin below those ranges.
    """
    from scipy.stats import spearmanr

    from moopt.adapters.nas.objectives import measure_latency
    from moopt.cli import main

    path = tmp_path / "host.json"
    assert main(["nas", "profile-device", "--out", str(path), "--repeats", "10", "--clock", "cpu"]) == 0
    lut = LatencyTable.load(path)
    assert lut.device["clock"] == "cpu" and lut.input_shape == (3, 32, 32) and lut.config == DPPConfig()
    space = DPPCellSpace(max_length=6)
    rng = np.random.default_rng(0)
    cells = []
    while len(cells) < 30:
        cell = space.sample(rng)
        if cell not in cells:
            cells.append(cell)
    pred_min, pred_med, meas_min, meas_med = [], [], [], []
    for cell in cells:
        net = build_dpp(cell, input_shape=(3, 32, 32), num_classes=10, config=DPPConfig())
        r = measure_latency(net, (3, 32, 32), repeats=10, warmup=2, threads=1, clock="cpu")
        pred_min.append(lut.predict(cell, stat="min_ms"))
        pred_med.append(lut.predict(cell))
        meas_min.append(r["latency_min_ms"])
        meas_med.append(r["latency_ms"])
    rho_min = spearmanr(pred_min, meas_min).statistic
    rho_med = spearmanr(pred_med, meas_med).statistic
    ratio = float(np.mean(np.divide(meas_min, pred_min)))
    assert rho_min >= 0.9, f"Spearman rho of minima {rho_min:.3f}"
    assert rho_med >= 0.85, f"Spearman rho of medians {rho_med:.3f}"
    assert 0.5 <= ratio <= 3.0, f"mean measured/predicted {ratio:.2f}"


TINY = DPPConfig(stem_channels=8, stages=(1,), growth=(4,))


@pytest.fixture(scope="module")
def tiny_table(tmp_path_factory):
    """A table saved by ``profile_dpp`` (the docstring's tiny skeleton) and its parsed JSON."""
    path = tmp_path_factory.mktemp("lut") / "tiny.json"
    profile_dpp((1, 8, 8), 10, config=TINY, repeats=3, warmup=1, name="tinyhost").save(path)
    return path, json.loads(path.read_text())


def _entry(d, key, stat, value):
    d["entries"][key][stat] = value


@pytest.mark.parametrize("edit,shown", [
    (lambda d, k: _entry(d, k, "ms", float("nan")), "has ms=nan"),
    (lambda d, k: _entry(d, k, "ms", float("inf")), "has ms=inf"),
    (lambda d, k: _entry(d, k, "ms", -1), "has ms=-1"),
    (lambda d, k: _entry(d, k, "iqr_ms", float("-inf")), "has iqr_ms=-inf"),
    (lambda d, k: _entry(d, k, "min_ms", -0.5), "has min_ms=-0.5"),
    (lambda d, k: _entry(d, k, "min_ms", "fast"), "has min_ms='fast'"),
    (lambda d, k: d["entries"][k].pop("ms"), "is {'iqr_ms'"),
])
def test_bad_entry_values_are_rejected_on_load(tiny_table, tmp_path, edit, shown):
    path, good = tiny_table
    d = json.loads(json.dumps(good))
    key = sorted(d["entries"])[3]
    edit(d, key)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))  # Python writes NaN / Infinity / -Infinity, as a hand edit could
    with pytest.raises(ValueError) as err:
        LatencyTable.load(bad)
    msg = str(err.value)
    assert msg.startswith(f"latency table 'tinyhost' ({bad}): entry {key!r} {shown}")
    assert "re-run `moopt nas profile-device`" in msg


def test_json_constants_written_by_hand_are_rejected(tiny_table, tmp_path):
    path, good = tiny_table
    key = sorted(good["entries"])[0]
    text = json.dumps(good).replace(json.dumps(good["entries"][key]), '{"ms": NaN, "iqr_ms": 0, "min_ms": Infinity}')
    assert "NaN" in text
    (tmp_path / "nan.json").write_text(text)
    with pytest.raises(ValueError, match=re.escape(f"entry {key!r} has ms=nan")):
        LatencyTable.load(tmp_path / "nan.json")


@pytest.mark.parametrize("field,value,shown", [
    ("input_shape", [1, 8], "input_shape=[1, 8]; it must be 3 positive integers"),
    ("input_shape", [1, 0, 8], "input_shape=[1, 0, 8]"),
    ("input_shape", [1, 8.5, 8], "input_shape=[1, 8.5, 8]"),
    ("input_shape", "1x8x8", "input_shape='1x8x8'"),
    ("num_classes", 0, "num_classes=0; it must be a positive integer"),
    ("num_classes", -3, "num_classes=-3"),
    ("num_classes", 2.5, "num_classes=2.5"),
    ("entries", {}, "has no entries (entries={})"),
])
def test_bad_skeleton_fields_are_rejected_on_load(tiny_table, tmp_path, field, value, shown):
    path, good = tiny_table
    d = dict(good, **{field: value})
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    with pytest.raises(ValueError) as err:
        LatencyTable.load(bad)
    msg = str(err.value)
    assert msg.startswith(f"latency table 'tinyhost' ({bad})") and shown in msg
    assert "re-run `moopt nas profile-device`" in msg
    with pytest.raises(ValueError, match=r"^latency table 'tinyhost' has "):
        LatencyTable.from_dict(d)  # without a file, the message names the table alone


def test_a_good_saved_table_still_loads_and_predicts_the_same(tiny_table):
    path, good = tiny_table
    back = LatencyTable.load(path)
    cell = ("bnrelu", "conv3x3")
    expected = sum(good["entries"][k]["ms"] for k in dpp_keys(cell, (1, 8, 8), 10, TINY))
    assert back.predict(cell) == pytest.approx(expected) and expected > 0
    assert back.input_shape == (1, 8, 8) and back.num_classes == 10 and back.config == TINY
    zero = json.loads(json.dumps(good))
    zero["entries"][sorted(zero["entries"])[0]].update(ms=0, iqr_ms=0, min_ms=0)  # a 0 ms layer is legal
    assert LatencyTable.from_dict(zero).entries[sorted(zero["entries"])[0]] == {"ms": 0.0, "iqr_ms": 0.0, "min_ms": 0.0}


@pytest.mark.parametrize("field,value,shown", [
    ("entries", [{"ms": 1.0}], 'entries is a JSON array; it must be a JSON object mapping each layer key to '
                               '{"ms": median, "iqr_ms": spread, "min_ms": minimum}'),
    ("entries", "none", "entries is a JSON string; it must be a JSON object"),
    ("config", [8, [1], [4]], "config is a JSON array; it must be a JSON object of DPPConfig fields ["),
    ("config", None, "config is a JSON null"),
    ("config", {"stem_channels": 8, "stages": [1], "growth": [4], "colour": 1},
     "config has unknown field(s) ['colour']"),
    ("config", {"stem_channels": "8", "stages": [1], "growth": [4]}, "config.stem_channels='8'; it must be a positive"),
    ("config", {"stem_channels": 8, "stages": "ab", "growth": [4]}, "config.stages='ab'; it must be a non-empty array"),
    ("config", {"stem_channels": 8, "stages": [1, 1], "growth": [4]}, "config is invalid (DPPConfig: stages"),
    ("config", {"stem_channels": 8, "stages": [1], "growth": [4], "shuffle": "yes"}, "config.shuffle='yes'"),
    ("device", ["cpu"], "device must be a JSON object describing the measured machine (or null), got a JSON array"),
    ("space", "nb201", "is for the space 'nb201'"),
])
def test_wrong_json_types_are_value_errors_naming_file_and_field(tiny_table, tmp_path, field, value, shown):
    path, good = tiny_table
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(dict(good, **{field: value})))
    with pytest.raises(ValueError) as err:
        LatencyTable.load(bad)
    msg = str(err.value)
    assert msg.startswith(f"latency table 'tinyhost' ({bad})") and shown in msg, msg
    assert "re-run `moopt nas profile-device`" in msg


def test_a_table_that_is_not_an_object_or_lacks_fields(tiny_table, tmp_path):
    path, good = tiny_table
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([good]))
    with pytest.raises(ValueError, match=re.escape(f"latency table {bad} is a JSON array, not a moopt latency table")):
        LatencyTable.load(bad)
    bad.write_text(json.dumps({k: v for k, v in good.items() if k != "config"}))
    with pytest.raises(ValueError, match=re.escape("is missing the field(s) ['config']")):
        LatencyTable.load(bad)
    bad.write_text(json.dumps(dict(good, name=["x"])))
    with pytest.raises(ValueError, match=re.escape(f"latency table ({bad}): name must be a non-empty string")):
        LatencyTable.load(bad)
