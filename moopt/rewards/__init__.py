"""Rewards: scalarize a named objective vector into one number to maximize.

See :mod:`moopt.rewards.base` for the formulas and the shared machinery.
"""

from .base import (
    AccuracyConstraintReward,
    Chebyshev,
    HypervolumeImprovement,
    MixedReward,
    PowerConstraintReward,
    Reward,
    SoftConstraint,
    WeightedSum,
    __all__,
    available_rewards,
    parse_reward,
    reward_from_config,
)
