"""The dbt project, as dagster-dbt sees it."""

from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

stigg_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROJECT_ROOT)


def _project_files() -> list[Path]:
    return [
        PROJECT_ROOT / "profiles.yml",
        DBT_PROJECT_DIR / "dbt_project.yml",
        *(
            p
            for d in ("models", "macros", "tests")
            for p in (DBT_PROJECT_DIR / d).rglob("*")
            if p.is_file()
        ),
    ]


def manifest_is_stale() -> bool:
    """No manifest yet (a fresh checkout), or a project file changed since `dbt parse` wrote it."""
    manifest = stigg_dbt_project.manifest_path
    if not manifest.exists():
        return True
    parsed_at = manifest.stat().st_mtime
    return any(path.stat().st_mtime > parsed_at for path in _project_files())


stigg_dbt_project.prepare_if_dev()
if manifest_is_stale():
    stigg_dbt_project.preparer.prepare(stigg_dbt_project)  # `dbt parse`: a few seconds
