"""The job that materializes everything."""

import dagster as dg

STIGG_ELT_JOB = "stigg_elt"

stigg_elt = dg.define_asset_job(
    STIGG_ELT_JOB,
    selection=dg.AssetSelection.all(),
    description="Land new export files, build the dbt project with its tests, publish the warehouse.",
)
