{#- A list's items joined into one string. -#}
{% macro stigg_list_to_string(expression, separator) -%}
    {{ return(adapter.dispatch('stigg_list_to_string', 'stigg_warehouse')(expression, separator)) }}
{%- endmacro %}

{% macro default__stigg_list_to_string(expression, separator) -%}
    {{ stigg_unsupported_adapter('stigg_list_to_string') }}
{%- endmacro %}

{% macro duckdb__stigg_list_to_string(expression, separator) -%}
    array_to_string({{ expression }}, '{{ separator }}')
{%- endmacro %}

{% macro spark__stigg_list_to_string(expression, separator) -%}
    array_join({{ expression }}, '{{ separator }}')
{%- endmacro %}
