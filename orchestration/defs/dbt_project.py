"""The dbt project, as dagster-dbt sees it.

Loading it does no work beyond Dagster's own development convention: under `dagster dev`,
`prepare_if_dev()` parses the project. Everywhere else the project is prepared explicitly, before
the definitions load: by `stigg-warehouse run` and `stigg-warehouse ui` (`prepare()`), in CI
(`dagster-dbt project prepare-and-package`), and by the tests' session fixture.
"""

import json
import os
import shutil
import uuid
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

from orchestration.runtime.build_state import dbt_project_files
from orchestration.runtime.dbt_build import dbt_vars
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings, dbt_executable

stigg_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROJECT_ROOT)
stigg_dbt_project.prepare_if_dev()

_TARGET_DIR = stigg_dbt_project.project_dir / stigg_dbt_project.target_path
_PARTIAL_PARSE = "partial_parse.msgpack"
WAREHOUSE_FILE = "warehouse.txt"  # in each warehouse's dbt folder: the warehouse's path


def manifest_is_stale() -> bool:
    """No manifest yet (a fresh checkout), or a project file changed since `dbt parse` wrote it."""
    manifest = stigg_dbt_project.manifest_path
    if not manifest.exists():
        return True
    parsed_at = manifest.stat().st_mtime
    return any(path.stat().st_mtime > parsed_at for path in dbt_project_files())


def prepare(settings: Settings | None = None) -> bool:
    """`dbt parse` (a few seconds) when the manifest is stale; with `settings`, with the vars of
    the run that builds its working copy, so that its `dbt build` parses only what changed.
    Whether it ran. Two processes that prepare at once take turns; the second finds the
    manifest fresh.

    A run on another warehouse than the last parse's needs no parse here: its `dbt build`
    parses the project itself (dbt reparses in full when the vars or the profile differ, and
    the working copy's path is in both), which costs less than a `dbt parse` before it, and
    `adopt_parse` keeps that parse for the warehouse's next run."""
    if not manifest_is_stale():
        return False
    _TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(_TARGET_DIR / "stigg_parse.lock"):
        if not manifest_is_stale():
            return False
        _parse(dbt_vars(settings) if settings is not None else None)
    return True


def invocation_target(settings: Settings, name: str) -> Path:
    """A new target folder for one dbt invocation of `settings`' warehouse (in its own
    `dbt_target_dir`), holding the parse that warehouse's last build left, if any: dbt then
    parses only what changed. Without one, dagster-dbt copies the project's parse in."""
    target = settings.dbt_target_dir / f"{name}-{uuid.uuid4().hex[:12]}"
    target.mkdir(parents=True)
    owner = settings.dbt_target_dir / WAREHOUSE_FILE
    if not owner.exists():  # which warehouse the folder is for: its name holds only a hash
        owner.write_text(f"{settings.warehouse_path}\n")
    kept = settings.dbt_target_dir / _PARTIAL_PARSE
    if kept.exists():
        shutil.copyfile(kept, target / _PARTIAL_PARSE)
    return target


def adopt_parse(invocation_target: Path, warehouse_target_dir: Path) -> None:
    """Make a build's parse (its run's vars, the project's current files) the one that the next
    build of the same warehouse starts from: it then parses nothing."""
    parsed = invocation_target / _PARTIAL_PARSE
    if not parsed.exists():
        return
    staged = warehouse_target_dir / f".{_PARTIAL_PARSE}.{os.getpid()}"
    shutil.copyfile(parsed, staged)
    os.replace(staged, warehouse_target_dir / _PARTIAL_PARSE)  # whole, for a build starting now


def _parse(variables: dict[str, str] | None) -> None:
    args = ["parse", "--quiet"]
    if variables is not None:
        args += ["--vars", json.dumps(variables, sort_keys=True)]
    dbt = DbtCliResource(
        project_dir=stigg_dbt_project,
        profiles_dir=str(PROJECT_ROOT),
        dbt_executable=dbt_executable(),
    )
    dbt.cli(args, target_path=_TARGET_DIR).wait()
