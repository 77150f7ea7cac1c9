"""Surrogate-assisted progressive search (DPP-Net-style SMBO) for growable sequences.

``ProgressiveSearch`` and the selection kernels are imported lazily (they pull
in nothing heavy, but keep ``import moopt`` minimal).
"""

from .space import FreeSequenceSpace, ProgressiveSpace, space_for

__all__ = ["ProgressiveSpace", "FreeSequenceSpace", "space_for", "ProgressiveSearch",
           "select_pareto", "select_top_k"]


def __getattr__(name):
    if name == "ProgressiveSearch":
        from .search import ProgressiveSearch
        return ProgressiveSearch
    if name in ("select_pareto", "select_top_k"):
        from . import selection
        return getattr(selection, name)
    raise AttributeError(f"module 'moopt.progressive' has no attribute {name!r}")
