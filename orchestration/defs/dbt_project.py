"""The dbt project, as dagster-dbt sees it."""

from dagster_dbt import DbtProject

from orchestration.services.build_state import dbt_project_files
from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

stigg_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROJECT_ROOT)


def manifest_is_stale() -> bool:
    """No manifest yet (a fresh checkout), or a project file changed since `dbt parse` wrote it."""
    manifest = stigg_dbt_project.manifest_path
    if not manifest.exists():
        return True
    parsed_at = manifest.stat().st_mtime
    return any(path.stat().st_mtime > parsed_at for path in dbt_project_files())


stigg_dbt_project.prepare_if_dev()
if manifest_is_stale():
    stigg_dbt_project.preparer.prepare(stigg_dbt_project)  # `dbt parse`: a few seconds
