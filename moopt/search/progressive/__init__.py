"""DPP-Net-style search: surrogate-assisted progressive search (SMBO) for growable sequences.

* :mod:`.space`: :class:`ProgressiveSpace`, the growable-space interface (``initial``/``expand``).
* :mod:`.selection`: which candidates survive a step (Pareto over predicted and cheap
  objectives, or PNAS top-K).
* :mod:`.search`: :class:`ProgressiveSearch`, the ask/tell search (registry name ``"progressive"``).
"""

from .search import ProgressiveSearch
from .selection import select_pareto, select_top_k
from .space import FreeSequenceSpace, ProgressiveSpace, space_for

__all__ = ["ProgressiveSpace", "FreeSequenceSpace", "space_for", "ProgressiveSearch",
           "select_pareto", "select_top_k"]
