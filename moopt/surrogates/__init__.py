"""Surrogate models of expensive objectives: ``fit(sequences, values)``, ``predict -> (mean, std)``.

Implementations are imported on first use (torch and scikit-learn are not
loaded by ``import moopt``):

* :class:`~moopt.surrogates.lstm.LSTMSurrogate` - token embedding, LSTM and
  regression head in torch; an ensemble gives the std.
* :class:`~moopt.surrogates.sklearn.ForestSurrogate` and
  :class:`~moopt.surrogates.sklearn.GPSurrogate` - scikit-learn regressors on a
  one-hot-per-position encoding padded to the maximum length.
* :class:`~moopt.surrogates.base.MeanSurrogate` - the constant predictor every
  model must beat.

Example:
    >>> from moopt.surrogates import make_surrogate
    >>> s = make_surrogate("mean", n_tokens=3, max_length=4).fit([[0], [1, 2]], [1.0, 3.0])
    >>> s.predict([[2, 2, 2]])[0].tolist()
    [2.0]
"""

from __future__ import annotations

import importlib

from .base import MeanSurrogate, Surrogate

# name -> "module:class"
SURROGATES = {
    "lstm": "moopt.surrogates.lstm:LSTMSurrogate",
    "forest": "moopt.surrogates.sklearn:ForestSurrogate",
    "gp": "moopt.surrogates.sklearn:GPSurrogate",
    "mean": "moopt.surrogates.base:MeanSurrogate",
}

__all__ = ["Surrogate", "MeanSurrogate", "LSTMSurrogate", "ForestSurrogate", "GPSurrogate",
           "SURROGATES", "make_surrogate", "surrogate_class", "kendall_tau", "spearman", "mae",
           "rank_quality"]

_LAZY = {
    "LSTMSurrogate": "moopt.surrogates.lstm",
    "ForestSurrogate": "moopt.surrogates.sklearn",
    "GPSurrogate": "moopt.surrogates.sklearn",
    "kendall_tau": "moopt.surrogates.metrics",
    "spearman": "moopt.surrogates.metrics",
    "mae": "moopt.surrogates.metrics",
    "rank_quality": "moopt.surrogates.metrics",
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'moopt.surrogates' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def surrogate_class(name: str) -> type:
    """The surrogate class registered under ``name`` (one of :data:`SURROGATES`)."""
    target = SURROGATES.get(name)
    if target is None:
        raise ValueError(f"unknown surrogate {name!r}; choose one of {sorted(SURROGATES)}.")
    module, attr = target.split(":")
    return getattr(importlib.import_module(module), attr)


def make_surrogate(name: str, n_tokens: int, max_length: int, *, seed=None, **options) -> Surrogate:
    """Build the surrogate ``name`` for sequences over ``n_tokens`` tokens up to ``max_length`` long.

    Args:
        name: ``"lstm"``, ``"forest"``, ``"gp"`` or ``"mean"``.
        n_tokens: Vocabulary size (token indices are ``0..n_tokens-1``).
        max_length: Longest sequence.
        seed: Seed of the surrogate's own ``numpy.random.Generator``.
        **options: Model options (see each class).
    """
    return surrogate_class(name)(n_tokens, max_length, seed=seed, **options)
