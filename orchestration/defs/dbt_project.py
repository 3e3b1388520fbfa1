"""The dbt project, as dagster-dbt sees it.

Loading it does no work beyond Dagster's own development convention: under `dagster dev`,
`prepare_if_dev()` parses the project. Everywhere else the project is prepared explicitly, before
the definitions load: by `stigg-warehouse run` and `stigg-warehouse ui` (`prepare()`), in CI
(`dagster-dbt project prepare-and-package`), and by the tests' session fixture.
"""

from dagster_dbt import DbtProject

from orchestration.runtime.build_state import dbt_project_files
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

stigg_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROJECT_ROOT)
stigg_dbt_project.prepare_if_dev()


def manifest_is_stale() -> bool:
    """No manifest yet (a fresh checkout), or a project file changed since `dbt parse` wrote it."""
    manifest = stigg_dbt_project.manifest_path
    if not manifest.exists():
        return True
    parsed_at = manifest.stat().st_mtime
    return any(path.stat().st_mtime > parsed_at for path in dbt_project_files())


def prepare() -> bool:
    """`dbt parse` when the manifest is missing or stale (a few seconds); whether it ran."""
    if not manifest_is_stale():
        return False
    stigg_dbt_project.preparer.prepare(stigg_dbt_project)
    return True
