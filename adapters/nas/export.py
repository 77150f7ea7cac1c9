"""Export a trained network: TorchScript, a weights-only state dict, ONNX, and a JSON card.

Every file holds the network's *inference form*
(:func:`~moopt.adapters.nas.objectives.inference_form`: eval mode, CondenseNet's
learned group convs condensed), the network whose params, MACs and latency the
search measured.  All files are written on the CPU in float32, each first to a
temporary file in ``out_dir`` and then renamed, so a crash never leaves a
half-written file under a final name.

Files (``<name>`` is the ``name`` argument):

* ``<name>.torchscript.pt``: ``torch.jit.trace`` of the inference form on the example
  batch (``torch.jit.script`` if tracing fails); checked by loading it back with
  ``torch.jit.load`` and comparing its outputs with the eager inference form.
  Load it with ``torch.jit.load(path)``; no moopt is needed.
* ``<name>.state_dict.pt``: the inference form's ``state_dict`` as plain tensors, so
  ``torch.load(path, weights_only=True)`` loads it.  For a network with learned group
  convs it belongs to the *condensed* structure: rebuild with ``problem.build(params)``,
  then :func:`~moopt.adapters.nas.objectives.inference_form`, then ``load_state_dict``.
* ``<name>.onnx`` (when asked, or by default when the ``onnx`` package is installed):
  ``torch.onnx.export`` with input ``"input"`` (NCHW, dynamic batch) and output ``"logits"``.
* ``<name>.json``: the caller's ``info`` plus an ``"export"`` section: input shape,
  files, torch version, the TorchScript check (max absolute difference and batch
  size), the state dict's form and how to rebuild it, and the ONNX outcome.

Example:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(10))
    >>> _ = net(torch.zeros(1, 1, 8, 8))
    >>> files = export_network(net, "/tmp/moopt-export-doc", name="net", input_shape=(1, 8, 8),
    ...                        info={"note": "doc"}, onnx=False)  # doctest: +SKIP
    >>> sorted(files)  # doctest: +SKIP
    ['json', 'state_dict', 'torchscript']
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import numpy as np
import torch
from torch import nn

from .files import atomic_write
from .objectives import inference_form
from .ops import LearnedGroupConv

#: the largest max-abs difference accepted between the saved TorchScript module and the eager model
TORCHSCRIPT_TOLERANCE = 1e-4
#: rebuilding a model for the state dict, as written into the JSON card
REBUILD = ("model = problem.build(params); model = moopt.adapters.nas.objectives.inference_form(model); "
           "model.load_state_dict(torch.load(path, weights_only=True))")


def export_network(model: nn.Module, out_dir, *, name: str, input_shape: tuple[int, int, int],
                   info: Mapping[str, Any], example: Optional[torch.Tensor] = None,
                   onnx: Optional[bool] = None) -> dict[str, str]:
    """Write a trained network's inference form as TorchScript, a state dict, ONNX and a JSON card.

    Args:
        model: The trained network (trainable form; it is copied, not changed).
        out_dir: Folder of the files (created if missing).
        name: File stem, e.g. ``"dpp-id12"`` (no path separators).
        input_shape: ``(c, h, w)`` of one input image.
        info: What identifies the network (params / encoding, objectives with units and
            sources, training config, seed, dataset fingerprint, evaluation id...);
            JSON values, tuples, numpy scalars and dataclasses are accepted.  It must
            not have an ``"export"`` key: export writes its own section there.
        example: Input batch, shape ``(n, c, h, w)``, for tracing and checking; default
            4 images drawn from ``torch.randn`` with a generator seeded 0.
        onnx: ``True``: write ``<name>.onnx`` or raise; ``False``: skip it; ``None``: write it
            when the ``onnx`` package is installed, and record why not in the JSON otherwise.

    Returns:
        ``{"json", "torchscript", "state_dict"}`` paths as strings, plus ``"onnx"`` when written.

    Raises:
        ValueError: a bad ``name``, ``input_shape`` or ``example`` shape, or ``info`` with an
            ``"export"`` key.
        TypeError: a value of ``info`` that JSON cannot hold.
        RuntimeError: the saved TorchScript module's outputs differ from the model's by more
            than :data:`TORCHSCRIPT_TOLERANCE`, or ONNX export failed with ``onnx=True``.

    Example:
        >>> files = export_network(trained, "out/exported", name="id12", input_shape=(3, 32, 32),
        ...                        info={"params": {"cell": ["bnrelu", "conv3x3"]}})  # doctest: +SKIP
        >>> torch.jit.load(files["torchscript"])(torch.zeros(1, 3, 32, 32)).shape  # doctest: +SKIP
        torch.Size([1, 10])
    """
    shape = _check_shape(input_shape)
    _check_name(name)
    card = _jsonable(dict(info), "info")
    if "export" in card:
        raise ValueError("info has an 'export' key; export_network writes its own 'export' section there. "
                         "Rename that key.")
    x = _example(example, shape)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    form = inference_form(model).cpu().float()
    paths = {"torchscript": out / f"{name}.torchscript.pt", "state_dict": out / f"{name}.state_dict.pt"}
    section: dict[str, Any] = {"input_shape": list(shape), "input": {"name": "input", "layout": "NCHW",
                                                                    "dtype": "float32"},
                               "output": "logits", "torch_version": torch.__version__}
    section["torchscript"] = save_torchscript(form, x, paths["torchscript"])
    section["state_dict"] = save_state_dict(form, paths["state_dict"], condensed=_has_learned_groups(model))
    section["onnx"] = _maybe_onnx(form, x, out / f"{name}.onnx", onnx)
    if section["onnx"]["written"]:
        paths["onnx"] = out / f"{name}.onnx"
    paths["json"] = out / f"{name}.json"
    section["files"] = {k: p.name for k, p in paths.items()}
    card["export"] = section
    text = json.dumps(card, indent=2, allow_nan=False) + "\n"
    atomic_write(paths["json"], lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return {k: str(paths[k]) for k in ("json", "torchscript", "state_dict", "onnx") if k in paths}


# --------------------------------------------------------------------------- the three formats
def save_torchscript(form: nn.Module, example: torch.Tensor, path) -> dict:
    """Trace (or script) ``form``, save it to ``path`` and check the saved file against ``form``.

    Args:
        form: A model in inference form (eval mode), on the CPU.
        example: Input batch ``(n, c, h, w)``.
        path: Destination ``.pt`` file.

    Returns:
        ``{"file", "method": "trace"|"script", "max_abs_diff", "batch_size"}``; the difference is
        measured on ``example`` between ``torch.jit.load(path)`` and ``form``.

    Raises:
        RuntimeError: the difference exceeds :data:`TORCHSCRIPT_TOLERANCE`.
    """
    path = Path(path)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # torch.jit is deprecated in torch >= 2.9 but still works
        try:
            scripted, method = torch.jit.trace(form, example), "trace"
        except Exception:  # data-dependent control flow: scripting compiles the Python instead
            scripted, method = torch.jit.script(form), "script"
        atomic_write(path, lambda tmp: torch.jit.save(scripted, tmp))
        loaded = torch.jit.load(str(path), map_location="cpu")
        diff = _max_abs_diff(loaded(example), form(example))
    if not diff <= TORCHSCRIPT_TOLERANCE:  # also catches NaN
        raise RuntimeError(f"the TorchScript file {path} does not reproduce the model: max abs difference "
                           f"{diff:.3g} > {TORCHSCRIPT_TOLERANCE:g} on a batch of {len(example)}. The model may "
                           "have input-dependent control flow that tracing froze; make it scriptable.")
    return {"file": path.name, "method": method, "max_abs_diff": diff, "batch_size": int(len(example))}


def save_state_dict(form: nn.Module, path, *, condensed: bool) -> dict:
    """Save ``form.state_dict()`` as a plain ``{name: tensor}`` dict loadable with ``weights_only=True``.

    Args:
        form: A model in inference form.
        path: Destination ``.pt`` file.
        condensed: Whether the inference form differs from the trainable model (learned group convs).

    Returns:
        ``{"file", "form", "rebuild", "tensors"}``: which model the weights belong to and how to rebuild it.
    """
    path = Path(path)
    state = {k: v.detach().cpu().clone() for k, v in form.state_dict().items()}
    atomic_write(path, lambda tmp: torch.save(state, tmp))
    kind = ("inference form (condensed): learned group convs replaced by index + group conv, so it differs "
            "from the trainable model" if condensed else
            "inference form (eval mode; same structure as the trainable model, no learned group convs)")
    return {"file": path.name, "form": kind, "rebuild": REBUILD, "tensors": len(state)}


def save_onnx(form: nn.Module, example: torch.Tensor, path) -> dict:
    """``torch.onnx.export`` of ``form`` to ``path`` (input ``"input"``, output ``"logits"``, dynamic batch).

    Tries torch's default exporter; when it needs ``onnxscript`` and that is missing, falls
    back to the TorchScript-based exporter (``dynamo=False``).  The file is checked with
    ``onnx.checker.check_model``.

    Returns:
        ``{"written": True, "file", "exporter": "default"|"legacy (dynamo=False)"}``.

    Raises:
        ImportError: neither exporter is usable (``pip install onnx``, or ``onnxscript`` for the default).
        Exception: what the exporter raised.
    """
    import onnx as onnx_pkg  # noqa: PLC0415 - optional dependency

    path = Path(path)
    names: dict[str, Any] = {"input_names": ["input"], "output_names": ["logits"],
                             "dynamic_axes": {"input": {0: "batch"}, "logits": {0: "batch"}}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            atomic_write(path, lambda tmp: torch.onnx.export(form, (example,), tmp, **names))
            exporter = "default"
        except ImportError as e:
            if "onnxscript" not in str(e) or not _has_legacy_onnx():
                raise
            atomic_write(path, lambda tmp: torch.onnx.export(form, (example,), tmp, dynamo=False, **names))
            exporter = "legacy (dynamo=False)"
    onnx_pkg.checker.check_model(onnx_pkg.load(str(path)))
    return {"written": True, "file": path.name, "exporter": exporter}


def _maybe_onnx(form: nn.Module, example: torch.Tensor, path: Path, wanted: Optional[bool]) -> dict:
    if wanted is False:
        return {"written": False, "reason": "not requested (onnx=False)"}
    if wanted is None and not _onnx_available():
        return {"written": False, "reason": "the onnx package is not installed (pip install onnx)"}
    try:
        return save_onnx(form, example, path)
    except Exception as e:
        if wanted:
            raise RuntimeError(f"ONNX export of {path} failed: {type(e).__name__}: {e}. Install onnx "
                               "(and onnxscript for torch's default exporter), or pass onnx=False.") from e
        return {"written": False, "reason": f"{type(e).__name__}: {e}"}


def _onnx_available() -> bool:
    try:
        import onnx  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


def _has_legacy_onnx() -> bool:
    import inspect

    try:
        return "dynamo" in inspect.signature(torch.onnx.export).parameters
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- helpers
def _has_learned_groups(model: nn.Module) -> bool:
    return any(isinstance(m, LearnedGroupConv) for m in model.modules())


def _max_abs_diff(a, b) -> float:
    a, b = _first_tensor(a), _first_tensor(b)
    if a.shape != b.shape:
        return math.inf
    return float((a.float() - b.float()).abs().max()) if a.numel() else 0.0


def _first_tensor(out) -> torch.Tensor:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (list, tuple)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    raise TypeError(f"the model returned {type(out).__name__}; export_network needs a tensor (the logits).")


def _check_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    shape = tuple(int(v) for v in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape={tuple(input_shape)}; pass (channels, height, width) of one image, "
                         "e.g. problem.dataset.input_shape.")
    c, h, w = shape
    return c, h, w


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name or name in (".", "..") or any(c in name for c in "/\\\0"):
        raise ValueError(f"name={name!r} must be a plain file stem such as 'id12' (no path separators); "
                         "choose the folder with out_dir.")


def _example(example: Optional[torch.Tensor], shape: tuple[int, int, int]) -> torch.Tensor:
    if example is None:
        return torch.randn((4, *shape), generator=torch.Generator().manual_seed(0))
    x = example.detach().cpu().float()
    if x.dim() != 4 or tuple(x.shape[1:]) != shape or len(x) < 1:
        raise ValueError(f"example has shape {tuple(example.shape)}; it must be a batch (n, {shape[0]}, "
                         f"{shape[1]}, {shape[2]}) matching input_shape, e.g. dataset.prepare(dataset.val.x[:4]).")
    return x


def _jsonable(obj, where: str):
    """``obj`` as plain JSON values: tuples as lists, numpy scalars as numbers, NaN / inf as None."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _jsonable(dataclasses.asdict(obj), where)
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple, torch.Size)):
        return [_jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist(), where)
    if isinstance(obj, np.generic):
        return _jsonable(obj.item(), where)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (bool, int, str)):
        return obj
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{where} is a {type(obj).__name__}, which JSON cannot hold; pass numbers, strings, "
                    "lists or dicts (e.g. str(value) or value.tolist()).")
