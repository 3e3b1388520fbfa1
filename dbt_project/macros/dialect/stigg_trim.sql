{#- A string with the characters of `characters` removed from both ends. -#}
{% macro stigg_trim(expression, characters) -%}
    {{ return(adapter.dispatch('stigg_trim', 'stigg_warehouse')(expression, characters)) }}
{%- endmacro %}

{% macro default__stigg_trim(expression, characters) -%}
    trim(both '{{ characters }}' from {{ expression }})
{%- endmacro %}

{% macro duckdb__stigg_trim(expression, characters) -%}
    trim({{ expression }}, '{{ characters }}')
{%- endmacro %}
