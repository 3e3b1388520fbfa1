{#- The first item of a list (NULL when it is empty). -#}
{% macro stigg_first_item(expression) -%}
    {{ return(adapter.dispatch('stigg_first_item', 'stigg_warehouse')(expression)) }}
{%- endmacro %}

{#- Standard SQL's expression[1] raises an error on an empty array. -#}
{% macro default__stigg_first_item(expression) -%}
    {{ stigg_unsupported_adapter('stigg_first_item') }}
{%- endmacro %}

{% macro duckdb__stigg_first_item(expression) -%}
    ({{ expression }})[1]
{%- endmacro %}

{% macro spark__stigg_first_item(expression) -%}
    try_element_at({{ expression }}, 1)
{%- endmacro %}
