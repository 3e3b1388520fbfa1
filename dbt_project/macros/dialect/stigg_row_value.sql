{#- Several values as one comparable value (a composite key). -#}
{% macro stigg_row_value(expressions) -%}
    {{ return(adapter.dispatch('stigg_row_value', 'stigg_warehouse')(expressions)) }}
{%- endmacro %}

{% macro default__stigg_row_value(expressions) -%}
    {{ stigg_unsupported_adapter('stigg_row_value') }}
{%- endmacro %}

{% macro duckdb__stigg_row_value(expressions) -%}
    row({{ expressions | join(', ') }})
{%- endmacro %}

{% macro spark__stigg_row_value(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}
