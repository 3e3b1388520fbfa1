{#- The join keywords of a semi join: the left rows that have a match, each once. -#}
{% macro stigg_semi_join() -%}
    {{ return(adapter.dispatch('stigg_semi_join', 'stigg_warehouse')()) }}
{%- endmacro %}

{% macro default__stigg_semi_join() -%}
    {{ stigg_unsupported_adapter('stigg_semi_join') }}
{%- endmacro %}

{% macro duckdb__stigg_semi_join() -%}
    semi join
{%- endmacro %}

{% macro spark__stigg_semi_join() -%}
    left semi join
{%- endmacro %}
