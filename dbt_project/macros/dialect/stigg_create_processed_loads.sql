{#- The project's on-run-start hook: meta.dbt_processed_loads, where each incremental table
    records the loads it has taken in (macros/stigg/incremental.sql). -#}
{% macro stigg_create_processed_loads() %}
{{ return(adapter.dispatch('stigg_create_processed_loads', 'stigg_warehouse')()) }}
{% endmacro %}

{% macro default__stigg_create_processed_loads() %}
{{ stigg_unsupported_adapter('stigg_create_processed_loads') }}
{% endmacro %}

{% macro duckdb__stigg_create_processed_loads() %}
{%- set processed_loads = stigg_processed_loads_table() -%}
create schema if not exists {{ processed_loads.schema }};
create table if not exists {{ processed_loads }} (
    consumer varchar not null,
    load_id varchar not null,
    recorded_at timestamp with time zone not null
);
{% endmacro %}

{#- Spark rebuilds its incremental tables whole (plain Parquet tables have no DELETE): no loads
    to record. -#}
{% macro spark__stigg_create_processed_loads() %}{% endmacro %}
