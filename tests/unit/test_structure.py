"""The code's shape: settings read in one place, no work when the definitions load, and no module
that imports one above it."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "orchestration"

# Each layer may import the layers after it in this list, never the ones before it.
LAYERS = ["cli", "defs", "report", "runtime", "synthetic", "spec", "settings", "registry"]


def _modules() -> dict[str, ast.Module]:
    return {
        path.relative_to(PACKAGE).as_posix(): ast.parse(path.read_text(), filename=str(path))
        for path in PACKAGE.rglob("*.py")
    }


def test_only_settings_reads_or_writes_the_environment():
    offenders = []
    for name, tree in _modules().items():
        if name.startswith("settings/"):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "putenv"}:
                offenders.append(f"{name}:{node.lineno}")
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == "os"
                and any(alias.name in {"environ", "getenv"} for alias in node.names)
            ):
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []


def _layer(module: str) -> str | None:
    top = module.split(".")[1] if module.startswith("orchestration.") else None
    return top.removesuffix(".py") if top else None


def test_no_module_imports_a_layer_above_it():
    upward = []
    for name, tree in _modules().items():
        own = name.split("/")[0].removesuffix(".py")
        if own not in LAYERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = _layer(node.module)
                if imported in LAYERS and LAYERS.index(imported) < LAYERS.index(own):
                    upward.append(f"{name}:{node.lineno} imports {node.module}")
    assert upward == []


def _target_state(target: Path) -> dict[str, float]:
    return {p.relative_to(target).as_posix(): p.stat().st_mtime for p in target.rglob("*")}


def _project_copy(destination: Path) -> Path:
    """The package, the dbt project (with its manifest, not its runs), the profile and the
    project's config in `destination`, mtimes kept: a project to change without changing the one other tests run."""
    ignore = shutil.ignore_patterns("__pycache__", "target")
    shutil.copytree(PACKAGE, destination / "orchestration", ignore=ignore)
    shutil.copytree(DBT_PROJECT_DIR, destination / "dbt_project", ignore=ignore)
    (destination / "dbt_project" / "target").mkdir()
    manifest = DBT_PROJECT_DIR / "target" / "manifest.json"
    shutil.copy2(manifest, destination / "dbt_project" / "target" / "manifest.json")
    for name in ("profiles.yml", "pyproject.toml"):  # the profile; the `dg` project's config
        shutil.copy2(PROJECT_ROOT / name, destination / name)
    return destination


def test_loading_the_definitions_after_a_model_changed_starts_no_process_and_writes_nothing(
    tmp_path,
):
    project = _project_copy(tmp_path / "project")
    target = project / "dbt_project" / "target"
    before = _target_state(target)
    # A model newer than the manifest: the old code parsed dbt here.
    os.utime(project / "dbt_project" / "models" / "stigg" / "CUSTOMERS.sql")
    probe = textwrap.dedent(
        """
        import json, os, subprocess, sys
        # Dagster's own import runs `file -b python` once (platform.architecture, in its
        # vendored croniter); what is measured is what loading our definitions adds.
        import dagster, dagster_dbt
        started = []
        real_popen_init = subprocess.Popen.__init__
        def recording_init(self, *args, **kwargs):
            started.append(repr(args[0] if args else kwargs.get("args")))
            real_popen_init(self, *args, **kwargs)
        subprocess.Popen.__init__ = recording_init
        real_fork = os.fork
        def recording_fork():
            started.append("fork")
            return real_fork()
        os.fork = recording_fork
        import orchestration
        from orchestration.definitions import defs
        definitions = defs()
        definitions.resolve_asset_graph()
        print(orchestration.__file__)
        print(json.dumps(started))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STIGG_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project,  # first on the path: the copy's package, not the installed one
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == str(project / "orchestration" / "__init__.py")
    assert json.loads(lines[-1]) == []
    assert _target_state(target) == before


# Where an engine's or a source's own code lives; the registry names them, and nothing else does.
PLUG_IN_PACKAGES = ("runtime/engines/", "runtime/sources/")
# DuckDB as a library, not as the warehouse: the report renders with it whatever the engine, and
# the synthetic exports are written with it.
DUCKDB_AS_A_LIBRARY = ("report/", "synthetic/")


def _outside_plug_ins() -> dict[str, ast.Module]:
    return {
        name: tree
        for name, tree in _modules().items()
        if not name.startswith(PLUG_IN_PACKAGES) and name != "registry.py"
    }


def _imported_roots(tree: ast.Module) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_no_pipeline_module_outside_the_plug_ins_imports_an_engine():
    offenders = []
    for name, tree in _outside_plug_ins().items():
        engines = _imported_roots(tree) & {"duckdb", "pyspark"}
        if name.startswith(DUCKDB_AS_A_LIBRARY):
            engines -= {"duckdb"}
        offenders += [f"{name} imports {engine}" for engine in sorted(engines)]
        offenders += [
            f"{name}:{node.lineno} imports {node.module}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            and (node.module or "").startswith(
                ("orchestration.runtime.engines.", "orchestration.runtime.sources.")
            )
            and node.module.split(".")[3] not in ("base", "export", "text_files")
        ]
    assert offenders == []


def test_no_module_outside_the_plug_ins_compares_an_engine_or_a_source_name():
    from orchestration.registry import ENGINES, SOURCES

    names = set(ENGINES) | set(SOURCES)
    offenders = []
    for name, tree in _outside_plug_ins().items():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            named = any(
                (isinstance(o, ast.Constant) and o.value in names)
                or (
                    isinstance(o, ast.Tuple | ast.List | ast.Set)
                    and any(isinstance(e, ast.Constant) and e.value in names for e in o.elts)
                )
                for o in operands
            )
            if named:
                offenders.append(f"{name}:{node.lineno}")
    assert offenders == []
