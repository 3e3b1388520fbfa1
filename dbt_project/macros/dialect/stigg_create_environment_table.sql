{#- An empty per-environment table, in place of any table of that name, with the documented
    columns and types of `table`. -#}
{% macro stigg_create_environment_table(table, relation, environment_id) -%}
    {{ return(adapter.dispatch('stigg_create_environment_table', 'stigg_warehouse')(table, relation, environment_id)) }}
{%- endmacro %}

{% macro default__stigg_create_environment_table(table, relation, environment_id) -%}
    {{ stigg_unsupported_adapter('stigg_create_environment_table') }}
{%- endmacro %}

{#- With NOT NULL on the mandatory columns; comments come once it is filled
    (stigg_document_environment_tables). -#}
{% macro duckdb__stigg_create_environment_table(table, relation, environment_id) -%}
    {%- set ddl -%}
    create or replace table {{ relation }} (
    {%- for column in table.columns %}
        {{ column.name }} {{ column.type }}{{ ' not null' if column.mandatory }}{{ ',' if not loop.last }}
    {%- endfor %}
    )
    {%- endset -%}
    {%- do run_query(ddl) -%}
{%- endmacro %}

{#- A plain Parquet table, with its comments. Spark does not enforce NOT NULL; the
    stigg_environment_tables_not_null test is the guard. -#}
{% macro spark__stigg_create_environment_table(table, relation, environment_id) -%}
    {%- do run_query('drop table if exists ' ~ relation) -%}
    {%- set ddl -%}
    create table {{ relation }} (
    {%- for column in table.columns %}
        {{ column.name }} {{ column.type }} comment {{ stigg_string_literal(column.description) }}{{ ',' if not loop.last }}
    {%- endfor %}
    ) using parquet
    comment {{ stigg_string_literal(stigg_environment_table_comment(environment_id)) }}
    {%- endset -%}
    {%- do run_query(ddl) -%}
{%- endmacro %}
