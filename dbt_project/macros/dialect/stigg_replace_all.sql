{#- Every match of `pattern` in `expression` replaced (not only the first). -#}
{% macro stigg_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('stigg_replace_all', 'stigg_warehouse')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__stigg_replace_all(expression, pattern, replacement) -%}
    {{ stigg_unsupported_adapter('stigg_replace_all') }}
{%- endmacro %}

{% macro duckdb__stigg_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__stigg_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}
