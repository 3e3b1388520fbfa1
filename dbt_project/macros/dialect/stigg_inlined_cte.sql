{#- A CTE's keyword between its name and its query, so that a CTE that several parts of a query
    read is inlined into each (its filters pushed down) instead of held in memory once whole. -#}
{% macro stigg_inlined_cte() -%}
    {{ return(adapter.dispatch('stigg_inlined_cte', 'stigg_warehouse')()) }}
{%- endmacro %}

{% macro default__stigg_inlined_cte() -%}
    as
{%- endmacro %}

{% macro duckdb__stigg_inlined_cte() -%}
    as not materialized
{%- endmacro %}
