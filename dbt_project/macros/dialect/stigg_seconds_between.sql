{#- The seconds from one timestamp to another (fractional seconds dropped). -#}
{% macro stigg_seconds_between(start, end) -%}
    {{ return(adapter.dispatch('stigg_seconds_between', 'stigg_warehouse')(start, end)) }}
{%- endmacro %}

{% macro default__stigg_seconds_between(start, end) -%}
    {{ dbt.datediff(start, end, 'second') }}
{%- endmacro %}

{#- dbt.datediff casts DuckDB's operands to timestamps without a time zone. -#}
{% macro duckdb__stigg_seconds_between(start, end) -%}
    date_diff('second', {{ start }}, {{ end }})
{%- endmacro %}

{% macro spark__stigg_seconds_between(start, end) -%}
    timestampdiff(SECOND, {{ start }}, {{ end }})
{%- endmacro %}
