"""The surrogate interface and the helpers every implementation shares.

A surrogate maps token-index sequences (variable length, ``1..max_length``)
to one or several real values.  ``fit`` retrains from scratch on the data it is
given (``LSTMSurrogate(warm_start=True)`` starts from its previous weights);
``predict`` returns a mean and a standard deviation of the same shape as
the fitted values.  All randomness comes from the surrogate's own
``numpy.random.Generator`` (seeded by ``seed``), whose state is part of
:meth:`Surrogate.state_dict` together with the model (JSON + numpy arrays).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar, Mapping, Optional, Sequence

import numpy as np


class Surrogate(abc.ABC):
    """A regressor from token sequences to values, with an uncertainty estimate.

    Args:
        n_tokens: Vocabulary size; tokens are indices ``0..n_tokens-1``.
        max_length: Longest sequence the surrogate accepts.
        seed: Seed of the surrogate's ``numpy.random.Generator``.
    """

    name: ClassVar[str] = "surrogate"

    def __init__(self, n_tokens: int, max_length: int, *, seed: Optional[int] = None):
        if isinstance(n_tokens, bool) or int(n_tokens) != n_tokens or n_tokens < 1:
            raise ValueError(f"n_tokens must be a positive integer, got {n_tokens!r}.")
        if isinstance(max_length, bool) or int(max_length) != max_length or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}.")
        self.n_tokens = int(n_tokens)
        self.max_length = int(max_length)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self._n_out: Optional[int] = None  # outputs of the fitted model
        self._flat = True  # fitted with 1-D values

    # -- interface -----------------------------------------------------------
    @abc.abstractmethod
    def fit(self, sequences: Sequence[Sequence[int]], values) -> "Surrogate":
        """Train on ``sequences`` (token indices) and ``values`` of shape ``(n,)`` or ``(n, m)``."""

    @abc.abstractmethod
    def predict(self, sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Predicted ``(mean, std)``, each of shape ``(n,)`` or ``(n, m)`` like the fitted values."""

    @property
    def fitted(self) -> bool:
        return self._n_out is not None

    def config(self) -> dict:
        """JSON options that rebuild this surrogate (with ``n_tokens``/``max_length``/``seed``)."""
        return {}

    def state_dict(self) -> dict:
        """Complete state (RNG and model) as JSON types and numpy arrays."""
        return {"rng": self.rng.bit_generator.state, "n_out": self._n_out, "flat": self._flat}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`state_dict`."""
        self.rng.bit_generator.state = state["rng"]
        self._n_out = None if state["n_out"] is None else int(state["n_out"])
        self._flat = bool(state["flat"])

    # -- shared helpers --------------------------------------------------------
    def _check_sequences(self, sequences, *, name: str = "sequences") -> list[list[int]]:
        if isinstance(sequences, np.ndarray) and sequences.ndim == 2:
            sequences = sequences.tolist()
        out = []
        for i, s in enumerate(sequences):
            seq = [int(t) for t in s]
            if not 1 <= len(seq) <= self.max_length:
                raise ValueError(
                    f"{name}[{i}] has length {len(seq)}; this surrogate takes lengths 1..{self.max_length}."
                )
            if any(t < 0 or t >= self.n_tokens for t in seq):
                raise ValueError(
                    f"{name}[{i}] = {seq} holds a token index outside 0..{self.n_tokens - 1}; "
                    "encode sequences with ProgressiveSpace.encode."
                )
            out.append(seq)
        return out

    def _check_values(self, values, n: int) -> np.ndarray:
        y = np.asarray(values, dtype=float)
        if y.ndim not in (1, 2) or y.shape[0] != n:
            raise ValueError(f"values must have shape ({n},) or ({n}, m) to match the sequences, got {y.shape}.")
        if n == 0:
            raise ValueError("fit needs at least one sequence.")
        if not np.all(np.isfinite(y)):
            raise ValueError("values contain NaN or inf; drop failed evaluations before fitting.")
        self._flat = y.ndim == 1
        y = y.reshape(n, -1)
        self._n_out = y.shape[1]
        return y

    def _require_fitted(self):
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit(sequences, values) first.")

    def _shape_out(self, mean: np.ndarray, std: np.ndarray):
        if self._flat:
            return mean[:, 0].copy(), std[:, 0].copy()
        return mean, std


def pad(sequences: Sequence[Sequence[int]], max_length: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad token indices: ``(idx, lengths)``, ``idx`` of shape ``(n, max_length)``.

    Tokens are shifted by one so that ``0`` is the padding index.

    Example:
        >>> pad([[2], [0, 1]], 3)[0].tolist()
        [[3, 0, 0], [1, 2, 0]]
    """
    n = len(sequences)
    idx = np.zeros((n, max_length), dtype=np.int64)
    lengths = np.zeros(n, dtype=np.int64)
    for i, s in enumerate(sequences):
        idx[i, : len(s)] = np.asarray(s, dtype=np.int64) + 1
        lengths[i] = len(s)
    return idx, lengths


def one_hot(sequences: Sequence[Sequence[int]], n_tokens: int, max_length: int) -> np.ndarray:
    """One-hot per position, padded: shape ``(n, max_length * (n_tokens + 1))``.

    Each position has ``n_tokens + 1`` slots; the last one marks "no token
    here" (the sequence ended), so lengths are encoded too.

    Example:
        >>> one_hot([[1]], 2, 2).tolist()
        [[0.0, 1.0, 0.0, 0.0, 0.0, 1.0]]
    """
    idx, _ = pad(sequences, max_length)
    # padded 0 -> slot n_tokens ("empty"); token t (stored t+1) -> slot t
    slot = np.where(idx == 0, n_tokens, idx - 1)
    X = np.zeros((len(sequences), max_length, n_tokens + 1))
    rows = np.arange(len(sequences))[:, None]
    X[rows, np.arange(max_length)[None, :], slot] = 1.0
    return X.reshape(len(sequences), -1)


def features(sequences: Sequence[Sequence[int]], n_tokens: int, max_length: int) -> np.ndarray:
    """Fixed-length features: :func:`one_hot` plus token counts and length (both ``/ max_length``).

    The counts and the length let tree and kernel models generalize to
    positions they never saw filled (longer sequences than in the training
    data), which the one-hot part alone cannot.  Shape
    ``(n, max_length * (n_tokens + 1) + n_tokens + 1)``.

    Example:
        >>> features([[1, 1]], 2, 2)[0, -3:].tolist()
        [0.0, 1.0, 1.0]
    """
    X = one_hot(sequences, n_tokens, max_length)
    counts = np.zeros((len(sequences), n_tokens + 1))
    for i, s in enumerate(sequences):
        counts[i, :n_tokens] = np.bincount(np.asarray(s, dtype=int), minlength=n_tokens)
        counts[i, n_tokens] = len(s)
    return np.hstack([X, counts / max_length])


class MeanSurrogate(Surrogate):
    """The constant predictor: the training mean, with the training std as uncertainty.

    Example:
        >>> MeanSurrogate(2, 3).fit([[0], [1]], [0.0, 2.0]).predict([[1, 1]])
        (array([1.]), array([1.]))
    """

    name = "mean"

    def fit(self, sequences, values) -> "MeanSurrogate":
        seqs = self._check_sequences(sequences)
        y = self._check_values(values, len(seqs))
        self._mean = y.mean(axis=0)
        self._std = y.std(axis=0)
        return self

    def predict(self, sequences):
        self._require_fitted()
        n = len(self._check_sequences(sequences))
        return self._shape_out(np.tile(self._mean, (n, 1)), np.tile(self._std, (n, 1)))

    def state_dict(self) -> dict:
        out = super().state_dict()
        if self.fitted:
            out.update(mean=np.asarray(self._mean), std=np.asarray(self._std))
        return out

    def load_state_dict(self, state) -> None:
        super().load_state_dict(state)
        if self.fitted:
            self._mean = np.asarray(state["mean"], dtype=float)
            self._std = np.asarray(state["std"], dtype=float)
