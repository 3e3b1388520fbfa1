"""Stigg's API as a source (STIGG_SOURCE=api): its address, its server keys, and how a pull
retries. Read only when the source reads them (orchestration/settings/__init__.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestration.settings.values import TRUE, number

DEFAULT_API_URL = "https://api.stigg.io/graphql"
_KEY_PREFIXES = ("server-", "client-")


@dataclass(frozen=True)
class ApiKey:
    """One server key of Stigg's API. Its value never appears in a repr, a log or an error:
    `label` names it by its environment, or by its position until the environment is known."""

    value: str = field(repr=False)
    position: int = 1
    count: int = 1
    environment_id: str | None = None

    @property
    def label(self) -> str:
        if self.environment_id:
            return f"environment {self.environment_id}"
        return f"key {self.position} of {self.count}"

    def __repr__(self) -> str:
        return f"ApiKey({self.label})"


def parse_api_keys(text: str) -> tuple[ApiKey, ...]:
    """Keys from STIGG_API_KEYS (comma-separated) or STIGG_API_KEYS_FILE (one a line, `#`
    comments). Each is `KEY` or `ENV_ID=KEY`; a key's own `=` (padding) never splits it, since an
    environment id never starts with Stigg's key prefixes."""
    entries = [
        item.strip()
        for line in text.splitlines()
        if not line.strip().startswith("#")
        for item in line.split(",")
        if item.strip()
    ]
    keys = []
    for position, entry in enumerate(entries, start=1):
        environment, sep, value = entry.partition("=")
        if not sep or not value or environment.startswith(_KEY_PREFIXES):
            environment, value = "", entry
        keys.append(ApiKey(value.strip(), position, len(entries), environment.strip() or None))
    return tuple(keys)


@dataclass(frozen=True)
class ApiSettings:
    """Stigg's API as a source (runtime/sources/api/). The retry policy is these four numbers:
    up to `max_attempts` tries of a request that gets 429, a 5xx, a timeout or a dropped
    connection, waiting `backoff_seconds`, then twice as long each time, at most 60 s."""

    url: str = DEFAULT_API_URL
    keys: tuple[ApiKey, ...] = ()
    keys_origin: str = "STIGG_API_KEYS"
    page_size: int = 50
    timeout_seconds: float = 30.0
    max_attempts: int = 6
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    entitlements: bool = True
    concurrency: int = 4
    overlap_minutes: float = 10.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if environ is None else environ
        defaults = cls()
        keys_file = env.get("STIGG_API_KEYS_FILE")
        if env.get("STIGG_API_KEYS"):
            keys, origin = parse_api_keys(env["STIGG_API_KEYS"]), "STIGG_API_KEYS"
        elif keys_file:
            try:
                keys = parse_api_keys(Path(keys_file).read_text(encoding="utf-8"))
            except OSError as exc:
                raise ValueError(f"STIGG_API_KEYS_FILE {keys_file}: {exc.strerror}") from None
            origin = f"STIGG_API_KEYS_FILE ({keys_file})"
        else:
            keys, origin = (), "STIGG_API_KEYS"

        return cls(
            url=env.get("STIGG_API_URL") or defaults.url,
            keys=keys,
            keys_origin=origin,
            page_size=number(env, "STIGG_API_PAGE_SIZE", defaults.page_size, int),
            timeout_seconds=number(env, "STIGG_API_TIMEOUT_SECONDS", defaults.timeout_seconds),
            max_attempts=number(env, "STIGG_API_MAX_ATTEMPTS", defaults.max_attempts, int),
            backoff_seconds=number(env, "STIGG_API_BACKOFF_SECONDS", defaults.backoff_seconds),
            entitlements=env.get("STIGG_API_ENTITLEMENTS", "true").strip().lower() in TRUE,
            concurrency=number(env, "STIGG_API_CONCURRENCY", defaults.concurrency, int),
            overlap_minutes=number(
                env, "STIGG_API_OVERLAP_MINUTES", defaults.overlap_minutes, may_be_zero=True
            ),
        )
