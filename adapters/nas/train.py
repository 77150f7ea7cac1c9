"""One trainer for every space: SGD (momentum / Nesterov) or AdamW, cosine schedule.

Deterministic under a seed on CPU: the weights are initialised and the data
shuffled / augmented from torch generators seeded from one
``numpy.random.Generator``; global RNG state is saved and restored around
the run.  ``TrainConfig(device="cuda")`` trains on a GPU: the weights are
still initialised and the batches drawn and augmented on the CPU from the same
generators, then moved, but CUDA kernels (cuDNN's algorithm choice, atomic
adds in backward passes) are not bitwise deterministic, so two CUDA runs of the
same seed can differ in the last digits and, through them, in accuracy.

A NaN / inf loss aborts the run (status ``"failed"``); a wall-time cap stops
training early and evaluates what was trained (``time_capped``).

Example:
    >>> from moopt.adapters.nas.data import load_digits
    >>> from moopt.adapters.nas.spaces.monas import build_monas
    >>> ds = load_digits().subset(train=256, val=128)
    >>> build = lambda: build_monas({"layer0_filters": 8, "layer0_kernel": 3},
    ...                             input_shape=ds.input_shape, num_classes=10)
    >>> res = train_model(build, ds, TrainConfig(epochs=1), seed=0)
    >>> res["status"], res["epochs_run"]
    ('ok', 1.0)
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Callable, Optional, Union

import numpy as np
import torch
from torch import nn

from .data import Dataset
from .ops import set_condense_progress


@dataclass(frozen=True)
class TrainConfig:
    """Training settings.

    Attributes:
        epochs: Passes over the training split.
        batch_size: Mini-batch size.
        optimizer: ``"sgd"`` or ``"adamw"``.
        lr: Peak learning rate (cosine-annealed to 0 over the run).
        momentum: SGD momentum.
        nesterov: Nesterov momentum (SGD).
        weight_decay: L2 (SGD) / decoupled (AdamW) weight decay.
        label_smoothing: Cross-entropy label smoothing in [0, 1).
        augment: Random crop (pad ``max(1, h // 8)``) and, for natural images, horizontal flip.
        threads: torch intra-op threads during training.
        time_limit_s: Wall-time cap of the training loop (``None``: none).
        max_train: Use only the first ``max_train`` training examples.
        max_val: Use only the first ``max_val`` validation examples.
        device: The torch device to train on: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``
            (checked when training starts; see :func:`resolve_device`).  The trained
            model is returned on the CPU.
    """

    epochs: float = 1
    batch_size: int = 32
    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = True
    weight_decay: float = 5e-4
    label_smoothing: float = 0.0
    augment: bool = False
    threads: int = 1
    time_limit_s: Optional[float] = None
    max_train: Optional[int] = None
    max_val: Optional[int] = None
    device: str = "cpu"

    def __post_init__(self):
        if self.optimizer not in ("sgd", "adamw"):
            raise ValueError(f"optimizer={self.optimizer!r}; choose 'sgd' or 'adamw'.")
        if not self.epochs > 0 or self.batch_size < 1 or not self.lr > 0:
            raise ValueError(f"need epochs > 0, batch_size >= 1, lr > 0; got {self.epochs}, "
                             f"{self.batch_size}, {self.lr}.")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing={self.label_smoothing} must be in [0, 1).")
        if self.threads < 1:
            raise ValueError(f"threads={self.threads} must be >= 1.")
        _parse_device(self.device)

    def to_dict(self) -> dict:
        return asdict(self)


def _parse_device(name: str) -> torch.device:
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={name!r} is not a torch device; use 'cpu', 'cuda' or 'cuda:N'.") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device={name!r}: training runs on 'cpu' or 'cuda[:N]', not {dev.type!r}.")
    return dev


def resolve_device(name: str) -> torch.device:
    """The torch device ``name`` (``"cpu"``, ``"cuda"``, ``"cuda:N"``), checked to exist here.

    Raises:
        ValueError: not a device string, another device type, no CUDA device on this
            machine, or a CUDA index beyond the devices present (the message says which
            devices there are).

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    dev = _parse_device(name)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device={name!r}: no CUDA device is available on this machine; "
                             "use device='cpu'.")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"device={name!r}: this machine has {count} CUDA device(s), "
                             f"cuda:0..cuda:{count - 1}.")
    return dev


def _seed_from(seed: Union[int, np.random.Generator, None]) -> int:
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(2 ** 62))
    return int(np.random.default_rng(seed).integers(2 ** 62))


def build_seeded(build: Callable[[], nn.Module], seed: int) -> nn.Module:
    """Call ``build()`` with torch's global RNG seeded to ``seed`` (restored afterwards)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        return build()


def _augment(x: torch.Tensor, *, flip: bool, gen: torch.Generator) -> torch.Tensor:
    n, _, h, w = x.shape
    pad = max(1, min(h, w) // 8)
    xp = nn.functional.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    out = torch.stack([xp[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    if flip:
        f = torch.rand(n, generator=gen) < 0.5
        out[f] = out[f].flip(-1)
    return out


@torch.no_grad()
def evaluate_accuracy(model: nn.Module, dataset: Dataset, split: str = "val", *, batch_size: int = 256,
                      limit: Optional[int] = None) -> float:
    """Top-1 accuracy (fraction) of ``model`` on a split of ``dataset``."""
    data = getattr(dataset, split).subset(limit)
    dev = next((p.device for p in model.parameters()), torch.device("cpu"))
    was = model.training
    model.eval()
    correct = 0
    for i in range(0, len(data), batch_size):
        out = model(dataset.prepare(data.x[i:i + batch_size]).to(dev))
        correct += int((out.argmax(1).cpu() == data.y[i:i + batch_size]).sum())
    model.train(was)
    return correct / max(1, len(data))


def train_model(model_or_build: Union[nn.Module, Callable[[], nn.Module]], dataset: Dataset,
                config: Optional[TrainConfig] = None, *, seed: Union[int, np.random.Generator, None] = 0,
                return_model: bool = False) -> dict:
    """Train a network on ``dataset`` and report its validation accuracy.

    Args:
        model_or_build: A module, or a zero-argument builder (then the weights are
            initialised from ``seed``, so the same seed gives identical weights).
        dataset: A :class:`~moopt.adapters.nas.data.Dataset`.
        config: :class:`TrainConfig` (default settings when ``None``).
        seed: An int or a ``numpy.random.Generator``; everything random derives from it.
        return_model: Also return the trained module under ``"model"``.

    Returns:
        ``{"status": "ok"|"failed", "val_acc", "val_error_pct", "train_time_s",
        "epochs_run", "steps", "final_loss", "time_capped", "error"}``.
    """
    config = config or TrainConfig()
    device = resolve_device(config.device)
    base = _seed_from(seed)
    init_seed, data_seed = base % (2 ** 31), (base // (2 ** 31)) % (2 ** 31)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(init_seed)
        model = model_or_build if isinstance(model_or_build, nn.Module) else model_or_build()
        old_threads = torch.get_num_threads()
        torch.set_num_threads(config.threads)
        try:
            res = _train(model.to(device), dataset, config, data_seed, device)
        finally:
            torch.set_num_threads(old_threads)
            model.to("cpu")
    if return_model:
        res["model"] = model
    return res


def _train(model: nn.Module, dataset: Dataset, config: TrainConfig, data_seed: int,
           device: torch.device) -> dict:
    train = dataset.train.subset(config.max_train)
    gen = torch.Generator().manual_seed(data_seed)
    n = len(train)
    steps_per_epoch = max(1, math.ceil(n / config.batch_size))
    total_steps = max(1, int(round(config.epochs * steps_per_epoch)))
    params = [p for p in model.parameters() if p.requires_grad]
    opt: torch.optim.Optimizer
    if config.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                              nesterov=config.nesterov and config.momentum > 0, weight_decay=config.weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / total_steps)))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    model.train()
    t0 = time.perf_counter()
    step, loss_val, capped, error = 0, float("nan"), False, None
    perm = None
    while step < total_steps:
        k = step % steps_per_epoch
        if k == 0:
            perm = torch.randperm(n, generator=gen)
        assert perm is not None  # drawn at the first step (k == 0)
        idx = perm[k * config.batch_size:(k + 1) * config.batch_size]
        x = dataset.prepare(train.x[idx])
        if config.augment:
            x = _augment(x, flip=dataset.flip, gen=gen)
        set_condense_progress(model, step / total_steps)
        loss = loss_fn(model(x.to(device)), train.y[idx].to(device))
        loss_val = float(loss.detach())
        if not math.isfinite(loss_val):
            error = f"non-finite loss {loss_val} at step {step} (epoch {step / steps_per_epoch:.2f}); aborted"
            break
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        if config.time_limit_s is not None and time.perf_counter() - t0 > config.time_limit_s and step < total_steps:
            capped = True
            break
    train_time = time.perf_counter() - t0
    out = {"status": "failed" if error else "ok", "train_time_s": train_time,
           "epochs_run": step / steps_per_epoch, "steps": step, "final_loss": loss_val,
           "time_capped": capped, "error": error, "val_acc": None, "val_error_pct": None}
    if error is None:
        acc = evaluate_accuracy(model, dataset, "val", limit=config.max_val)
        out["val_acc"], out["val_error_pct"] = acc, 100.0 * (1.0 - acc)
    return out


def state_arrays(model: nn.Module) -> dict:
    """The model's state dict as numpy arrays (JSON/npz-friendly, no pickle)."""
    return {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}
