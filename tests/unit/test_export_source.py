from datetime import UTC, date, datetime

import pytest

from orchestration.runtime.sources.export import ExportSource, parse_export_path


def test_parses_the_documented_layout():
    folder, dt, transfer_at, part, fmt = parse_export_path(
        "subscription_prices/dt=2025-03-04/0003_20250304021400.parquet"
    )
    assert (folder, dt, part, fmt) == ("subscription_prices", date(2025, 3, 4), "0003", "parquet")
    assert transfer_at == datetime(2025, 3, 4, 2, 14, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("a_20250101000000.csv", "csv"), ("a_20250101000000.csv.gz", "csv"),
     ("a_20250101000000.ndjson.gz", "json"), ("a_b_20250101000000.jsonl", "json")],
)  # fmt: skip
def test_recognises_file_formats(name, fmt):
    assert parse_export_path(f"customers/dt=2025-01-01/{name}")[-1] == fmt


@pytest.mark.parametrize(
    "path",
    ["customers/2025-01-01/a_20250101000000.parquet", "customers/dt=2025-01-01/data.parquet",
     "customers/dt=2025-01-01/a_20251301000000.parquet", "customers/a_20250101000000.parquet",
     "customers/dt=2025-01-01/a_20250101000000.txt"],
)  # fmt: skip
def test_rejects_other_paths_with_a_reason(path):
    assert isinstance(parse_export_path(path), str)


def test_scan_skips_unknown_folders_and_bad_names_with_reasons(tmp_path):
    (tmp_path / "customers" / "dt=2025-01-01").mkdir(parents=True)
    (tmp_path / "customers" / "dt=2025-01-01" / "0_20250101000000.parquet").write_bytes(b"x")
    (tmp_path / "customers" / "dt=2025-01-01" / "notes.txt").write_text("x")
    (tmp_path / "invoices" / "dt=2025-01-01").mkdir(parents=True)
    (tmp_path / "invoices" / "dt=2025-01-01" / "0_20250101000000.parquet").write_bytes(b"x")
    (tmp_path / "customers" / "dt=2025-01-01" / ".DS_Store").write_bytes(b"x")
    files, skipped = ExportSource(str(tmp_path)).scan()
    assert [f.path for f in files] == ["customers/dt=2025-01-01/0_20250101000000.parquet"]
    assert {s.path for s in skipped} == {
        "customers/dt=2025-01-01/notes.txt",
        "invoices/dt=2025-01-01/0_20250101000000.parquet",
    }
    assert all(s.reason for s in skipped)


def test_missing_export_location_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ExportSource(str(tmp_path / "nowhere")).scan()
