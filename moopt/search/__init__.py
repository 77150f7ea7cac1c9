"""Search algorithms behind the ask/tell interface."""

from .base import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_PRUNED,
    Candidate,
    Evaluation,
    Search,
    minimized_values,
)
from .random import RandomSearch

__all__ = [
    "Candidate",
    "Evaluation",
    "Search",
    "RandomSearch",
    "minimized_values",
    "STATUS_OK",
    "STATUS_FAILED",
    "STATUS_PRUNED",
]
