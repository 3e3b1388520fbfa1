{#- The calendar day (UTC) of a timestamp. Spark's session time zone is UTC (profiles.yml and
    every session the orchestrator opens), so its cast is the UTC day. -#}
{% macro stigg_utc_date(expression) -%}
    {{ return(adapter.dispatch('stigg_utc_date', 'stigg_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__stigg_utc_date(expression) -%}
    {{ stigg_unsupported_adapter('stigg_utc_date') }}
{%- endmacro %}

{% macro duckdb__stigg_utc_date(expression) -%}
    cast(timezone('UTC', {{ expression }}) as date)
{%- endmacro %}

{% macro spark__stigg_utc_date(expression) -%}
    cast({{ expression }} as date)
{%- endmacro %}
