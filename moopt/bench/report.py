"""The benchmark report: Markdown and CSV summaries, and hypervolume-curve plots (PNG)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from .grid import REFERENCE_FRONT_SIZE, _safe
from .stats import summarize

_CSV_COLUMNS = ["problem", "algorithm", "runs", "failed_runs", "hv_ratio_median", "hv_ratio_q1", "hv_ratio_q3",
                "hv_median", "hv_mark", "hv_p_holm", "igd_plus_median", "igd_plus_q1", "igd_plus_q3",
                "igd_plus_mark", "igd_plus_p_holm", "seconds_median"]


def _fmt(v, digits=4) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.{digits}g}" if abs(v) >= 1e-3 or v == 0 else f"{v:.3e}"
    return str(v)


def markdown_table(rows: Sequence[Mapping], *, alpha: float = 0.05) -> str:
    """The summary as a Markdown table with a legend."""
    head = ("| problem | algorithm | runs | HV/HV* median [IQR] | | IGD+ median [IQR] | | time/run (s) |\n"
            "|---|---|---:|---|:-:|---|:-:|---:|")
    lines = [head]
    for r in rows:
        if "hv_ratio_median" not in r:
            lines.append(f"| {r['problem']} | {r['algorithm']} | 0 | all {r['failed_runs']} runs failed | | | | |")
            continue
        lines.append(
            f"| {r['problem']} | {r['algorithm']} | {r['runs']}"
            + (f" ({r['failed_runs']} failed)" if r["failed_runs"] else "")
            + f" | {r['hv_ratio_median']:.4f} [{r['hv_ratio_q1']:.4f}, {r['hv_ratio_q3']:.4f}] | {r['hv_mark']}"
            + f" | {_fmt(r['igd_plus_median'])} [{_fmt(r['igd_plus_q1'])}, {_fmt(r['igd_plus_q3'])}]"
            + f" | {r['igd_plus_mark']} | {r['seconds_median']:.1f} |")
    legend = (f"\n★ best median on the problem; ▲/▼ significantly better/worse than the best, ≈ no significant "
              f"difference (two-sided Wilcoxon rank-sum, Holm-corrected per problem and metric, "
              f"alpha = {alpha}). HV/HV*: final hypervolume over the problem's maximum hypervolume for its "
              f"reference point; IGD+ against a {REFERENCE_FRONT_SIZE}-point sample of the true front.")
    return "\n".join(lines) + "\n" + legend + "\n"


def plot_curves(records: Sequence[Mapping], out, *, problem: str) -> Path:
    """PNG of median HV/HV* versus evaluations with an IQR band, one line per algorithm."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    recs = [r for r in records if r["problem"] == problem and "error" not in r]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=110)
    for a in dict.fromkeys(r["algorithm"] for r in recs):
        rs = [r for r in recs if r["algorithm"] == a]
        x = np.asarray(rs[0]["curve_evals"])
        Y = np.array([np.asarray(r["curve_hv"]) / r["max_hv"] for r in rs if len(r["curve_hv"]) == len(x)])
        q1, med, q3 = np.percentile(Y, [25, 50, 75], axis=0)
        line, = ax.plot(x, med, label=f"{a} (n={len(Y)})")
        ax.fill_between(x, q1, q3, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("HV / HV*")
    ax.set_title(f"{problem}: median hypervolume, IQR band")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    path = Path(out) / f"hv_{_safe(problem)}.png"
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_report(records: Sequence[Mapping], out, *, alpha: float = 0.05, plots: bool = True) -> dict[str, Any]:
    """Write ``summary.md``, ``summary.csv`` and ``hv_<problem>.png`` into ``out``.

    Returns:
        ``{"rows": [...], "markdown": str, "files": [paths]}``.
    """
    import csv

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = summarize(records, alpha=alpha)
    md = markdown_table(rows, alpha=alpha)
    budgets = sorted({r["budget"] for r in records if "budget" in r})
    seeds = sorted({r["seed"] for r in records})
    title = (f"# moopt benchmark\n\nBudget {', '.join(map(str, budgets))} evaluations per run; "
             f"seeds {seeds[0]}..{seeds[-1]} ({len(seeds)}).\n\n")
    files = []
    (out / "summary.md").write_text(title + md)
    files.append(out / "summary.md")
    with open(out / "summary.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=_CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k, "")) for k in _CSV_COLUMNS})
    files.append(out / "summary.csv")
    if plots:
        for p in dict.fromkeys(r["problem"] for r in records):
            if any(r["problem"] == p and "error" not in r for r in records):
                files.append(plot_curves(records, out, problem=p))
    return {"rows": rows, "markdown": md, "files": files}
