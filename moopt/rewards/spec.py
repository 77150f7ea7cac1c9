"""Build rewards by name: :func:`reward_from_config`, :func:`parse_reward`, :func:`available_rewards`.

A config is the JSON dict of :meth:`moopt.rewards.Reward.config`
(``{"type": kind, **options}``); a spec is the CLI form
``"kind:key=value,key=value"`` of the same options (``mixed:alpha=0.5,energy=energy_mj``).
"""

from __future__ import annotations

from typing import Any, Mapping, Union

from .base import Reward
from .hvi import HypervolumeImprovement
from .monas import AccuracyConstraintReward, MixedReward, PowerConstraintReward
from .scalarizations import Chebyshev, SoftConstraint, WeightedSum

_KINDS: dict[str, type] = {
    cls.kind: cls
    for cls in (MixedReward, PowerConstraintReward, AccuracyConstraintReward, WeightedSum,
                Chebyshev, SoftConstraint, HypervolumeImprovement)
}
_POSITIONAL = {"mixed": "alpha", "power": "budget", "accuracy": "threshold", "mnas": "target"}


def available_rewards() -> list[str]:
    """The reward kinds understood by :func:`reward_from_config` and :func:`parse_reward`."""
    return sorted(_KINDS)


def reward_from_config(cfg: Union[Mapping, str, Reward]) -> Reward:
    """Build a reward from its :meth:`Reward.config` dict (or a spec string, or a reward).

    Raises:
        ValueError: unknown ``type`` (lists the known ones) or bad options.
    """
    if isinstance(cfg, Reward):
        return cfg
    if isinstance(cfg, str):
        return parse_reward(cfg)
    if not isinstance(cfg, Mapping):
        raise TypeError(f"a reward config must be a dict, a spec string or a Reward, got {cfg!r}.")
    cfg = dict(cfg)
    kind = cfg.pop("type", None)
    cls = _KINDS.get(kind)
    if cls is None:
        raise ValueError(f"unknown reward type {kind!r}; choose one of {available_rewards()}.")
    if cfg.get("bounds"):
        cfg["bounds"] = {n: tuple(b) for n, b in cfg["bounds"].items()}
    pos = _POSITIONAL.get(kind)
    try:
        if pos is not None:
            if pos not in cfg:
                raise ValueError(f"{kind} reward needs {pos}=..., e.g. '{kind}:{pos}=0.5'.")
            return cls(cfg.pop(pos), **cfg)
        return cls(**cfg)
    except TypeError as exc:
        raise ValueError(f"bad options for the {kind} reward: {exc}") from None


def _scalar(text: str):
    t = text.strip()
    try:
        return float(t)
    except ValueError:
        return t


def parse_reward(spec: str) -> Reward:
    """Parse a CLI spec ``"kind:key=value,key=value"`` into a reward.

    Dotted keys fill dictionaries (``weights.acc=0.5``, ``ref.energy_mj=3``,
    ``directions.acc=max``) and ``bounds.NAME=LOW:HIGH`` gives fixed bounds.

    Example:
        >>> parse_reward("mixed:alpha=0.25,accuracy=acc,energy=energy_mj")
        MixedReward(alpha=0.25, accuracy='acc', energy='energy_mj')
        >>> parse_reward("chebyshev:weights.acc=1,weights.e=2,rho=0.05").rho
        0.05
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a reward spec must be a string like 'mixed:alpha=0.5', got {spec!r}.")
    kind, _, rest = spec.strip().partition(":")
    kind = kind.strip()
    if kind not in _KINDS:
        raise ValueError(f"unknown reward {kind!r} in {spec!r}; choose one of {available_rewards()}.")
    cfg: dict[str, Any] = {"type": kind}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"reward spec {spec!r}: {item!r} is not key=value.")
        if "." in key:
            group, _, name = key.partition(".")
            if group == "bounds":
                lo, colon, hi = value.partition(":")
                if not colon:
                    raise ValueError(f"reward spec {spec!r}: bounds.{name} needs LOW:HIGH, got {value!r}.")
                cfg.setdefault("bounds", {})[name] = (float(lo), float(hi))
            elif group in ("weights", "ref", "directions"):
                cfg.setdefault(group, {})[name] = value.strip() if group == "directions" else _scalar(value)
            else:
                raise ValueError(f"reward spec {spec!r}: unknown group {group!r} (weights, ref, bounds, directions).")
        elif key == "objectives":
            cfg["objectives"] = [s for s in value.replace(";", " ").replace("+", " ").split() if s]
        else:
            cfg[key] = _scalar(value)
    return reward_from_config(cfg)
