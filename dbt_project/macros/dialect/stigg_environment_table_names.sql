{#- The per-environment tables of `table` (<TABLE>_<ENV>) that exist in `schema`. -#}
{% macro stigg_environment_table_names(schema, table) -%}
    {{ return(adapter.dispatch('stigg_environment_table_names', 'stigg_warehouse')(schema, table)) }}
{%- endmacro %}

{% macro default__stigg_environment_table_names(schema, table) -%}
    {%- set pattern = table.name | replace('_', '\\_') ~ '\\_%' -%}
    {%- set found = run_query(
        "select table_name from information_schema.tables where table_schema = '" ~ schema
        ~ "' and table_type = 'BASE TABLE' and table_name like '" ~ pattern ~ "' escape '\\'"
    ) -%}
    {{ return(found.columns[0].values() | list) }}
{%- endmacro %}

{#- The metastore keeps table names in lower case. -#}
{% macro spark__stigg_environment_table_names(schema, table) -%}
    {%- set found = run_query("show tables in " ~ schema ~ " like '" ~ table.model ~ "_*'") -%}
    {%- set names = [] -%}
    {%- for row in found.rows if not row['isTemporary'] -%}
        {%- do names.append(row['tableName']) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}
