"""scikit-learn baselines on a fixed-length encoding (one-hot per position, padded, plus counts).

:class:`ForestSurrogate` (random forest; std = spread over the trees) and
:class:`GPSurrogate` (Gaussian process with a constant x RBF + white kernel;
std from the posterior).  Both are deterministic given the seed drawn from the
surrogate's generator at ``fit``.  Their state is the training data and that
seed: :meth:`load_state_dict` refits, which reproduces the model exactly
(no pickled estimators).

Importing this module imports scikit-learn.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .base import Surrogate, features, pad


class _SklearnSurrogate(Surrogate):
    def __init__(self, n_tokens: int, max_length: int, *, seed: Optional[int] = None):
        super().__init__(n_tokens, max_length, seed=seed)
        self._model = None
        self._data: Optional[dict] = None
        self.options: dict = {}

    def config(self) -> dict:
        return dict(self.options)

    def _encode(self, seqs) -> np.ndarray:
        return features(seqs, self.n_tokens, self.max_length)

    def fit(self, sequences, values):
        """Fit on the one-hot encoding of ``sequences`` (values ``(n,)`` or ``(n, m)``)."""
        seqs = self._check_sequences(sequences)
        y = self._check_values(values, len(seqs))
        fit_seed = int(self.rng.integers(2**31 - 1))
        idx, lengths = pad(seqs, self.max_length)
        self._data = {"idx": idx, "lengths": lengths, "y": y, "fit_seed": fit_seed}
        self._fit(self._encode(seqs), y, fit_seed)
        return self

    def _fit(self, X, y, fit_seed):  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict:
        out = super().state_dict()
        out["options"] = dict(self.options)
        if self._data is not None:
            out["data"] = dict(self._data)
        return out

    def load_state_dict(self, state) -> None:
        if dict(state.get("options", self.options)) != self.options:
            raise ValueError(f"the state was saved with options {dict(state['options'])}, "
                             f"this surrogate has {self.options}; build it with the same options.")
        super().load_state_dict(state)
        self._model, self._data = None, None
        if self.fitted:
            d = state["data"]
            self._data = {"idx": np.asarray(d["idx"]), "lengths": np.asarray(d["lengths"]),
                          "y": np.asarray(d["y"], dtype=float), "fit_seed": int(d["fit_seed"])}
            seqs = [list(r[:n] - 1) for r, n in zip(self._data["idx"], self._data["lengths"])]
            self._fit(self._encode(seqs), self._data["y"], self._data["fit_seed"])


class ForestSurrogate(_SklearnSurrogate):
    """Random forest on one-hot-per-position encodings (+ token counts, length); std over the trees.

    Args:
        n_tokens: Vocabulary size.
        max_length: Longest sequence.
        seed: Seed of the surrogate's ``numpy.random.Generator``.
        n_estimators: Number of trees.
        min_samples_leaf: Minimum samples per leaf.
        max_features: Share of features tried per split.

    Example:
        >>> s = ForestSurrogate(3, 4, seed=0, n_estimators=10).fit([[0], [1, 2], [2, 2, 1]], [0.1, 0.5, 0.9])
        >>> s.predict([[1, 2]])[0].shape
        (1,)
    """

    name = "forest"

    def __init__(self, n_tokens: int, max_length: int, *, seed: Optional[int] = None,
                 n_estimators: int = 200, min_samples_leaf: int = 1, max_features: float = 0.5):
        super().__init__(n_tokens, max_length, seed=seed)
        if isinstance(n_estimators, bool) or int(n_estimators) != n_estimators or n_estimators < 1:
            raise ValueError(f"n_estimators must be a positive integer, got {n_estimators!r}.")
        self.options = dict(n_estimators=int(n_estimators), min_samples_leaf=int(min_samples_leaf),
                            max_features=float(max_features))

    def _fit(self, X, y, fit_seed):
        from sklearn.ensemble import RandomForestRegressor

        self._model = RandomForestRegressor(random_state=fit_seed, n_jobs=1, **self.options)
        self._model.fit(X, y if y.shape[1] > 1 else y[:, 0])

    def predict(self, sequences):
        """Forest mean and the std over its trees, ``(n,)`` or ``(n, m)``."""
        self._require_fitted()
        seqs = self._check_sequences(sequences)
        if not seqs:
            return self._shape_out(np.zeros((0, self._n_out)), np.zeros((0, self._n_out)))
        X = self._encode(seqs)
        P = np.stack([t.predict(X).reshape(len(seqs), -1) for t in self._model.estimators_])
        return self._shape_out(P.mean(axis=0), P.std(axis=0))


class GPSurrogate(_SklearnSurrogate):
    """Gaussian process (constant x RBF + white noise, normalized targets) on the same features.

    Args:
        n_tokens: Vocabulary size.
        max_length: Longest sequence.
        seed: Seed of the surrogate's ``numpy.random.Generator``.
        n_restarts: Restarts of the kernel hyper-parameter optimizer.

    Example:
        >>> s = GPSurrogate(3, 4, seed=0).fit([[0], [1, 2], [2, 2, 1]], [0.1, 0.5, 0.9])
        >>> s.predict([[1, 2]])[1].shape
        (1,)
    """

    name = "gp"

    def __init__(self, n_tokens: int, max_length: int, *, seed: Optional[int] = None, n_restarts: int = 2):
        super().__init__(n_tokens, max_length, seed=seed)
        self.options = dict(n_restarts=int(n_restarts))

    def _fit(self, X, y, fit_seed):
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(2.0, (0.5, 1e2)) + WhiteKernel(1e-2, (1e-9, 1e1))
        self._model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=fit_seed,
                                               n_restarts_optimizer=self.options["n_restarts"])
        with warnings.catch_warnings():  # hyper-parameters at a bound are routine in a refit loop
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._model.fit(X, y if y.shape[1] > 1 else y[:, 0])

    def predict(self, sequences):
        """Posterior mean and std, ``(n,)`` or ``(n, m)``."""
        self._require_fitted()
        seqs = self._check_sequences(sequences)
        if not seqs:
            return self._shape_out(np.zeros((0, self._n_out)), np.zeros((0, self._n_out)))
        mean, std = self._model.predict(self._encode(seqs), return_std=True)
        n = len(seqs)
        return self._shape_out(np.asarray(mean).reshape(n, -1), np.asarray(std).reshape(n, -1))
