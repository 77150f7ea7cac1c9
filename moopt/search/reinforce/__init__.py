"""MONAS-style search: an LSTM controller trained by REINFORCE on a scalarized reward.

* :mod:`.search`: :class:`ReinforceSearch`, the ask/tell search (registry name ``"reinforce"``).
* :mod:`.policy`: :class:`LSTMPolicy`, the controller network (torch; imported only when a
  search is built).
"""

from .search import ReinforceSearch

__all__ = ["ReinforceSearch"]
