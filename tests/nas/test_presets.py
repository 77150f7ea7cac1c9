"""The MONAS and DPP-Net presets end to end through the CLI, on digits, with tiny budgets.

Each run trains real networks (1 epoch on 64 images), writes its run file and results
folder, prints the front table and exits 0; bad input exits 2 and writes nothing.
"""

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings

import pytest
import torch

from moopt.cli import main
from moopt.result import RunResult
from moopt.store import RunStore

TINY = ["--epochs", "1", "--max-train", "64"]
MONAS_TINY = TINY + ["--budget", "4", "--children-per-update", "2", "--layers", "2", "--energy", "estimated"]
DPP_SKELETON = ["--stages", "1,1", "--growth", "4,8", "--stem-channels", "8"]
DPP_TINY = TINY + DPP_SKELETON + ["--budget", "6", "--n-initial", "4", "--k", "2", "--max-layers", "3",
                                  "--surrogate", "forest"]


@pytest.fixture(scope="module")
def lut(tmp_path_factory):
    """A latency table of this machine for the tiny DPP skeleton on digits' 1x8x8 input."""
    from moopt.adapters.nas.devices import profile_dpp
    from moopt.adapters.nas.spaces.dpp import DPPConfig

    path = tmp_path_factory.mktemp("lut") / "tiny.json"
    profile_dpp((1, 8, 8), 10, config=DPPConfig(stem_channels=8, stages=(1, 1), growth=(4, 8)), repeats=2,
                warmup=1, name="tiny").save(path)
    return path


def _check_results(db, capsys_out: str, *, expect_objectives, exported=True):
    res = RunResult.load(str(db))
    assert res.counts["ok"] >= 1 and [o for o in res.objective_names] == expect_objectives
    folder = db.with_suffix("")
    report = (folder / "report.md").read_text()
    assert "front.csv" in report and "front.png" in report
    with open(folder / "front.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    front = res.front_records
    assert len(rows) == len(front) >= 1
    # the table printed at the end is the front, one row per member, with their ids
    for rec in front:
        assert f"| {rec.candidate_id} |" in capsys_out
    assert (folder / "front.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if exported:
        for rec in front:
            card = json.loads((folder / f"arch-{rec.candidate_id}" / f"arch-{rec.candidate_id}.json").read_text())
            assert card["retrained"]["matches_the_run"] is True  # same seed, same weights, same accuracy (CPU)
    return res


@pytest.mark.parametrize("space", ["macro", "densenet"])
@pytest.mark.parametrize("reward,extra,cost", [
    ("mixed", ["--alpha", "0.5"], "energy_mj"),
    ("power", ["--power-budget", "0.3"], "peak_power_w"),
    ("accuracy", ["--accuracy-threshold", "0.5"], "energy_mj"),
])
def test_monas_preset_runs_each_reward_on_each_space(tmp_path, capsys, space, reward, extra, cost):
    db = tmp_path / "monas.db"
    args = ["nas", "monas", "--reward", reward, *extra, "--space", space, *MONAS_TINY, "--out", str(db)]
    if space == "densenet":
        args[args.index("--layers") + 1] = "1"
    assert main(args) == 0
    out = capsys.readouterr().out
    res = _check_results(db, out, expect_objectives=["accuracy_pct", cost])
    assert res.config["algorithm"] == "reinforce" and res.n_paid == 4
    with RunStore(str(db), readonly=True) as st:
        updates = st.logs("policy_update")
    assert [u["update"] for u in updates] == [0, 1]
    accs = [r.objectives["accuracy_pct"] / 100 for r in res.records if r.status == "ok"]
    for u in updates:  # rewards on the paper's scale: accuracy as a fraction
        if reward == "mixed":
            assert -0.5 - 1e-9 <= u["mean_reward"] <= 0.5 * max(accs) + 1e-9
        elif reward == "power":
            assert 0.0 <= u["mean_reward"] <= max(accs) + 1e-9
        else:
            assert 0.0 <= u["mean_reward"] <= 1.0
    assert f"{space}" in res.config["problem"]["name"]


@pytest.mark.parametrize("criterion", ["pareto", "pnas"])
@pytest.mark.parametrize("on", ["host", "lut"])
def test_dpp_preset_runs_each_criterion_on_host_and_with_a_lut(tmp_path, capsys, lut, criterion, on):
    db = tmp_path / "dpp.db"
    target = "host" if on == "host" else str(lut)
    assert main(["nas", "dpp", "--criterion", criterion, "--target", target, *DPP_TINY, "--out", str(db)]) == 0
    out = capsys.readouterr().out
    res = _check_results(db, out, expect_objectives=["error_pct", "params", "macs", "latency_ms"])
    steps = [r.info["step"] for r in res.records]
    assert steps == [0] * 4 + [1] * 2 and [len(r.params["cell"]) for r in res.records] == [2] * 4 + [3] * 2
    assert res.config["options"]["selection"] == criterion
    if on == "lut":
        from moopt.adapters.nas.devices import LatencyTable

        table = LatencyTable.load(lut)
        for r in res.records:  # latency is the table's prediction, exactly
            assert r.objectives["latency_ms"] == pytest.approx(table.predict(r.params["cell"]), rel=1e-12)
        assert "latency table 'tiny'" in (db.with_suffix("") / "report.md").read_text()


def test_exported_torchscript_reproduces_the_trained_network(tmp_path, capsys, lut):
    from moopt.adapters.nas.objectives import inference_form
    from moopt.adapters.nas.presets import build_problem, load_run, retrain

    db = tmp_path / "dpp.db"
    assert main(["nas", "dpp", "--target", str(lut), *DPP_TINY, "--out", str(db)]) == 0
    res, name, opts = load_run(db)
    problem = build_problem(name, opts)[0]
    rec = res.front_records[0]
    model, _ = retrain(problem, rec.params)
    with warnings.catch_warnings():  # torch 2.14 deprecates torch.jit (still the TorchScript loader)
        warnings.simplefilter("ignore", FutureWarning)
        ts = torch.jit.load(str(db.with_suffix("") / f"arch-{rec.candidate_id}" /
                                 f"arch-{rec.candidate_id}.torchscript.pt"))
    x = problem.dataset.prepare(problem.dataset.val.x[:32])
    with torch.no_grad():
        want = inference_form(model)(x)
        got = ts(x)
    assert torch.allclose(got, want, atol=1e-5)
    # its accuracy on the validation images is the stored one
    acc = (got.argmax(1) == problem.dataset.val.y[:32]).float().mean().item()
    assert 0.0 <= acc <= 1.0 and math.isfinite(rec.objectives["error_pct"])


def test_train_final_and_export_commands(tmp_path, capsys, lut):
    db = tmp_path / "dpp.db"
    assert main(["nas", "dpp", "--target", str(lut), *DPP_TINY, "--out", str(db), "--no-export"]) == 0
    res = RunResult.load(str(db))
    best = res.front_records[0].candidate_id
    capsys.readouterr()
    assert main(["nas", "train-final", str(db), "--id", str(best), "--epochs", "1", "--stages", "1,2"]) == 0
    out = capsys.readouterr().out
    assert f"id {best}: val acc" in out
    with RunStore(str(db), readonly=True) as st:
        (entry,) = st.logs("final_training")
    assert entry["id"] == best and entry["skeleton"]["stages"] == [1, 2] and entry["epochs"] == 1.0
    assert 0.0 <= entry["test_acc"] <= 1.0 and entry["objectives"]["params"] > 0
    assert os.path.isfile(entry["files"]["torchscript"])
    exp = tmp_path / "exp"
    assert main(["nas", "export", str(db), "--id", str(best), "--out", str(exp)]) == 0
    card = json.loads((exp / f"arch-{best}.json").read_text())
    assert card["id"] == best and card["retrained"]["matches_the_run"] is True
    # an id that is not in the run: exit 2, one line naming the ids there are
    assert main(["nas", "export", str(db), "--id", "999", "--out", str(exp)]) == 2
    assert "no evaluation with id 999" in capsys.readouterr().err


def test_config_file_sets_options_and_flags_win(tmp_path, capsys, lut):
    cfg = tmp_path / "dpp.toml"
    cfg.write_text(f'target = "{lut}"\nbudget = 5\nn-initial = 4\nk = 1\nmax_layers = 3\nsurrogate = "forest"\n'
                   'epochs = 1\nmax-train = 64\nstages = [1, 1]\ngrowth = [4, 8]\nstem-channels = 8\n'
                   'criterion = "pnas"\n')
    db = tmp_path / "dpp.db"
    assert main(["nas", "dpp", "--config", str(cfg), "--criterion", "pareto", "--out", str(db), "--no-export"]) == 0
    res = RunResult.load(str(db))
    assert res.config["options"]["selection"] == "pareto" and res.config["options"]["k"] == 1
    assert res.n_paid == 5 and res.config["extra"]["preset"]["options"]["budget"] == 5


@pytest.mark.parametrize("args,message", [
    (["nas", "dpp", "--target", "m"], "--table nb201"),
    (["nas", "dpp", "--budget", "5"], "smaller than DPP-Net's first step"),
    (["nas", "monas", "--reward", "power"], "power-budget"),
    (["nas", "monas", "--reward", "accuracy", "--accuracy-threshold", "90"], "accuracy-threshold=90"),
    (["nas", "monas", "--budget", "3"], "smaller than one policy update"),
    (["nas", "dpp", "--device", "tpu"], "device='tpu'"),
    (["nas", "dpp", "--data", "cifar10"], "needs the folder"),
    (["nas", "dpp", "--data", "svhn:/x"], "unknown dataset 'svhn'"),
    (["nas", "dpp", "--data", "cifar10:/nonexistent/cifar"], "not found"),
    (["nas", "monas", "--table", "nb201", "--reward", "power", "--power-budget", "1"], "no power"),
])
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    db = tmp_path / "run.db"
    assert main([*args, "--out", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and message in err and "\n" not in err
    assert not db.exists() and not db.with_suffix("").exists()


def test_cuda_without_a_gpu_exits_2(tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    db = tmp_path / "run.db"
    assert main(["nas", "dpp", "--device", "cuda", "--out", str(db)]) == 2
    assert "no CUDA device" in capsys.readouterr().err and not db.exists()


def test_unknown_option_in_the_config_file_exits_2(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text("budget = 20\nlearning-rate = 0.1\n")
    assert main(["nas", "dpp", "--config", str(cfg), "--out", str(tmp_path / "r.db")]) == 2
    err = capsys.readouterr().err
    assert "unknown option 'learning-rate'" in err and "max-layers" in err


def test_image_folder_without_val_exits_2_and_writes_nothing(tmp_path, capsys):
    from PIL import Image

    for cls in ("a", "b"):
        d = tmp_path / "imgs" / "train" / cls
        d.mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(d / f"{i}.png")
    db = tmp_path / "run.db"
    assert main(["nas", "dpp", "--data", f"imagefolder:{tmp_path / 'imgs'}", "--out", str(db)]) == 2
    assert "val/" in capsys.readouterr().err and not db.exists()


def test_bad_latency_table_exits_2(tmp_path, capsys, lut):
    d = json.loads(lut.read_text())
    key = sorted(d["entries"])[0]
    d["entries"][key]["ms"] = -1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    assert main(["nas", "dpp", "--target", str(bad), *DPP_TINY, "--out", str(tmp_path / "r.db")]) == 2
    assert key in capsys.readouterr().err
    d = json.loads(lut.read_text())
    d["input_shape"] = [3, 32, 32]
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(d))
    assert main(["nas", "dpp", "--target", str(wrong), *DPP_TINY, "--out", str(tmp_path / "r.db")]) == 2
    assert "(3, 32, 32)" in capsys.readouterr().err


def test_table_presets_search_the_nb201_table(tmp_path, capsys):
    db = tmp_path / "t.db"
    assert main(["nas", "dpp", "--table", "nb201", "--target", "m", "--budget", "12", "--k", "2",
                 "--surrogate", "forest", "--out", str(db)]) == 0
    out = capsys.readouterr().out
    res = RunResult.load(str(db))
    assert res.objective_names == ["error_pct", "latency_ms", "params", "macs"] and res.n_paid == 12
    from moopt.problems.nb201 import NB201Problem

    table = NB201Problem(device="pixel3", extra="params+macs")
    for r in res.records:
        if r.status == "ok":
            want = table.evaluate(r.params)
            assert r.objectives == pytest.approx({n: want[n] for n in res.objective_names})
    report = (db.with_suffix("") / "report.md").read_text()
    assert "no memory objective" in report and "| id |" in out
    db2 = tmp_path / "m.db"
    assert main(["nas", "monas", "--table", "nb201", "--target", "es", "--budget", "6", "--children-per-update",
                 "3", "--out", str(db2)]) == 0
    res2 = RunResult.load(str(db2))
    assert res2.objective_names == ["accuracy_pct", "latency_ms"] and res2.n_paid == 6


def test_list_presets_prints_objectives_and_defaults(capsys):
    assert main(["nas", "list-presets", "--format", "json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["dpp"]["objectives"] == ["error_pct", "params", "macs", "latency_ms"]
    assert rows["monas"]["objectives"] == ["accuracy_pct", "energy_mj"]
    assert rows["dpp"]["defaults"]["k"] == 8 and rows["monas"]["defaults"]["alpha"] == 0.25


def _records(db):
    return [(r.key, r.status, r.objectives) for r in RunResult.load(str(db)).records]


def test_a_killed_preset_resumes_to_the_same_result(tmp_path, lut):
    args = ["nas", "dpp", "--target", str(lut), *DPP_TINY, "--budget", "8", "--max-layers", "4", "--no-export"]
    whole = tmp_path / "whole.db"
    assert main([*args, "--out", str(whole)]) == 0
    killed = tmp_path / "killed.db"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "moopt", *args, "--out", str(killed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if killed.exists():
                try:
                    with RunStore(str(killed), readonly=True) as st:
                        if st.n_paid() >= 3:
                            break
                except Exception:  # the file is being created
                    pass
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run finished before it could be killed; make it longer"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    with RunStore(str(killed), readonly=True) as st:
        assert 3 <= st.n_paid() < 8
    assert main([*args, "--out", str(killed)]) == 0
    assert _records(killed) == _records(whole)


def test_workers_evaluate_on_dask_and_give_the_serial_results(tmp_path, lut):
    pytest.importorskip("distributed")
    args = ["nas", "dpp", "--target", str(lut), *DPP_TINY, "--no-export"]
    assert main([*args, "--out", str(tmp_path / "serial.db")]) == 0
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "dask.db")]) == 0
    res = RunResult.load(str(tmp_path / "dask.db"))
    assert {r.worker.split("://")[0] for r in res.records} == {"tcp"}  # evaluated by Dask workers
    assert sorted(_records(tmp_path / "dask.db")) == sorted(_records(tmp_path / "serial.db"))


def test_rerunning_a_finished_preset_reprints_the_front_and_keeps_the_exports(tmp_path, capsys, lut):
    db = tmp_path / "dpp.db"
    args = ["nas", "dpp", "--target", str(lut), *DPP_TINY, "--out", str(db)]
    assert main(args) == 0
    first = capsys.readouterr().out
    files = sorted(p for p in db.with_suffix("").rglob("*") if p.is_file())
    stamps = {p: p.stat().st_mtime_ns for p in files if "arch-" in str(p)}
    assert {p.suffixes[-1] for p in stamps} >= {".json", ".pt"}  # json, torchscript, state_dict (+ onnx)
    mask = os.umask(0)
    os.umask(mask)
    assert all(p.stat().st_mode & 0o777 == 0o666 & ~mask for p in files)  # not a temp file's 0600
    assert main(args) == 0
    again = capsys.readouterr().out
    assert again.split("\n", 1)[1] == first.split("\n", 1)[1]  # the same front table and paths
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # not trained and exported again


def test_the_python_functions_return_the_run_result(tmp_path, lut):
    from moopt.adapters.nas import dpp, monas

    res = dpp(target=str(lut), epochs=1, max_train=64, stages=(1, 1), growth=(4, 8), stem_channels=8, budget=5,
              n_initial=3, k=2, max_layers=3, surrogate="gp", out=str(tmp_path / "d.db"), export=False)
    assert isinstance(res, RunResult) and res.n_paid == 5 and res.config["options"]["surrogate"] == "gp"
    assert (tmp_path / "d" / "report.md").is_file()
    res = monas(reward="accuracy", accuracy_threshold=0.2, layers=1, children_per_update=2, budget=2, epochs=1,
                max_train=64, energy="estimated")  # in memory: no run file, no results folder
    assert isinstance(res, RunResult) and res.path is None and res.n_paid == 2
    assert res.config["options"]["reward"]["type"] == "accuracy"
    assert res.config["options"]["reward"]["threshold"] == 0.2
    with pytest.raises(ValueError, match="alpha=1.5"):
        monas(alpha=1.5)
