{#- The number of items in a list. -#}
{% macro stigg_list_length(expression) -%}
    {{ return(adapter.dispatch('stigg_list_length', 'stigg_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__stigg_list_length(expression) -%}
    cardinality({{ expression }})
{%- endmacro %}

{% macro duckdb__stigg_list_length(expression) -%}
    len({{ expression }})
{%- endmacro %}

{% macro spark__stigg_list_length(expression) -%}
    size({{ expression }})
{%- endmacro %}
