"""Synthetic progressive (NAS-like) problems with a front known by enumeration.

:class:`SyntheticNAS` imitates a cell search: a sequence of layer tokens grown
one layer at a time (DPP-Net style), optionally alternating between operation
tokens and normalization tokens.  Its objectives are

* ``error`` (min, expensive): a logistic function of a score made of per-token
  quality (decaying with depth), adjacent-token interactions (a structured part
  plus an instance-specific random table) and a penalty for stacking
  down-sampling, so that a sequence model beats a bag-of-tokens model;
* ``params`` (min, cheap): the sum of token weight costs, each scaled by the
  channel width at its position (width doubles after every ``pool``);
* ``latency_ms`` (min, cheap): a roofline-like non-linear model - per layer the
  maximum of a compute and a memory term at the layer's resolution, plus a
  per-layer launch overhead.

Everything is deterministic; the instance seed fixes the random interaction
table.  Small instances are enumerated exactly (:meth:`SyntheticNAS.enumerate`),
which gives the true Pareto front, its hypervolume and the best sequence per
objective.

Example:
    >>> from moopt.problems.progressive import SyntheticNAS
    >>> p = SyntheticNAS(max_length=3)
    >>> v = p.evaluate({"sequence": ("conv3", "pool", "dw5")})
    >>> sorted(v)
    ['error', 'latency_ms', 'params']
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np

from moopt.indicators import hypervolume
from moopt.pareto import is_nondominated
from moopt.problem import Objective, Problem
from moopt.reference import infer_reference_point
from moopt.search.progressive.space import ProgressiveSpace
from moopt.space import TokenSequence

OPS = ("conv3", "conv5", "dw3", "dw5", "pool", "skip")
NORMS = ("bn", "relu", "none")

# weight cost per op (x width^2 / 256), compute per op, memory traffic per op
_PARAMS = {"conv3": 9.0, "conv5": 25.0, "dw3": 1.5, "dw5": 3.0, "pool": 0.0, "skip": 0.0,
           "bn": 0.1, "relu": 0.0, "none": 0.0}
_COMPUTE = {"conv3": 9.0, "conv5": 25.0, "dw3": 1.0, "dw5": 2.5, "pool": 0.5, "skip": 0.0,
            "bn": 0.2, "relu": 0.1, "none": 0.0}
_MEMORY = {"conv3": 2.0, "conv5": 2.5, "dw3": 3.0, "dw5": 3.5, "pool": 1.5, "skip": 0.3,
           "bn": 1.0, "relu": 0.8, "none": 0.0}
# quality of each token as a layer (before interactions)
_QUALITY = {"conv3": 1.0, "conv5": 1.3, "dw3": 0.6, "dw5": 0.8, "pool": 0.35, "skip": 0.05,
            "bn": 0.3, "relu": 0.25, "none": 0.0}


class ProgressiveTokenSpace(ProgressiveSpace):
    """Free or alternating (op, norm, op, ...) token sequences up to ``max_length``."""

    def __init__(self, tokens: Sequence, max_length: int, *, alternate: bool, variable: str = "sequence"):
        self.tokens = tuple(tokens)
        self.max_length = int(max_length)
        self.alternate = bool(alternate)
        self.variable = variable

    def initial(self) -> list[tuple]:
        return [(t,) for t in self.tokens if self.is_valid((t,))]

    def is_valid(self, seq: tuple) -> bool:
        if not 1 <= len(seq) <= self.max_length:
            return False
        if not self.alternate:
            return True
        return all((t in OPS) == (i % 2 == 0) for i, t in enumerate(seq))


class SyntheticNAS(Problem):
    """A NAS-like progressive problem with a known Pareto front.

    Args:
        max_length: Longest sequence (``6 ** 5 + ...`` sequences at 5 in free mode).
        alternate: Alternate operation and normalization tokens (op, norm, op, ...)
            like DPP-Net's Norm/Conv layers; otherwise every op token is free.
        instance: Seed of the random interaction table (part of the problem).
        interaction: Scale of the random adjacent-token interactions.

    Attributes:
        progressive_space: The :class:`~moopt.search.progressive.ProgressiveSpace` the
            progressive search grows.

    Example:
        >>> p = SyntheticNAS(max_length=2)
        >>> p.best("error")[0] in p.progressive_space.walk()
        True
    """

    def __init__(self, max_length: int = 5, *, alternate: bool = False, instance: int = 0,
                 interaction: float = 0.6):
        if isinstance(max_length, bool) or int(max_length) != max_length or max_length < 1:
            raise ValueError(f"max_length must be a positive integer, got {max_length!r}.")
        if max_length > 7:
            raise ValueError(f"max_length={max_length} is too large to enumerate the true front; use <= 7.")
        tokens = OPS + NORMS if alternate else OPS
        self.max_length = int(max_length)
        self.alternate = bool(alternate)
        self.instance = int(instance)
        space = ProgressiveTokenSpace(tokens, self.max_length, alternate=self.alternate)
        rng = np.random.default_rng(self.instance)
        n = len(tokens)
        self._tokens = tokens
        self._pair = interaction * rng.normal(size=(n, n))
        self._pos = 1.0 + 0.4 * rng.random(n)  # how fast a token's value decays with depth
        self._index = {t: i for i, t in enumerate(tokens)}
        name = f"synthetic-nas:max_length={self.max_length},alternate={self.alternate},instance={self.instance}"
        super().__init__(
            [TokenSequence("sequence", tokens, 1, self.max_length)],
            [Objective("error", "min"), Objective("params", "min", cheap=True),
             Objective("latency_ms", "min", unit="ms", cheap=True)],
            self._evaluate_expensive,
            evaluate_cheap=self._evaluate_cheap,
            name=name,
            progressive_space=space,
        )
        self._enum: Optional[tuple[list, np.ndarray]] = None

    # -- objectives ---------------------------------------------------------
    def _seq(self, params) -> tuple:
        seq = tuple(params["sequence"])
        if not self.progressive_space.is_valid(seq) or any(t not in self._index for t in seq):
            raise ValueError(f"{seq!r} is not a valid sequence of {self.name}.")
        return seq

    def error(self, seq: Sequence) -> float:
        """The expensive objective of ``seq`` (in ``(0, 1)``)."""
        score, pools_in_row = 0.0, 0
        for i, t in enumerate(seq):
            k = self._index[t]
            score += _QUALITY[t] / (1.0 + 0.25 * i * self._pos[k])
            if i:
                prev = seq[i - 1]
                score += 0.5 * self._pair[self._index[prev], k] / (1.0 + 0.15 * i)
                if prev.startswith("dw") and t.startswith("conv"):
                    score += 0.3  # depthwise then dense mixes well
                if prev == t and t in ("conv5", "dw5"):
                    score -= 0.35  # two large kernels in a row overfit
            pools_in_row = pools_in_row + 1 if t == "pool" else 0
            if pools_in_row >= 2:
                score -= 0.6  # stacked down-sampling destroys information
        return 1.0 / (1.0 + math.exp(1.6 * (score - 1.2)))

    def cheap(self, seq: Sequence) -> dict:
        """``params`` and ``latency_ms`` of ``seq``."""
        params = lat = 0.0
        pools = 0
        for t in seq:
            width = 2.0 ** pools
            res = 4.0 ** (-pools)  # resolution shrinks 2x per side per pool
            params += _PARAMS[t] * width * width
            compute = 0.02 * _COMPUTE[t] * width * width * res
            memory = 0.05 * _MEMORY[t] * width * res
            lat += max(compute, memory) + (0.03 if t not in ("none", "skip") else 0.0)
            if t == "pool":
                pools += 1
        return {"params": params, "latency_ms": lat}

    def _evaluate_expensive(self, params) -> dict:
        return {"error": self.error(self._seq(params))}

    def _evaluate_cheap(self, params) -> dict:
        return self.cheap(self._seq(params))

    # -- known answers ------------------------------------------------------
    def enumerate(self) -> tuple[list[tuple], np.ndarray]:
        """Every valid sequence and its objectives ``(error, params, latency_ms)``, shape ``(N, 3)``."""
        if self._enum is None:
            seqs = list(self.progressive_space.walk())
            F = np.array([[self.error(s), *self.cheap(s).values()] for s in seqs], dtype=float)
            self._enum = (seqs, F)
        return self._enum

    def pareto_set(self) -> list[tuple]:
        """The Pareto-optimal sequences (by enumeration)."""
        seqs, F = self.enumerate()
        return [seqs[i] for i in np.flatnonzero(is_nondominated(F))]

    def pareto_front(self, n: Optional[int] = None) -> np.ndarray:
        """The true Pareto front (all of it; ``n`` is accepted for interface parity and ignored)."""
        _, F = self.enumerate()
        return F[is_nondominated(F)]

    @property
    def ref_point(self) -> np.ndarray:
        """``nadir + 0.1 * (nadir - ideal)`` of the true front, shape ``(3,)``."""
        return infer_reference_point(self.pareto_front())

    @property
    def max_hypervolume(self) -> float:
        """Hypervolume of the true front for :attr:`ref_point`."""
        return hypervolume(self.pareto_front(), self.ref_point)

    def best(self, objective: str = "error") -> tuple[tuple, float]:
        """The sequence with the best value of ``objective`` and that value (by enumeration)."""
        seqs, F = self.enumerate()
        j = self.objective_names.index(objective)
        i = int(np.argmin(F[:, j]))
        return seqs[i], float(F[i, j])

