{#- The items of a list for which `predicate` (a lambda: `item -> ...`) holds. -#}
{% macro stigg_list_filter(expression, predicate) -%}
    {{ return(adapter.dispatch('stigg_list_filter', 'stigg_warehouse')(expression, predicate)) }}
{%- endmacro %}

{% macro default__stigg_list_filter(expression, predicate) -%}
    {{ stigg_unsupported_adapter('stigg_list_filter') }}
{%- endmacro %}

{% macro duckdb__stigg_list_filter(expression, predicate) -%}
    list_filter({{ expression }}, {{ predicate }})
{%- endmacro %}

{% macro spark__stigg_list_filter(expression, predicate) -%}
    filter({{ expression }}, {{ predicate }})
{%- endmacro %}
