"""export_network: TorchScript, weights-only state dict, ONNX and the JSON card of trained tiny networks."""

import json
import warnings

import pytest
import torch

from moopt.adapters.nas.export import export_network
from moopt.adapters.nas.objectives import inference_form
from moopt.adapters.nas.ops import CondensedGroupConv, LearnedGroupConv
from moopt.adapters.nas.problem import _candidate_seed, nas_problem
from moopt.adapters.nas.train import evaluate_accuracy, train_model

DPP_CELL = {"cell": ("bnrelu", "lgconv1x1", "bn", "conv3x3")}
TRAIN = {"epochs": 1, "max_train": 64, "max_val": 32}


def _train(problem, params):
    res = train_model(lambda: problem.build(params), problem.dataset, problem.train_config,
                      seed=_candidate_seed(problem.evaluation_seed, params), return_model=True)
    assert res["status"] == "ok"
    return res["model"]


def _info(problem, params):
    return {"params": params, "objectives": {"error_pct": {"value": 12.5, "unit": "%", "source": "measured here"}},
            "train_config": problem.train_config, "evaluation_seed": problem.evaluation_seed,
            "dataset": {"name": problem.dataset.name, "input_shape": problem.dataset.input_shape},
            "evaluation_id": 7, "not_a_number": float("nan")}


@pytest.fixture(scope="module")
def dpp(digits, tmp_path_factory):
    p = nas_problem("dpp", objectives=["error_pct", "params"], dataset=digits, train_config=TRAIN, seed=0,
                    space_options={"stem_channels": 8, "stages": (1, 1), "growth": (4, 8), "max_length": 4})
    model = _train(p, DPP_CELL)
    out = tmp_path_factory.mktemp("export")
    files = export_network(model, out, name="id7", input_shape=p.dataset.input_shape, info=_info(p, DPP_CELL),
                           onnx=False)
    return p, model, files


def test_dpp_files_and_json_card(dpp):
    p, _, files = dpp
    assert sorted(files) == ["json", "state_dict", "torchscript"]
    card = json.loads(open(files["json"], encoding="utf-8").read())
    assert card["params"] == {"cell": list(DPP_CELL["cell"])} and card["evaluation_id"] == 7
    assert card["not_a_number"] is None  # plain JSON: NaN becomes null
    assert card["train_config"]["max_train"] == 64 and card["dataset"]["input_shape"] == [1, 8, 8]
    ex = card["export"]
    assert ex["input_shape"] == [1, 8, 8] and ex["torch_version"] == torch.__version__
    assert ex["files"] == {"torchscript": "id7.torchscript.pt", "state_dict": "id7.state_dict.pt", "json": "id7.json"}
    assert ex["torchscript"]["max_abs_diff"] <= 1e-5 and ex["torchscript"]["batch_size"] == 4
    assert ex["state_dict"]["form"].startswith("inference form (condensed)")
    assert "inference_form" in ex["state_dict"]["rebuild"]
    assert ex["onnx"] == {"written": False, "reason": "not requested (onnx=False)"}


def test_torchscript_matches_trained_model_on_real_images(dpp):
    p, model, files = dpp
    ds = p.dataset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.load's deprecation warning
        ts = torch.jit.load(files["torchscript"])
    form = inference_form(model)
    assert any(isinstance(m, CondensedGroupConv) for m in form.modules())  # condensing was exercised
    with torch.no_grad():
        x = ds.prepare(ds.val.x[:16])  # a batch size other than the traced one
        torch.testing.assert_close(ts(x), form(x), atol=1e-5, rtol=0)
        pred = torch.cat([ts(ds.prepare(ds.val.x[i:i + 64])).argmax(1) for i in range(0, len(ds.val), 64)])
    assert int((pred == ds.val.y).sum()) / len(ds.val) == evaluate_accuracy(model, ds, "val")


def test_state_dict_loads_weights_only_into_condensed_model(dpp):
    p, model, files = dpp
    state = torch.load(files["state_dict"], weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    fresh = inference_form(p.build(DPP_CELL))  # random weights, condensed structure
    fresh.load_state_dict(state)
    x = p.dataset.prepare(p.dataset.val.x[:16])
    with torch.no_grad():
        torch.testing.assert_close(fresh(x), inference_form(model)(x), atol=1e-6, rtol=0)
    with pytest.raises(RuntimeError):  # the trainable (uncondensed) form has another structure
        p.build(DPP_CELL).load_state_dict(state)


def test_monas_net_exports(digits, tmp_path):
    p = nas_problem("monas", objectives=["accuracy_pct", "params"], dataset=digits, train_config=TRAIN,
                    space_options={"n_layers": 2, "filters": (4, 8), "kernels": (1, 3)}, seed=0)
    params = {"layer0_filters": 8, "layer0_kernel": 3, "layer1_filters": 4, "layer1_kernel": 1}
    model = _train(p, params)
    files = export_network(model, tmp_path / "new" / "dir", name="monas", input_shape=p.dataset.input_shape,
                           info={"params": params}, onnx=False)
    card = json.loads(open(files["json"], encoding="utf-8").read())
    assert card["export"]["state_dict"]["form"].startswith("inference form (eval mode")
    assert not any(isinstance(m, LearnedGroupConv) for m in model.modules())
    state = torch.load(files["state_dict"], weights_only=True)
    fresh = p.build(params)  # no learned group convs: the trainable structure loads it too
    fresh.load_state_dict(state)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = torch.jit.load(files["torchscript"])
    x = p.dataset.prepare(p.dataset.val.x[:16])
    with torch.no_grad():
        torch.testing.assert_close(ts(x), model.eval()(x), atol=1e-5, rtol=0)
        torch.testing.assert_close(fresh.eval()(x), model(x), atol=1e-6, rtol=0)


def test_onnx_export_runs_like_the_model(dpp, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx.reference import ReferenceEvaluator

    p, model, _ = dpp
    files = export_network(model, tmp_path, name="net", input_shape=p.dataset.input_shape, info={}, onnx=True)
    card = json.loads(open(files["json"], encoding="utf-8").read())
    assert card["export"]["onnx"]["written"] and card["export"]["files"]["onnx"] == "net.onnx"
    graph = onnx.load(files["onnx"])
    x = p.dataset.prepare(p.dataset.val.x[:8])  # batch 8 though exported with 4: the batch axis is dynamic
    (y,) = ReferenceEvaluator(graph).run(None, {"input": x.numpy()})
    with torch.no_grad():
        torch.testing.assert_close(torch.from_numpy(y), inference_form(model)(x), atol=1e-5, rtol=0)


def test_onnx_default_follows_the_package(dpp, tmp_path):
    p, model, _ = dpp
    files = export_network(model, tmp_path, name="net", input_shape=p.dataset.input_shape, info={})
    card = json.loads(open(files["json"], encoding="utf-8").read())
    try:
        import onnx  # noqa: F401
    except ImportError:
        assert "onnx" not in files and "not installed" in card["export"]["onnx"]["reason"]
    else:
        assert files["onnx"].endswith("net.onnx") and card["export"]["onnx"]["written"]


def test_bad_arguments_are_refused_with_the_fix(dpp, tmp_path):
    p, model, _ = dpp
    shape = p.dataset.input_shape
    with pytest.raises(ValueError, match="plain file stem"):
        export_network(model, tmp_path, name="a/b", input_shape=shape, info={}, onnx=False)
    with pytest.raises(ValueError, match="channels, height, width"):
        export_network(model, tmp_path, name="a", input_shape=(8, 8), info={}, onnx=False)
    with pytest.raises(ValueError, match="matching input_shape"):
        export_network(model, tmp_path, name="a", input_shape=shape, info={}, example=torch.zeros(2, 3, 8, 8),
                       onnx=False)
    with pytest.raises(ValueError, match="'export' key"):
        export_network(model, tmp_path, name="a", input_shape=shape, info={"export": 1}, onnx=False)
    with pytest.raises(TypeError, match=r"info\['obj'\] is a object"):
        export_network(model, tmp_path, name="a", input_shape=shape, info={"obj": object()}, onnx=False)
    assert list(tmp_path.iterdir()) == []  # refused before writing anything


def test_torchscript_mismatch_raises(tmp_path):
    class Noisy(torch.nn.Module):  # a different answer on every call: no saved file can reproduce it
        def forward(self, x):
            return x.flatten(1) + torch.rand(x.shape[0], 1) * 10

    with pytest.raises(RuntimeError, match=r"noisy\.torchscript\.pt does not reproduce the model"):
        export_network(Noisy(), tmp_path, name="noisy", input_shape=(1, 2, 2), info={}, onnx=False)
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind
