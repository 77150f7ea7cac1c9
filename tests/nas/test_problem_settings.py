"""NASProblem carries its metadata explicitly, and everything that changes results is in its config."""

import pytest

import moopt
from moopt.adapters.nas.problem import NASProblem, dataset_fingerprint, nas_problem

TINY = {"n_layers": 2, "filters": (4, 8), "kernels": (1, 3)}


def _problem(digits, **kw):
    options = dict(objectives=["error_pct", "params"], dataset=digits, space_options=TINY,
                   train_config={"epochs": 1, "max_train": 64, "max_val": 32})
    options.update(kw)
    return nas_problem("monas", **options)


def test_metadata_is_explicit_and_settings_hold_what_changes_results(digits):
    p = _problem(digits, seed=5)
    assert isinstance(p, NASProblem) and p.dataset is digits and p.evaluation_seed == 5
    assert p.train_config.epochs == 1 and p.progressive_space is None and p.dpp_config is None
    model = p.build(p.space.sample(moopt.search.RandomSearch(p, seed=0).rng))
    assert model(digits.prepare(digits.val.x[:2])).shape == (2, digits.num_classes)
    s = p.to_config()["settings"]
    assert s["evaluation_seed"] == 5 and s["train_config"]["max_train"] == 64 and s["device"] == "host"
    assert s["dataset"] == dataset_fingerprint(digits) and s["space_options"]["filters"] == [4, 8]
    # one more training epoch, another evaluation seed, another dataset: another configuration
    assert _problem(digits, seed=6).to_config() != p.to_config()
    assert _problem(digits, seed=5, train_config={"epochs": 2, "max_train": 64, "max_val": 32}).to_config() \
        != p.to_config()


def test_dataset_fingerprint_sees_a_changed_label(digits):
    import dataclasses

    y = digits.val.y.clone()
    y[0] = (y[0] + 1) % digits.num_classes
    other = dataclasses.replace(digits, val=dataclasses.replace(digits.val, y=y))
    a, b = dataset_fingerprint(digits), dataset_fingerprint(other)
    assert a["sizes"] == b["sizes"] and a["sha256"] != b["sha256"]


def test_resume_with_a_changed_trainer_is_refused(digits, tmp_path):
    db = str(tmp_path / "nas.db")
    cheap = dict(objectives=["params"])  # no training needed to exercise the configuration check
    moopt.optimize(_problem(digits, **cheap), "random", budget=2, seed=0, store=db, progress=False)
    changed = _problem(digits, train_config={"epochs": 3, "max_train": 64, "max_val": 32}, **cheap)
    with pytest.raises(moopt.RunStoreError, match=r"train_config\.epochs \(stored 1, now 3\)"):
        moopt.optimize(changed, "random", budget=4, seed=0, store=db, progress=False)


def test_dpp_problem_has_its_cell_space_and_skeleton(digits):
    from moopt.adapters.nas.spaces.dpp import DPPCellSpace, DPPConfig
    from moopt.search.progressive import space_for

    p = nas_problem("dpp", objectives=["params"], dataset=digits, space_options={"max_length": 3})
    assert isinstance(p.progressive_space, DPPCellSpace) and space_for(p) is p.progressive_space
    assert p.dpp_config == DPPConfig() and p.to_config()["settings"]["space"] == "dpp"


def test_estimated_energy_is_deterministic_and_sources_name_where_values_come_from(digits):
    from moopt.adapters.nas.objectives import estimate_energy
    from moopt.adapters.nas.problem import nas_problem

    opts = {"n_layers": 2, "filters": (4, 8), "kernels": (1, 3)}
    p = nas_problem("monas", dataset=digits, objectives=["accuracy_pct", "energy_mj", "latency_ms"],
                    space_options=opts, train_config={"epochs": 1, "max_train": 64}, energy="estimated")
    params = {"layer0_filters": 8, "layer0_kernel": 3, "layer1_filters": 4, "layer1_kernel": 1}
    a, b = p.evaluate_cheap(params), p.evaluate_cheap(params)
    assert a["energy_mj"] == b["energy_mj"] == estimate_energy(p.build(params), digits.input_shape)["energy_mj"]
    assert p.to_config()["settings"]["energy"] == "estimated"
    assert p.sources["energy_mj"].startswith("estimated")
    assert p.sources["latency_ms"] == "measured here (cpu, median of 20 passes)"
    assert "1 epochs on digits" in p.sources["accuracy_pct"] and set(p.sources) == set(p.objective_names)
    with pytest.raises(ValueError, match="energy='measured'"):
        nas_problem("monas", dataset=digits, objectives=["energy_mj"], space_options=opts, energy="measured")
