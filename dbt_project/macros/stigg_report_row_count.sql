{#- A post-hook on every model: logs its row count as `stigg_row_count=<n>`. The Dagster asset
    (orchestration/defs/transform.py) reads it from dbt's event stream and shows it as the
    asset's row count as soon as the model is built, without opening the file dbt is writing. -#}
{% macro stigg_report_row_count() %}
  {#- A view is not counted: counting it would evaluate it, a full dedup of its raw table. -#}
  {%- if execute and model.config.materialized != 'view' -%}
    {%- set result = run_query("select count(*) from " ~ this) -%}
    {%- do log("stigg_row_count=" ~ result.columns[0].values()[0], info=True) -%}
  {%- endif -%}
{% endmacro %}
