"""Row reconciliation of a documented table against its raw rows.

Every raw row is accounted for exactly once:

    raw rows = rows in the documented table + rows superseded by a newer version of their record
               + identical repeats of a version + rows rejected (rejects.<model>)

A repeat has the same key and the same documented content as another row; a superseded row is a
distinct older version. Rows whose key is NULL are all rejected.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb

from orchestration.services.warehouse import quote_identifier
from orchestration.stigg_spec import Table


@dataclass(frozen=True)
class Reconciliation:
    raw_rows: int
    current_rows: int
    superseded_rows: int
    repeated_rows: int
    rejected_rows: int

    @property
    def accounted_rows(self) -> int:
        return self.current_rows + self.superseded_rows + self.repeated_rows + self.rejected_rows

    @property
    def balances(self) -> bool:
        return self.raw_rows == self.accounted_rows

    def as_metadata(self) -> dict[str, int]:
        return {**asdict(self), "accounted_rows": self.accounted_rows}


def reconcile(con: duckdb.DuckDBPyConnection, table: Table) -> Reconciliation:
    key = ", ".join(quote_identifier(c) for c in table.key)
    content = (
        "md5(cast(row("
        + ", ".join(quote_identifier(c) for c in table.column_names)
        + ") AS varchar))"
    )
    key_present = " AND ".join(f"{quote_identifier(c)} IS NOT NULL" for c in table.key)
    staging = f"staging.{quote_identifier('stg_stigg__' + table.model)}"
    row = con.execute(
        f"""
        WITH keyed AS (
            SELECT {key}, {content} AS content FROM {staging} WHERE {key_present}
        )
        SELECT
            (SELECT count(*) FROM raw.{quote_identifier(table.model)}),
            (SELECT count(*) FROM stigg.{quote_identifier(table.name)}),
            (SELECT count(*) FROM (SELECT DISTINCT {key}, content FROM keyed))
                - (SELECT count(*) FROM (SELECT DISTINCT {key} FROM keyed)),
            (SELECT count(*) FROM keyed)
                - (SELECT count(*) FROM (SELECT DISTINCT {key}, content FROM keyed)),
            (SELECT count(*) FROM rejects.{quote_identifier(table.model)})
        """
    ).fetchone()
    return Reconciliation(*row)
