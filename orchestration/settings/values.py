"""How a setting's text becomes a value, for every module of the settings."""

from __future__ import annotations

from collections.abc import Mapping

TRUE = {"1", "true", "yes", "on"}


def number(env: Mapping[str, str], variable: str, default, kind=float, may_be_zero=False):
    """A numeric setting: its variable's value, or `default` when unset; a clear error when the
    value is not a number, or not positive."""
    raw = env.get(variable)
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{variable}={raw!r} is not a number") from None
    if value < 0 or (value == 0 and not may_be_zero):
        raise ValueError(f"{variable}={raw!r} must be positive")
    return value
