"""Exception hierarchy of moopt.

Input problems raise the built-in ``ValueError``/``TypeError`` with a message
that names the argument, the bad value and the fix.  Problems with run stores,
configurations and registries raise a :class:`MooptError` subclass.
"""

from __future__ import annotations


class MooptError(Exception):
    """Base class of moopt's own errors (run store, configuration, registry)."""


class ConfigError(MooptError, ValueError):
    """A configuration (algorithm, problem, preset, option) is invalid or unknown."""


class RunStoreError(MooptError):
    """A run store is corrupt, from an unknown schema, or does not match the run."""


class EvaluationError(MooptError):
    """An evaluation failed; recorded as a failed result, never lost."""
