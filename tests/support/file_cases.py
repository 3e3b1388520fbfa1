"""The file-level cases of the hostile-input suite, written into an export's newest transfer, with
the outcome each must have on every engine: landed with its rows, or failed with its reason.

One export holds them all (in different models, or as different files of one model), so that
one Spark build proves them all. A reason that starts "cannot read it as" is the engine's own
words after that kind; every other reason is landing's (sources/text_files.py) and is the same
text on every engine.
"""

from __future__ import annotations

import gzip
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

ENGINE_REASON = "cannot read it as "


@dataclass(frozen=True)
class FileCase:
    name: str
    path: str  # relative to the export root
    status: str  # landed | failed
    rows: int | None  # for a landed file
    reason: str | None  # how a failed file's reason starts: all of it, or its kind


def reason_kind(reason: str | None) -> str | None:
    """What must agree between engines: the whole reason, or for an engine's failure its kind."""
    if reason is not None and reason.startswith(ENGINE_REASON):
        return reason.split(":", 1)[0]
    return reason


def write_file_cases(export: Path) -> list[FileCase]:
    """Writes each case into its model's newest `dt=` folder; the cases, with their outcomes."""
    cases: list[FileCase] = []

    def folder(model: str) -> tuple[Path, str]:
        newest = sorted((export / model).glob("dt=*"))[-1]
        stamp = next(newest.glob("*_*.*")).name.split("_")[-1].split(".")[0]
        return newest, stamp

    def add(model: str, part: str, ext: str, content: bytes, *outcome) -> None:
        where, stamp = folder(model)
        path = where / f"{part}_{stamp}.{ext}"
        path.write_bytes(content)
        cases.append(FileCase(part, path.relative_to(export).as_posix(), *outcome))

    # A CSV as pyarrow writes it (RFC 4180): every field quoted, a quote inside one doubled.
    coupons = pa.table(
        {
            "ID": ["coupon-rfc-1", "coupon-rfc-2"],
            "COUPON_ID": ["coupon-partner", "coupon-plain"],
            "NAME": ['Partner "15 off"', "Plain"],
            "TYPE": ["FIXED", "PERCENTAGE"],
            "DISCOUNT_VALUE": ["15", "10"],
            "ENVIRONMENT_ID": ["env-rfc", "env-rfc"],
            "AMOUNTS_OFF": ['[{"amount": 15.0, "currency": "USD"}]', None],
            "STATUS": ["ACTIVE", "ACTIVE"],
            "CREATED_AT": ["2025-03-01T00:00:00Z", "2025-03-01T00:00:00Z"],
            "UPDATED_AT": ["2025-03-02T00:00:00Z", "2025-03-02T00:00:00Z"],
        }
    )
    written = io.BytesIO()
    pa_csv.write_csv(coupons, written, pa_csv.WriteOptions(quoting_style="all_valid"))
    add("coupons", "rfc4180", "csv", written.getvalue(), "landed", 2, None)
    add(
        "addons", "semicolons", "csv",
        b'ID;ADDON_ID;DESCRIPTION\na1;"add;on";"two\nlines, ""quoted"""\na2;addon-2;plain\n',
        "landed", 2, None,
    )  # fmt: skip
    add(
        "products", "latin1", "csv", b"ID,PRODUCT_ID,DISPLAY_NAME\np1,prod-1,ok\np2,prod-2,caf\xe9\n",
        "failed", None, "not UTF-8: byte 0xe9 on line 3",
    )  # fmt: skip
    add("promotional_entitlements", "empty", "csv", b"", "landed", 0, None)
    add("plans", "header_only", "csv", b"ID,PLAN_ID,UPDATED_AT\n", "landed", 0, None)
    add(
        "package_entitlements", "extra_field", "csv", b"ID,FEATURE_ID\ne1,a\ne2,b,c\n",
        "failed", None, "the record ending on line 3 has 3 fields, the header 2",
    )  # fmt: skip
    add(
        "package_entitlements", "missing_field", "csv", b"ID,FEATURE_ID,PACKAGE_ID\nm1,a,x\nm2,b\n",
        "failed", None, "the record ending on line 3 has 2 fields, the header 3",
    )  # fmt: skip
    add(
        "subscription_addons", "open_quote", "csv", b'ID,ADDON_ID\nq1,"never closed\nq2,b\n',
        "failed", None,
        "not RFC 4180 CSV on line 3: unexpected end of data",
    )  # fmt: skip

    truncated = io.BytesIO()
    pq.write_table(
        pa.table({"ID": [f"f{i}" for i in range(500)], "X": ["y" * 50] * 500}), truncated
    )
    add(
        "features", "truncated", "parquet", truncated.getvalue()[:300],
        "failed", None, "cannot read it as Parquet",
    )  # fmt: skip
    add(
        "features", "zero_bytes", "parquet", b"",
        "failed", None, "an empty file (0 bytes) is not a Parquet file",
    )  # fmt: skip

    no_rows = io.BytesIO()
    pq.write_table(
        pa.table({"ID": pa.array([], pa.string()), "PLAN_ID": pa.array([], pa.string())}), no_rows
    )
    add("plans", "zero_rows", "parquet", no_rows.getvalue(), "landed", 0, None)

    # Drift between one model's Parquet files: a column the others lack, one they have missing,
    # and a timestamp written as a string where the others carry a timestamp type.
    extra = io.BytesIO()
    customer = {"ID": "drift-extra", "CUSTOMER_ID": "c-drift-extra", "ENVIRONMENT_ID": "env-drift"}
    pq.write_table(pa.Table.from_pylist([customer | {"LEGACY_SEGMENT": "smb"}]), extra)
    add("customers", "extra_column", "parquet", extra.getvalue(), "landed", 1, None)
    string_timestamp = io.BytesIO()
    pq.write_table(
        pa.Table.from_pylist(
            [{"ID": "drift-string-ts", "CUSTOMER_ID": "c-drift", "UPDATED_AT": "2025-03-09T10:00:00Z",
              "CREATED_AT": "2025-03-09T09:00:00+02:00", "HAS_ACTIVE_SUBSCRIPTION": "false"}]
        ),
        string_timestamp,
    )  # fmt: skip
    add("customers", "string_timestamp", "parquet", string_timestamp.getvalue(), "landed", 1, None)

    measurements = "".join(
        json.dumps({"ID": f"um-gz-{i}", "CUSTOMER_ID": "c-drift", "FEATURE_ID": "feature-x",
                    "VALUE": i, "ACTIVE": i % 2 == 0, "RESOURCE_ID": None,
                    "UPDATED_AT": "2025-03-09T00:00:00Z"}) + "\n"
        for i in range(3)
    )  # fmt: skip
    add(
        "usage_measurements", "gzipped", "ndjson.gz", gzip.compress(measurements.encode()),
        "landed", 3, None,
    )  # fmt: skip
    add(
        "prices", "broken_line", "ndjson",
        b'{"ID": "pr1"}\n{"ID": "pr2", "BILLING_MODEL": oops}\n{"ID": "pr3"}\n',
        "failed", None, "Malformed JSON on line 2, column 32: Expecting value",
    )  # fmt: skip
    whole = gzip.compress(b"".join(b'{"ID": "s%d"}\n' % i for i in range(5000)))
    add(
        "subscriptions", "cut_gzip", "ndjson.gz", whole[: len(whole) // 2],
        "failed", None, "not a whole gzip stream (after line",
    )  # fmt: skip
    return cases
