"""The exports a benchmark reads: generated once per preset and shape into
benchmarks/data/<preset>-<shape>/generated and kept, then fed to a run transfer by transfer."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

from orchestration.settings import PROJECT_ROOT
from orchestration.spec.tables import TABLES, model_for_folder
from orchestration.synthetic.scale_export import PRESETS, SHAPES, generate_scale_export

DATA = PROJECT_ROOT / "benchmarks" / "data"


def export_dir(preset: str, shape: str) -> Path:
    """The folder of one preset and shape: its generated export and each benchmark's work."""
    return DATA / f"{preset}-{shape}"


def generated_export(preset: str, shape: str) -> Path:
    """The preset's export, generated once and kept."""
    generated = export_dir(preset, shape) / "generated"
    if not (generated / ".complete").exists():
        shutil.rmtree(generated, ignore_errors=True)
        summary = generate_scale_export(generated, PRESETS[preset], shape=SHAPES[shape])
        (generated / ".complete").write_text(json.dumps(asdict(summary)))
        print(f"generated {summary.rows:,} rows in {summary.files} files, {summary.seconds:.1f}s")
    return generated


def transfers(generated: Path) -> list[str]:
    """The export's transfers (its dt= folders), oldest first."""
    return sorted({p.name for p in generated.glob("*/dt=*")})


def copy_transfers(generated: Path, export: Path, names: list[str]) -> None:
    """Make the transfers `names` of `generated` arrive in `export`."""
    for folder in generated.glob("*/dt=*"):
        if folder.name in names:
            shutil.copytree(folder, export / folder.relative_to(generated), dirs_exist_ok=True)


def parquet_files(export: Path) -> dict[str, list[str]]:
    """Each documented table's model -> the export's Parquet files of it, by the spec's rule for
    which folder holds which model (spec/tables.py, model_for_folder)."""
    files: dict[str, list[str]] = {t.model: [] for t in TABLES}
    for path in export.glob("*/dt=*/*.parquet"):
        model = model_for_folder(path.parent.parent.name)
        if model is not None:
            files[model].append(str(path))
    return {model: sorted(paths) for model, paths in files.items()}
