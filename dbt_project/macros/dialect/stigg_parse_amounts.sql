{#- A JSON array of {"amount", "currency"} objects, parsed. -#}
{% macro stigg_parse_amounts(expression) -%}
    {{ return(adapter.dispatch('stigg_parse_amounts', 'stigg_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__stigg_parse_amounts(expression) -%}
    {{ stigg_unsupported_adapter('stigg_parse_amounts') }}
{%- endmacro %}

{% macro duckdb__stigg_parse_amounts(expression) -%}
    from_json({{ expression }}, '[{"amount": "DECIMAL(38,10)", "currency": "VARCHAR"}]')
{%- endmacro %}

{% macro spark__stigg_parse_amounts(expression) -%}
    from_json({{ expression }}, 'array<struct<amount: decimal(38,10), currency: string>>')
{%- endmacro %}
