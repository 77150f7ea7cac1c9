"""Normalization of minimized objective values: fixed bounds or running min/max."""

from __future__ import annotations

import math
from typing import Mapping, Optional, Sequence

import numpy as np


class _Normalizer:
    """Linear normalization of minimized values, fixed bounds or running min/max."""

    def __init__(self, names: Sequence[str], bounds: Optional[Mapping[str, Sequence[float]]]):
        self.names = list(names)
        bounds = dict(bounds or {})
        unknown = [n for n in bounds if n not in self.names]
        if unknown:
            raise ValueError(
                f"bounds given for {unknown}, which this reward does not use; it uses {self.names}."
            )
        self.fixed: dict[str, tuple[float, float]] = {}
        for n, b in bounds.items():
            try:
                lo, hi = (float(x) for x in b)
            except (TypeError, ValueError):
                raise ValueError(f"bounds[{n!r}] must be a pair (low, high), got {b!r}.") from None
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
                raise ValueError(f"bounds[{n!r}] must be finite with low < high, got ({lo}, {hi}).")
            self.fixed[n] = (lo, hi)
        k = len(self.names)
        self.lo = np.full(k, np.inf)
        self.hi = np.full(k, -np.inf)

    def fixed_minimized(self, signs: np.ndarray):
        """Fixed (lo, hi) of the minimized values, NaN where running."""
        lo = np.full(len(self.names), np.nan)
        hi = np.full(len(self.names), np.nan)
        for j, n in enumerate(self.names):
            if n in self.fixed:
                a, b = self.fixed[n][0] * signs[j], self.fixed[n][1] * signs[j]
                lo[j], hi[j] = min(a, b), max(a, b)
        return lo, hi

    def observe(self, V: np.ndarray) -> None:
        if V.size:
            self.lo = np.minimum(self.lo, V.min(axis=0))
            self.hi = np.maximum(self.hi, V.max(axis=0))

    def bounds(self, signs: np.ndarray):
        flo, fhi = self.fixed_minimized(signs)
        lo = np.where(np.isnan(flo), self.lo, flo)
        hi = np.where(np.isnan(fhi), self.hi, fhi)
        return lo, hi

    def __call__(self, V: np.ndarray, signs: np.ndarray) -> np.ndarray:
        lo, hi = self.bounds(signs)
        span = hi - lo
        ok = np.isfinite(span) & (span > 0)
        safe_span = np.where(ok, span, 1.0)
        safe_lo = np.where(np.isfinite(lo), lo, 0.0)
        return np.where(ok, (V - safe_lo) / safe_span, 0.0)

    def state_dict(self) -> dict:
        return {"lo": self.lo.copy(), "hi": self.hi.copy()}

    def load_state_dict(self, state: Mapping) -> None:
        self.lo = np.array(state["lo"], dtype=float).reshape(len(self.names))
        self.hi = np.array(state["hi"], dtype=float).reshape(len(self.names))
