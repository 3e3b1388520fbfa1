"""The dbt project, as dagster-dbt sees it."""

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, PROJECT_ROOT

stigg_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=PROJECT_ROOT)
stigg_dbt_project.prepare_if_dev()
if not stigg_dbt_project.manifest_path.exists():
    # A fresh checkout has no manifest yet; `dbt parse` makes one in a few seconds.
    stigg_dbt_project.preparer.prepare(stigg_dbt_project)
