"""PNG plots of a run: the Pareto front and hypervolume versus evaluations.

matplotlib is imported (with the non-interactive Agg backend) only when a plot
is drawn.  Two objectives: a scatter of every ok point with the front
highlighted as a step line; three: a 3-D scatter; more: parallel coordinates
(each objective scaled to [0, 1], front in colour).

Example:
    >>> import moopt
    >>> p = moopt.Problem([moopt.Real("x", 0, 1)], ["f1", "f2"],
    ...                   lambda q: {"f1": q["x"], "f2": 1 - q["x"] ** 0.5})
    >>> res = moopt.optimize(p, "random", budget=20, seed=0)
    >>> paths = plot_run(res, "/tmp/moopt-doc-plots")  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _label(name: str, direction: str) -> str:
    return f"{name} ({direction})"


def plot_front(result, path, *, title: Optional[str] = None) -> Path:
    """Draw the Pareto front of ``result`` (a :class:`~moopt.RunResult`) to ``path`` (PNG)."""
    plt = _pyplot()
    F, P = result.F, result.front_F
    names, dirs = result.objective_names, result.directions
    m = len(names)
    title = title or f"Pareto front: {result.config.get('problem', {}).get('name', '')} / " \
                     f"{result.config.get('algorithm', '')} ({len(P)} of {len(F)} points)"
    if m == 2:
        fig, ax = plt.subplots(figsize=(6, 4.5))
        ax.scatter(F[:, 0], F[:, 1], s=10, c="0.7", label="evaluated")
        if len(P):
            order = np.argsort(P[:, 0] * result.signs[0])
            Q = P[order]
            ax.step(Q[:, 0], Q[:, 1], where="post", color="tab:red", lw=1, alpha=0.7)
            ax.scatter(Q[:, 0], Q[:, 1], s=18, c="tab:red", label="Pareto front", zorder=3)
        ax.set_xlabel(_label(names[0], dirs[0]))
        ax.set_ylabel(_label(names[1], dirs[1]))
        ax.legend(loc="best")
    elif m == 3:
        fig = plt.figure(figsize=(6.5, 5.5))
        ax = fig.add_subplot(projection="3d")
        ax.scatter(F[:, 0], F[:, 1], F[:, 2], s=6, c="0.7", label="evaluated")
        if len(P):
            ax.scatter(P[:, 0], P[:, 1], P[:, 2], s=14, c="tab:red", label="Pareto front")
        ax.set_xlabel(_label(names[0], dirs[0]))
        ax.set_ylabel(_label(names[1], dirs[1]))
        ax.set_zlabel(_label(names[2], dirs[2]))
        ax.legend(loc="best")
    else:
        fig, ax = plt.subplots(figsize=(max(6, 1.2 * m), 4.5))
        both = np.vstack([F, P]) if len(P) else F
        lo, hi = (both.min(axis=0), both.max(axis=0)) if len(both) else (np.zeros(m), np.ones(m))
        span = np.where(hi > lo, hi - lo, 1.0)
        xs = np.arange(m)
        for row in (F - lo) / span:
            ax.plot(xs, row, color="0.8", lw=0.5)
        for row in (P - lo) / span:
            ax.plot(xs, row, color="tab:red", lw=1, alpha=0.8)
        ax.set_xticks(xs)
        ax.set_xticklabels([_label(n, d) for n, d in zip(names, dirs)], rotation=20)
        ax.set_ylabel("scaled value (0 = min seen, 1 = max seen)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _excluded_message(result, ref) -> str:
    """Why the hypervolume is 0 everywhere: ``ref`` bounds no point of the front (user directions)."""
    F, signs = result.front_F, np.asarray(result.signs, dtype=float)
    nadir = (F * signs).max(axis=0) * signs
    fmt = ", ".join(f"{float(x):.6g}" for x in nadir)
    return (f"the reference point {[float(f'{x:.6g}') for x in ref]} does not bound any point of the front (its "
            f"nadir is ({fmt})), so the hypervolume is 0 at every evaluation; pass a reference point worse "
            "than the nadir in every objective, or ref=None to infer one.")


def plot_hypervolume(result, path, *, ref=None) -> Path:
    """Draw hypervolume versus evaluations to ``path`` (PNG).

    A ``ref`` that bounds no point of the front (the curve is 0 throughout) is
    drawn with a note on the plot and a :class:`UserWarning` naming the front's nadir.
    """
    plt = _pyplot()
    hv = result.hypervolume_history(ref=ref)
    ref_used = result.reference_point() if ref is None else np.asarray(ref, dtype=float)
    excluded = ref is not None and len(result.front_F) > 0 and not np.any(hv > 0)
    if excluded:  # a flat zero curve with no word of why looks like a failed search
        warnings.warn(_excluded_message(result, ref_used), UserWarning, stacklevel=2)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(np.arange(1, len(hv) + 1), hv, color="tab:blue")
    if excluded:
        ax.text(0.5, 0.5, "no point is inside the reference point:\nthe hypervolume is 0 throughout",
                transform=ax.transAxes, ha="center", va="center", color="tab:red", fontsize=9)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("hypervolume")
    ax.set_title(f"hypervolume (reference point {np.round(ref_used, 4).tolist()}"
                 f"{', inferred' if ref is None else ''})", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_run(result, out_dir, *, ref=None, prefix: str = "") -> list[Path]:
    """Write ``front.png`` and ``hypervolume.png`` for ``result`` into ``out_dir``.

    Returns:
        The written paths (only the front when no evaluation succeeded).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [plot_front(result, out / f"{prefix}front.png")]
    if len(result.front_F):
        paths.append(plot_hypervolume(result, out / f"{prefix}hypervolume.png", ref=ref))
    return paths
