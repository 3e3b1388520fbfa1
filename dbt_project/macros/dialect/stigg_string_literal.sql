{#- A string as an SQL literal, quoted and escaped. -#}
{% macro stigg_string_literal(value) -%}
    {{ return(adapter.dispatch('stigg_string_literal', 'stigg_warehouse')(value)) }}
{%- endmacro %}

{% macro default__stigg_string_literal(value) -%}
    '{{ dbt.escape_single_quotes(value) }}'
{%- endmacro %}

{#- Spark reads a backslash in a literal as an escape, so it is escaped too (dbt's
    escape_single_quotes escapes only the quote). -#}
{% macro spark__stigg_string_literal(value) -%}
    '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
