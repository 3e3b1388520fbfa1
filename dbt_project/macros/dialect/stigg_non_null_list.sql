{#- The non-NULL items of a list of expressions, as a list. -#}
{% macro stigg_non_null_list(expressions) -%}
    {{ return(adapter.dispatch('stigg_non_null_list', 'stigg_warehouse')(expressions)) }}
{%- endmacro %}

{% macro default__stigg_non_null_list(expressions) -%}
    {{ stigg_unsupported_adapter('stigg_non_null_list') }}
{%- endmacro %}

{% macro duckdb__stigg_non_null_list(expressions) -%}
    list_filter([{{ expressions | join(', ') }}], item -> item is not null)
{%- endmacro %}

{% macro spark__stigg_non_null_list(expressions) -%}
    filter(array({{ expressions | join(', ') }}), item -> item is not null)
{%- endmacro %}
