{#- Whether this engine's tables take DELETE. Where they do, an incremental build replaces the
    rows of the keys that new loads touched; where not (Spark's plain Parquet tables), every
    build writes its tables whole. -#}
{% macro stigg_can_delete_rows() -%}
    {{ return(adapter.dispatch('stigg_can_delete_rows', 'stigg_warehouse')()) }}
{%- endmacro %}

{% macro default__stigg_can_delete_rows() -%}
    {{ stigg_unsupported_adapter('stigg_can_delete_rows') }}
{%- endmacro %}

{% macro duckdb__stigg_can_delete_rows() -%}
    {{ return(true) }}
{%- endmacro %}

{% macro spark__stigg_can_delete_rows() -%}
    {{ return(false) }}
{%- endmacro %}
