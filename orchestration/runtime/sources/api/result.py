"""What a pull did: per model and environment (a row of meta.api_pulls), and in all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from orchestration.runtime.sources.api.manifest import Published, RecordState, StateKey


@dataclass
class ModelPull:
    """What one pull of one model in one environment did (a row of meta.api_pulls)."""

    model: str
    environment_id: str
    mode: str
    watermark_from: datetime | None = None
    watermark: datetime | None = None
    pages: int = 0
    records_listed: int = 0
    records_changed: int = 0
    records_gone: int = 0
    file: str | None = None


@dataclass
class PullResult:
    run_id: str
    pulled_at: datetime
    pulls: list[ModelPull] = field(default_factory=list)
    published: Published = field(default_factory=Published)
    state: dict[StateKey, RecordState] = field(default_factory=dict)
    requests: int = 0

    def manifest_rows(self) -> list[dict]:
        """meta.api_pulls as it should be after this run: the published rows and this run's."""
        rows = list(self.published.pulls)
        for p in self.pulls:
            rows.append(
                {
                    "run_id": self.run_id,
                    "pulled_at": self.pulled_at,
                    **{k: v for k, v in vars(p).items()},
                    "status": "pulled",
                }
            )
        return rows

    def by_model(self) -> dict[str, dict[str, int]]:
        """Per model, summed over environments: pages, listed, changed, gone."""
        totals: dict[str, dict[str, int]] = {}
        for p in self.pulls:
            t = totals.setdefault(
                p.model, {"pages": 0, "listed": 0, "changed": 0, "gone": 0, "full": 0}
            )
            t["pages"] += p.pages
            t["listed"] += p.records_listed
            t["changed"] += p.records_changed
            t["gone"] += p.records_gone
            t["full"] = int(p.mode in ("full", "nested in a full list", "per customer"))
        return totals
