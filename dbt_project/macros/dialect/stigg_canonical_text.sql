{#- A value as text, the same on every engine: the canonical text of a row (stigg_row_hash).
    Timestamps are written in UTC with microseconds; other types as their cast to text, which
    both engines write alike for strings, whole numbers, decimal(38,10) and booleans. -#}
{% macro stigg_canonical_text(expression, type_key) -%}
    {{ return(adapter.dispatch('stigg_canonical_text', 'stigg_warehouse')(expression, type_key)) }}
{%- endmacro %}

{% macro default__stigg_canonical_text(expression, type_key) -%}
    {{ stigg_unsupported_adapter('stigg_canonical_text') }}
{%- endmacro %}

{% macro duckdb__stigg_canonical_text(expression, type_key) -%}
    {%- if type_key == 'TIMESTAMP_TZ' -%}
        strftime({{ expression }}, '%Y-%m-%d %H:%M:%S.%f')
    {%- else -%}
        cast({{ expression }} as varchar)
    {%- endif -%}
{%- endmacro %}

{% macro spark__stigg_canonical_text(expression, type_key) -%}
    {%- if type_key == 'TIMESTAMP_TZ' -%}
        date_format({{ expression }}, 'yyyy-MM-dd HH:mm:ss.SSSSSS')
    {%- else -%}
        cast({{ expression }} as string)
    {%- endif -%}
{%- endmacro %}
