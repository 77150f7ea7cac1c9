"""Rewards: scalarize a named objective vector into one number to maximize.

A reward turns the objective values of one evaluated candidate (a mapping
``name -> value`` in each objective's own direction) into a float that a
policy-gradient search (:class:`moopt.search.reinforce.ReinforceSearch`)
maximizes.  Every reward has the same call signature::

    reward(values: Mapping[str, float]) -> float

plus :meth:`Reward.batch` (a batch of children judged together),
:meth:`Reward.config` (JSON, rebuilt by :func:`reward_from_config`) and
:meth:`Reward.state_dict` for the rewards that keep state.

Rewards (``kind`` in brackets, the name used by :func:`parse_reward`), by module:

* :mod:`moopt.rewards.monas` -- MONAS:

  * :class:`MixedReward` [``mixed``]: ``alpha * accuracy - (1 - alpha) * energy_n``;
  * :class:`PowerConstraintReward` [``power``]: ``accuracy if power <= budget else 0``;
  * :class:`AccuracyConstraintReward` [``accuracy``]:
    ``1 - energy_n if accuracy >= threshold else 0``.

  ``accuracy`` (and ``threshold``) are fractions in ``[0, 1]``: the value is
  scaled by ``accuracy_scale``, taken from the objective's unit at ``bind``
  (``"%"``: 0.01) unless given.

* :mod:`moopt.rewards.scalarizations`:

  * :class:`WeightedSum` [``weighted_sum``]: ``-sum_i w_i n_i``;
  * :class:`Chebyshev` [``chebyshev``]: ``-(max_i w_i (n_i - z_i) + rho * sum_i w_i (n_i - z_i))``;
  * :class:`SoftConstraint` [``mnas``] -- MnasNet: ``accuracy * (latency / target) ** w``,
    ``w = alpha`` when ``latency <= target`` else ``beta``.

* :mod:`moopt.rewards.hvi` -- :class:`HypervolumeImprovement` [``hvi``]: the
  hypervolume the candidate adds to the Pareto archive of everything rewarded
  so far (needs no weights).

The shared machinery: :mod:`moopt.rewards.base` (the :class:`Reward` class:
names, directions, failures, state), :mod:`moopt.rewards.normalize`
(``energy_n``, ``n_i`` above: each objective turned into a minimized value,
then ``n = (v - lo) / (hi - lo)`` with fixed ``bounds`` or the running
min/max, which is part of :meth:`Reward.state_dict` and therefore of a
search's checkpoint) and :mod:`moopt.rewards.spec` (:func:`reward_from_config`,
:func:`parse_reward`, :func:`available_rewards`).

Failed evaluations.  :meth:`Reward.failure_reward` gives the reward of a
failed (or pruned, or constraint-violating) child: ``failure="min"`` (the
default) is the minimum reward given so far, or the reward's documented floor
(:attr:`Reward.floor`: 0 for the constraint rewards, MnasNet and HVI,
``-(1 - alpha)`` for the mixed reward, ``-sum(w)`` for the weighted sum and
``-(1 + rho) * sum(w)`` for Chebyshev) before any success; a float gives that
fixed value.

Example:
    >>> from moopt.rewards import MixedReward, parse_reward
    >>> r = MixedReward(0.5, accuracy="acc", energy="energy_mj", bounds={"energy_mj": (0, 10)})
    >>> r({"acc": 0.9, "energy_mj": 5.0})
    0.2
    >>> parse_reward("power:budget=2.5,accuracy=acc,power=power_w")({"acc": 0.8, "power_w": 3})
    0.0
"""

from .base import Reward
from .hvi import HypervolumeImprovement
from .monas import AccuracyConstraintReward, MixedReward, PowerConstraintReward
from .scalarizations import Chebyshev, SoftConstraint, WeightedSum
from .spec import available_rewards, parse_reward, reward_from_config

__all__ = [
    "Reward",
    "MixedReward",
    "PowerConstraintReward",
    "AccuracyConstraintReward",
    "WeightedSum",
    "Chebyshev",
    "SoftConstraint",
    "HypervolumeImprovement",
    "reward_from_config",
    "parse_reward",
    "available_rewards",
]
