"""Search algorithms behind the ask/tell interface."""

from .base import (
    STATUS_FAILED,
    STATUS_OK,
    STATUS_PRUNED,
    Candidate,
    Result,
    Search,
    minimized_values,
)
from .random import RandomSearch

__all__ = [
    "Candidate",
    "Result",
    "Search",
    "RandomSearch",
    "minimized_values",
    "STATUS_OK",
    "STATUS_FAILED",
    "STATUS_PRUNED",
]
