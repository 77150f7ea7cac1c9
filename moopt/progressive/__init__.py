"""Surrogate-assisted progressive search (DPP-Net-style SMBO) for growable sequences."""

from .space import ProgressiveSpace

__all__ = ["ProgressiveSpace"]
