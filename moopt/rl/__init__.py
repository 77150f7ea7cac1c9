"""Reinforcement-learning controllers (torch).  Import :mod:`moopt.rl.policy` explicitly;
``import moopt`` and ``import moopt.rl`` do not import torch."""
