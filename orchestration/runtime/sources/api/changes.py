"""Change detection against the published state (meta.api_records, manifest.py): a record
becomes a row only when its content changed since, new or different in any field that the API
gives. So an incremental pull's overlap writes nothing again, and a pull with nothing changed
writes no file."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import NamedTuple

from orchestration.runtime.sources.api.manifest import RecordState, StateKey
from orchestration.runtime.sources.api.rows import Row, fill_keys, fill_pull_rules
from orchestration.spec.api import ApiModel

_KEY_SEPARATOR = "\x1f"


class Settled(NamedTuple):
    changed: list[Row]  # the rows to write: new or changed records, the pull's columns filled
    listed: int  # how many records were listed
    gone: int  # how many known records a full pull no longer lists


def content_hash(row: Row) -> str:
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()


def settle(
    api_model: ApiModel,
    environment_id: str,
    rows: list[Row],
    state: dict[StateKey, RecordState],
    now: datetime,
) -> Settled:
    """Compare one model's rows of one environment, pulled at `now`, with `state`, and bring
    `state` up to date: a listed record's last listing, a changed one's content and times."""
    model = api_model.model
    table = api_model.table
    latest: dict[str, Row] = {}
    for row in rows:
        fill_keys(api_model, row)
        latest[_KEY_SEPARATOR.join(row[c] or "" for c in table.key)] = row
    changed = []
    for record_key, row in latest.items():
        digest = content_hash(row)
        state_key = (model, environment_id, record_key)
        before = state.get(state_key)
        if before is not None and before.content_hash == digest:
            state[state_key] = replace(before, last_listed_at=now)
            continue
        first_seen = before.first_seen_at if before is not None else now
        fill_pull_rules(api_model, row, first_seen, now)
        state[state_key] = RecordState(digest, first_seen, now, now)
        changed.append(row)
    gone = 0
    if api_model.pulled_in_full:
        gone = sum(
            1
            for (m, env, record_key) in state
            if m == model and env == environment_id and record_key not in latest
        )
    return Settled(changed, len(latest), gone)
