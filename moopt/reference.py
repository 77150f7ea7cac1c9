"""Reference points and normalization for indicators.

``infer_reference_point`` follows BoTorch's ``infer_reference_point``: the
nadir of the non-dominated points moved outwards by a fraction ``scale`` of
each objective's range, with explicit rules for degenerate ranges.
"""

from __future__ import annotations

import numpy as np

from moopt import _kernels
from moopt._validation import Directions, as_ref, to_min

__all__ = ["infer_reference_point", "normalize", "ideal_nadir"]


def _check_scale(scale) -> float:
    try:
        s = float(scale)
    except (TypeError, ValueError):
        raise TypeError(f"scale must be a number, got {scale!r}.") from None
    if not np.isfinite(s) or s < 0:
        raise ValueError(f"scale must be a finite number >= 0, got {scale!r}.")
    return s


def ideal_nadir(F, *, directions: Directions = None) -> tuple[np.ndarray, np.ndarray]:
    """Ideal point (best value per objective) and nadir point (worst value per
    objective over the non-dominated points), in the user's directions.

    Args:
        F: Objective values ``(n, m)``, non-empty.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        ``(ideal, nadir)``, two ``(m,)`` arrays.

    Example:
        >>> ideal, nadir = ideal_nadir([[0, 2], [1, 1], [3, 3]])
        >>> ideal.tolist(), nadir.tolist()
        ([0.0, 1.0], [1.0, 2.0])
    """
    Fm, signs = to_min(F, directions, allow_empty=False, copy=False)
    front = Fm[_kernels.nd_mask(Fm, False)]
    return Fm.min(axis=0) * signs, front.max(axis=0) * signs


def infer_reference_point(F, *, directions: Directions = None, scale: float = 0.1) -> np.ndarray:
    """A hypervolume reference point slightly worse than the nadir of ``F``.

    ``ref = nadir + scale * range`` per objective (in minimization terms; for a
    ``"max"`` objective the margin is subtracted), where ``nadir`` is the worst
    value over the *non-dominated* points and ``range = nadir - ideal``, like
    BoTorch's ``infer_reference_point``.  Every non-dominated point then
    strictly dominates the reference point when ``scale > 0``.

    Degenerate ranges (a single point, or all front points equal in an
    objective): the range is replaced by ``|nadir|`` for that objective, or by
    ``1.0`` when ``nadir`` is 0, so the margin never collapses to zero (BoTorch
    uses ``|y|`` clamped at ``1e-7`` for a single point, which gives a
    reference point too close to be useful).

    Args:
        F: Objective values ``(n, m)``, non-empty.
        directions: ``"min"``/``"max"`` per objective.
        scale: Margin as a fraction of the range (default 0.1, BoTorch's).

    Returns:
        ``(m,)`` reference point in the user's directions.

    Raises:
        ValueError: empty ``F``, non-finite values, negative ``scale``.

    Example:
        >>> infer_reference_point([[0, 2], [2, 0]]).tolist()
        [2.2, 2.2]
        >>> infer_reference_point([[0, 0], [2, 2]], directions=["min", "max"]).tolist()
        [2.2, -0.2]
    """
    s = _check_scale(scale)
    Fm, signs = to_min(F, directions, allow_empty=False, copy=False)
    front = Fm[_kernels.nd_mask(Fm, False)]
    nadir = front.max(axis=0)
    rng = nadir - front.min(axis=0)
    degenerate = rng <= 0
    if degenerate.any():
        fallback = np.abs(nadir)
        fallback[fallback == 0] = 1.0
        rng = np.where(degenerate, fallback, rng)
    ref = (nadir + s * rng) * signs
    if not np.isfinite(ref).all():
        raise ValueError(
            f"the inferred reference point overflows a float64 ({ref.tolist()}): the objectives span more "
            "than about 1e308; rescale them first (e.g. moopt.normalize(F)) or pass a reference point."
        )
    return ref


def normalize(F, *, ideal=None, nadir=None, directions: Directions = None) -> np.ndarray:
    """Scale objectives to ``[0, 1]`` with 0 = ideal and 1 = nadir, all minimized.

    The result is **minimization-oriented for every objective** (a ``"max"``
    objective is flipped so that 0 is its best value), so it can be passed to
    every kernel with the default directions, e.g. ``hypervolume(normalize(F),
    ref=[1.1] * m)``.  ``ideal``/``nadir`` default to those of ``F`` (see
    :func:`ideal_nadir`); pass them explicitly to compare several sets on the
    same scale.  Points worse than the nadir get values above 1.  An objective
    whose nadir equals its ideal is only shifted (divided by 1).

    Args:
        F: Objective values ``(n, m)``.
        ideal: Optional ``(m,)`` best values, in the user's directions.
        nadir: Optional ``(m,)`` worst values, in the user's directions.
        directions: ``"min"``/``"max"`` per objective.

    Returns:
        ``(n, m)`` new array, every column minimized.

    Raises:
        ValueError: ``ideal`` worse than ``nadir`` in some objective, wrong
            lengths, non-finite values.

    Example:
        >>> normalize([[0, 10], [2, 30]], directions=["min", "max"]).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    Fm, signs = to_min(F, directions, copy=False)
    if Fm.shape[0] == 0 and (ideal is None or nadir is None):
        if ideal is None and nadir is None:
            return Fm
        raise ValueError("normalize of an empty F needs both ideal and nadir.")
    if ideal is None or nadir is None:
        front = Fm[_kernels.nd_mask(Fm, False)]
    lo = Fm.min(axis=0) if ideal is None else as_ref(ideal, signs, name="ideal")
    hi = front.max(axis=0) if nadir is None else as_ref(nadir, signs, name="nadir")
    if np.any(hi < lo):
        j = int(np.argmax(hi < lo))
        raise ValueError(
            f"ideal is worse than nadir in objective {j} (ideal={lo[j] * signs[j]}, "
            f"nadir={hi[j] * signs[j]}); swap them or check directions."
        )
    span = hi - lo
    span[span == 0] = 1.0
    return (Fm - lo) / span
