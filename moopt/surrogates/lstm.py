"""LSTM sequence regressor (the DPP-Net / PNAS predictor) in torch.

Token embedding -> one-layer LSTM -> the hidden state after the last token ->
a small MLP head with one output per fitted value column.  Targets are
standardized.  An ensemble of members, each trained on its own random
train/validation split with early stopping on the validation MSE (best weights
restored), gives the std.  All randomness comes from the surrogate's
``numpy.random.Generator``: each member's torch generator (initialization,
mini-batch order) is seeded from it, never from torch's global state.  Weights
are exported as numpy arrays in :meth:`LSTMSurrogate.state_dict`.

Importing this module imports torch.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import numpy as np
import torch
from torch import nn

from .base import Surrogate, pad


@contextmanager
def _threads(n: Optional[int]) -> Iterator[None]:
    """torch's intra-op thread count set to ``n`` inside the block (``None``: unchanged)."""
    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class _Net(nn.Module):
    def __init__(self, n_tokens: int, embed_dim: int, hidden_size: int, n_out: int):
        super().__init__()
        self.embedding = nn.Embedding(n_tokens + 1, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_size, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.Tanh(), nn.Linear(hidden_size, n_out))

    def forward(self, idx: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(self.embedding(idx))  # (n, L, H); padding comes after the tokens
        last = out[torch.arange(idx.shape[0]), lengths - 1]
        return self.head(last)

    def init_(self, gen: torch.Generator) -> None:
        """Initialize every parameter from ``gen`` (PyTorch's default ranges)."""
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.startswith("embedding"):
                    p.normal_(0.0, 1.0, generator=gen)
                    p[0].zero_()
                elif name.startswith("lstm"):
                    b = 1.0 / math.sqrt(self.lstm.hidden_size)
                    p.uniform_(-b, b, generator=gen)
                else:
                    fan_in = p.shape[1] if p.dim() == 2 else self.lstm.hidden_size
                    b = 1.0 / math.sqrt(fan_in)
                    p.uniform_(-b, b, generator=gen)


class _Adam:
    """``torch.optim.Adam(params, lr, weight_decay=...)`` on CPU tensors, step for step.

    The same arithmetic as torch's default single-tensor path (bitwise the same
    weights, tested against ``torch.optim.Adam``), without the optimizer
    machinery: its first use imports ``torch._dynamo`` (1.3 s per process, a
    quarter of a whole progressive run) and its per-step wrappers cost about a
    quarter of the training time of these small networks.
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = list(params)
        self.lr, self.weight_decay, self.eps = float(lr), float(weight_decay), float(eps)
        self.beta1, self.beta2 = float(betas[0]), float(betas[1])
        self.exp_avg = [torch.zeros_like(p) for p in self.params]
        self.exp_avg_sq = [torch.zeros_like(p) for p in self.params]
        self.n_steps = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.n_steps += 1
        step = float(self.n_steps)
        step_size = self.lr / (1 - self.beta1 ** step)
        bias_correction2_sqrt = (1 - self.beta2 ** step) ** 0.5
        for p, m, v in zip(self.params, self.exp_avg, self.exp_avg_sq):
            grad = p.grad
            if grad is None:
                continue
            if self.weight_decay != 0:
                grad = grad.add(p, alpha=self.weight_decay)
            m.lerp_(grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            denom = (v.sqrt() / bias_correction2_sqrt).add_(self.eps)
            p.addcdiv_(m, denom, value=-step_size)


class LSTMSurrogate(Surrogate):
    """An ensemble of LSTM regressors over token sequences.

    Args:
        n_tokens: Vocabulary size.
        max_length: Longest sequence.
        seed: Seed of the surrogate's ``numpy.random.Generator``.
        embed_dim: Token embedding size.
        hidden_size: LSTM hidden size (and head width).
        ensemble: Number of members; their spread is the predicted std (0 with one member).
        epochs: Maximum training epochs per member.
        batch_size: Mini-batch size.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        val_fraction: Share of the data held out per member for early stopping.
        patience: Epochs without validation improvement before stopping.
        min_val: Fewer validation points than this (small data) -> no split;
            the member trains on everything for ``epochs // 2`` epochs.
        warm_start: A refit starts each member from its weights of the previous
            fit (the data of a progressive search only grows) and trains at
            most ``refit_epochs`` epochs with patience ``refit_patience``;
            ``False``: every fit trains from a fresh initialization.  The
            previous weights are part of :meth:`state_dict`, so a resumed
            search refits exactly like the uninterrupted one.
        refit_epochs: Maximum epochs of a warm-started refit.
        refit_patience: Early-stopping patience of a warm-started refit.
        num_threads: torch intra-op threads while fitting and predicting
            (restored afterwards); ``None`` keeps torch's setting.  The default
            1 is the fastest for these small networks (thread start-up and
            synchronization cost more than they save, and on a loaded machine
            far more) and makes the numbers independent of the machine's cores.

    Example:
        >>> import torch; torch.set_num_threads(1)
        >>> s = LSTMSurrogate(3, 4, seed=0, epochs=30, ensemble=2)
        >>> mean, std = s.fit([[0], [1, 2], [2, 2, 1]], [0.1, 0.5, 0.9]).predict([[1, 2]])
        >>> mean.shape, std.shape
        ((1,), (1,))
    """

    name = "lstm"

    def __init__(
        self,
        n_tokens: int,
        max_length: int,
        *,
        seed: Optional[int] = None,
        embed_dim: int = 16,
        hidden_size: int = 32,
        ensemble: int = 3,
        epochs: int = 200,
        batch_size: int = 128,
        lr: float = 5e-3,
        weight_decay: float = 1e-4,
        val_fraction: float = 0.2,
        patience: int = 30,
        min_val: int = 4,
        warm_start: bool = False,
        refit_epochs: int = 40,
        refit_patience: int = 10,
        num_threads: Optional[int] = 1,
    ):
        super().__init__(n_tokens, max_length, seed=seed)
        for k, v in dict(embed_dim=embed_dim, hidden_size=hidden_size, ensemble=ensemble, epochs=epochs,
                         batch_size=batch_size, patience=patience, refit_epochs=refit_epochs,
                         refit_patience=refit_patience).items():
            if isinstance(v, bool) or int(v) != v or v < 1:
                raise ValueError(f"{k} must be a positive integer, got {v!r}.")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction!r}.")
        if not lr > 0:
            raise ValueError(f"lr must be positive, got {lr!r}.")
        if num_threads is not None and (isinstance(num_threads, bool) or int(num_threads) != num_threads
                                        or num_threads < 1):
            raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}.")
        self.options: dict[str, Any] = dict(
            embed_dim=int(embed_dim), hidden_size=int(hidden_size), ensemble=int(ensemble),
            epochs=int(epochs), batch_size=int(batch_size), lr=float(lr),
            weight_decay=float(weight_decay), val_fraction=float(val_fraction),
            patience=int(patience), min_val=int(min_val), warm_start=bool(warm_start),
            refit_epochs=int(refit_epochs), refit_patience=int(refit_patience),
            num_threads=None if num_threads is None else int(num_threads))
        self._members: list[_Net] = []
        self._y_mean: Optional[np.ndarray] = None
        self._y_std: Optional[np.ndarray] = None
        self.last_fit: dict = {}

    def config(self) -> dict:
        return dict(self.options)

    def _net(self) -> _Net:
        o = self.options
        assert self._n_out is not None, "the output count is known once fitted"
        return _Net(self.n_tokens, o["embed_dim"], o["hidden_size"], self._n_out)

    # -- training ----------------------------------------------------------------
    def fit(self, sequences, values) -> "LSTMSurrogate":
        """Train every member on ``sequences`` and ``values``.

        From a fresh initialization, or (``warm_start``, after a fit with the
        same number of outputs) from the member's previous weights.
        """
        seqs = self._check_sequences(sequences)
        prev_out = self._n_out
        y = self._check_values(values, len(seqs))
        o = self.options
        warm = bool(o["warm_start"]) and prev_out == self._n_out and len(self._members) == o["ensemble"]
        self._y_mean = y.mean(axis=0)
        self._y_std = np.where(y.std(axis=0) > 0, y.std(axis=0), 1.0)
        z = torch.as_tensor((y - self._y_mean) / self._y_std, dtype=torch.float32)
        idx_np, len_np = pad(seqs, self.max_length)
        idx, lengths = torch.as_tensor(idx_np), torch.as_tensor(len_np)
        n = len(seqs)
        n_val = int(round(o["val_fraction"] * n))
        previous = self._members if warm else [None] * o["ensemble"]
        self._members, epochs_run = [], []
        with _threads(o["num_threads"]):
            for start in previous:
                gen = torch.Generator().manual_seed(int(self.rng.integers(2**62)))
                perm = torch.as_tensor(self.rng.permutation(n))
                if n_val >= o["min_val"] and n - n_val >= 1:
                    val, train = perm[:n_val], perm[n_val:]
                else:
                    val, train = None, perm
                net, ep = self._train_member(idx, lengths, z, train, val, gen, start)
                self._members.append(net)
                epochs_run.append(ep)
        self.last_fit = {"n": n, "n_val": n_val if n_val >= o["min_val"] else 0, "epochs": epochs_run,
                         "warm": warm}
        return self

    def _train_member(self, idx, lengths, z, train, val, gen, start: Optional[_Net] = None):
        o = self.options
        if start is None:
            net = self._net()
            net.init_(gen)
            epochs, patience = o["epochs"], o["patience"]
        else:  # warm start: continue from the previous fit's weights
            net = start
            epochs, patience = o["refit_epochs"], o["refit_patience"]
        opt = _Adam(net.parameters(), lr=o["lr"], weight_decay=o["weight_decay"])
        loss_fn = nn.MSELoss()
        if val is None:
            epochs = max(1, epochs // 2)
        best, best_state, since, ep = math.inf, None, 0, 0
        bs = o["batch_size"]
        net.train()  # no dropout or normalization: train and eval mode compute the same
        for ep in range(1, epochs + 1):  # noqa: B007 - the last epoch run is returned
            order = train[torch.randperm(len(train), generator=gen)]
            for first in range(0, len(order), bs):
                b = order[first:first + bs]
                opt.zero_grad()
                loss = loss_fn(net(idx[b], lengths[b]), z[b])
                loss.backward()
                opt.step()
            if val is None:
                continue
            with torch.no_grad():
                v = float(loss_fn(net(idx[val], lengths[val]), z[val]))
            if v < best - 1e-6:
                best, since = v, 0
                best_state = {k: t.detach().clone() for k, t in net.state_dict().items()}
            else:
                since += 1
                if since >= patience:
                    break
        if best_state is not None:
            net.load_state_dict(best_state)
        net.eval()
        return net, ep

    # -- prediction ----------------------------------------------------------------
    def predict(self, sequences):
        """Ensemble mean and std, each ``(n,)`` (or ``(n, m)`` for 2-D fitted values)."""
        self._require_fitted()
        seqs = self._check_sequences(sequences)
        if not seqs:
            return self._shape_out(np.zeros((0, self._n_out)), np.zeros((0, self._n_out)))
        idx_np, len_np = pad(seqs, self.max_length)
        idx, lengths = torch.as_tensor(idx_np), torch.as_tensor(len_np)
        with torch.no_grad(), _threads(self.options["num_threads"]):
            P = np.stack([m(idx, lengths).numpy().astype(float) for m in self._members])  # (E, n, m)
        P = P * self._y_std + self._y_mean
        return self._shape_out(P.mean(axis=0), P.std(axis=0))

    # -- state -----------------------------------------------------------------------
    def state_dict(self) -> dict:
        out = super().state_dict()
        out["options"] = dict(self.options)
        if self.fitted:
            out["y_mean"] = np.asarray(self._y_mean, dtype=float)
            out["y_std"] = np.asarray(self._y_std, dtype=float)
            out["members"] = [{k: t.detach().numpy().copy() for k, t in m.state_dict().items()}
                              for m in self._members]
        return out

    def load_state_dict(self, state) -> None:
        theirs = dict(state.get("options", self.options))
        # options added later (absent from an older state) and the thread count do not block loading it
        if any(self.options.get(k) != v for k, v in theirs.items() if k != "num_threads"):
            raise ValueError(
                f"the state was saved by an LSTMSurrogate with options {dict(state['options'])}, "
                f"this one has {self.options}; build it with the same options."
            )
        super().load_state_dict(state)
        self._members = []
        if not self.fitted:
            return
        self._y_mean = np.asarray(state["y_mean"], dtype=float)
        self._y_std = np.asarray(state["y_std"], dtype=float)
        for weights in state["members"]:
            net = self._net()
            net.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in weights.items()})
            net.eval()
            self._members.append(net)
