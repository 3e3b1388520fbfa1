"""The dbt project, as dagster-dbt sees it.

Loading it does no work beyond Dagster's own development convention: under `dagster dev`,
`prepare_if_dev()` parses the project. Everywhere else the project is prepared explicitly, before
the definitions load: by `stigg-warehouse run` and `stigg-warehouse ui` (`prepare()`), in CI
(`dagster-dbt project prepare-and-package`), and by the tests' session fixture.
"""

import json

from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

from orchestration.runtime.build_state import dbt_project_files
from orchestration.runtime.dbt_build import dbt_vars
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings, dbt_executable

stigg_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROJECT_ROOT)
stigg_dbt_project.prepare_if_dev()

# The vars the manifest was last parsed with. dbt reparses the whole project when a build's vars
# differ from its last parse's, so `prepare` parses with the vars of the run that follows.
_TARGET_DIR = stigg_dbt_project.project_dir / stigg_dbt_project.target_path
_PARSED_VARS = _TARGET_DIR / "stigg_parsed_vars.json"


def manifest_is_stale(variables: dict[str, str] | None = None) -> bool:
    """No manifest yet (a fresh checkout), a project file changed since `dbt parse` wrote it, or
    it was parsed with other vars than `variables` (when given)."""
    manifest = stigg_dbt_project.manifest_path
    if not manifest.exists():
        return True
    if variables is not None and _parsed_vars() != variables:
        return True
    parsed_at = manifest.stat().st_mtime
    return any(path.stat().st_mtime > parsed_at for path in dbt_project_files())


def prepare(settings: Settings | None = None) -> bool:
    """`dbt parse` (a few seconds) when the manifest is stale, with the vars of a run that builds
    `settings`' working copy, so that its `dbt build` parses only what changed. Whether it ran.
    Two processes that prepare at once take turns; the second finds the manifest fresh."""
    variables = dbt_vars(settings) if settings is not None else None
    if not manifest_is_stale(variables):
        return False
    _TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(_TARGET_DIR / "stigg_parse.lock"):
        if not manifest_is_stale(variables):
            return False
        _parse(variables)
    return True


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
    _PARSED_VARS.write_text(json.dumps(variables))


def _parsed_vars() -> dict[str, str] | None:
    try:
        return json.loads(_PARSED_VARS.read_text())
    except (OSError, ValueError):
        return None
