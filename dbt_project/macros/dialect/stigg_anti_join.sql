{#- The join keywords of an anti join: the left rows that have no match. -#}
{% macro stigg_anti_join() -%}
    {{ return(adapter.dispatch('stigg_anti_join', 'stigg_warehouse')()) }}
{%- endmacro %}

{% macro default__stigg_anti_join() -%}
    {{ stigg_unsupported_adapter('stigg_anti_join') }}
{%- endmacro %}

{% macro duckdb__stigg_anti_join() -%}
    anti join
{%- endmacro %}

{% macro spark__stigg_anti_join() -%}
    left anti join
{%- endmacro %}
