"""Space + trainer + device objectives -> moopt.Problem (cheap objectives, failures, LUT device)."""

import numpy as np
import pytest

from moopt.adapters.nas.problem import nas_problem
from moopt.adapters.nas.spaces.dpp import DPPConfig
from moopt.errors import EvaluationError
from moopt.search.progressive.space import space_for

TRAIN = {"epochs": 1, "max_train": 96, "max_val": 48}
DPP_OPTS = {"stem_channels": 8, "stages": (1, 1), "growth": (4, 8), "max_length": 4}


def test_dpp_problem_evaluates_and_marks_cheap(digits):
    p = nas_problem("dpp", dataset=digits, objectives=["error_pct", "params", "macs", "latency_ms"],
                    space_options=DPP_OPTS, train_config=TRAIN, latency_repeats=3)
    assert p.cheap_objectives == ["params", "macs", "latency_ms"] and p.directions == ["min"] * 4
    assert space_for(p) is p.progressive_space and p.space.names == ["cell"]
    x = {"cell": ("bnrelu", "conv3x3")}
    out = p.evaluate(x)
    assert 0 <= out["error_pct"] <= 100 and out["params"] == 72 + 16 + 288 + 24 + 864 + 40 + 210
    assert out["epochs_run"] == 1.0
    assert p.evaluate(x)["error_pct"] == out["error_pct"]  # per-candidate seed: reproducible
    cheap = p.evaluate_cheap(x)
    assert cheap["params"] == out["params"] and cheap["macs"] == out["macs"] and "error_pct" not in cheap


@pytest.mark.parametrize("space,opts", [
    ("monas", {"n_layers": 2, "filters": (4, 8), "kernels": (1, 3)}),
    ("densenet", {"n_blocks": 2, "layers": (1,), "growth": (4,)}),
    ("condensenet", {"n_blocks": 2, "layers": (1,), "growth": (4, 8)}),
    ("nb201", {"channels": 4, "cells_per_stage": 1}),
])
def test_every_space_makes_a_problem(space, opts, digits):
    p = nas_problem(space, dataset=digits, objectives=["accuracy_pct", "peak_memory_mb", "energy_mj"],
                    space_options=opts, train_config=TRAIN)
    x = p.space.sample(np.random.default_rng(0))
    out = p.evaluate(x)
    assert p.directions == ["max", "min", "min"]
    assert 0 <= out["accuracy_pct"] <= 100 and out["peak_memory_mb"] > 0 and out["energy_mj"] > 0


def test_diverging_training_is_an_evaluation_error(digits):
    p = nas_problem("dpp", dataset=digits, objectives=["error_pct"], space_options=DPP_OPTS,
                    train_config={"epochs": 1, "lr": 1e8, "weight_decay": 0.0, "max_train": 256})
    with pytest.raises(EvaluationError, match="non-finite loss"):
        p.evaluate({"cell": ("bnrelu", "lgconv1x1", "bnrelu", "gconv3x3")})


def test_lut_device(digits):
    from moopt.adapters.nas.devices import profile_dpp

    cfg = DPPConfig(stem_channels=8, stages=(1, 1), growth=(4, 8))
    lut = profile_dpp(digits.input_shape, 10, config=cfg, repeats=2, warmup=1)
    p = nas_problem("dpp", dataset=digits, objectives=["latency_ms"], device=lut, space_options=DPP_OPTS)
    cell = ("bn", "dwconv3x3", "id")
    assert p.evaluate_cheap({"cell": cell})["latency_ms"] == pytest.approx(lut.predict(cell))
    with pytest.raises(ValueError, match="profiled for"):
        nas_problem("dpp", dataset=digits, objectives=["latency_ms"], device=lut,
                    space_options={**DPP_OPTS, "growth": (8, 8)})
    with pytest.raises(ValueError, match="DPP-Net cells only"):
        nas_problem("monas", dataset=digits, objectives=["latency_ms"], device=lut)


def test_bad_arguments(digits):
    with pytest.raises(ValueError, match="unknown objectives"):
        nas_problem("dpp", dataset=digits, objectives=["speed"])
    with pytest.raises(ValueError, match="unknown space"):
        nas_problem("resnet", dataset=digits)


def test_progressive_search_runs_on_the_dpp_problem(digits):
    """The core's DPP-Net-style search grows DPP cells through the ProgressiveSpace interface."""
    import moopt
    from moopt.search.progressive.search import ProgressiveSearch

    p = nas_problem("dpp", dataset=digits, objectives=["error_pct", "params"], space_options=DPP_OPTS,
                    train_config={"epochs": 1, "max_train": 64, "max_val": 32})
    search = ProgressiveSearch(p, seed=0, k=2, n_initial=3, surrogate="mean")
    lengths = []
    while (batch := search.ask(4)):
        results = []
        for c in batch:
            assert p.progressive_space.is_valid(c.params["cell"])
            lengths.append(len(c.params["cell"]))
            try:
                results.append(moopt.Evaluation.success(c, p.evaluate(c.params)))
            except moopt.errors.EvaluationError as exc:
                results.append(moopt.Evaluation.failure(c, str(exc)))
        search.tell(results)
    assert min(lengths) == 2 and max(lengths) == 4
