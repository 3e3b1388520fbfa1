{#-
    A documented table as the macros see it: its entry in stigg_tables() (macros/spec/
    stigg_tables.sql, rendered from orchestration/spec/tables.py), with each column's type for
    this engine (vars.stigg_column_types in dbt_project.yml). This is the only place the macros
    learn a table's columns, types, mandatory columns, enums, key and references.

    {'name': 'CUSTOMERS', 'model': 'customers', 'key': ['ID'], 'incremental': false,
     'split_by': the column that splits it into one table per value (USAGE_EVENTS_<ENV>) or none,
     'references': {column: the parent column it holds},
     'columns': [{'name', 'type', 'type_key', 'mandatory', 'description',
                  'enum': {'values': [...], 'aliases': {normalised spelling: value}} or none}]}
-#}
{% macro stigg_table(table_name) %}
    {%- set spec = stigg_tables()[table_name] -%}
    {%- set types = stigg_table_types() -%}
    {%- set columns = [] -%}
    {%- for column in spec.columns -%}
        {%- do columns.append(dict(column, type=types[column.type_key])) -%}
    {%- endfor -%}
    {{ return(dict(spec, name=table_name, columns=columns)) }}
{% endmacro %}


{#- A key as one comparable value: the column itself, or a row of the columns. -#}
{% macro stigg_key_tuple(columns, alias=none) -%}
    {%- set prefix = alias ~ '.' if alias else '' -%}
    {%- if columns | length == 1 -%}
        {{ prefix }}{{ columns[0] }}
    {%- else -%}
        {%- set qualified = [] -%}
        {%- for column in columns %}{% do qualified.append(prefix ~ column) %}{% endfor -%}
        {{ stigg_row_value(qualified) }}
    {%- endif -%}
{%- endmacro %}


{#- True when any column of the key is NULL. -#}
{% macro stigg_key_is_null(columns) -%}
    ({{ columns | join(' is null or ') }} is null)
{%- endmacro %}


{#- Key equality where NULL equals NULL, as in a window's PARTITION BY. -#}
{% macro stigg_same_key(columns, left, right) -%}
    {%- for column in columns -%}
        {{ left }}.{{ column }} is not distinct from {{ right }}.{{ column }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- The column of the parent table that `table.column` holds (FOREIGN_KEYS_HOLD in the spec). -#}
{% macro stigg_parent_key(table_name, column_name) -%}
    {{ stigg_tables()[table_name]['references'][column_name] }}
{%- endmacro %}


{#- This engine's type for each of the doc's column types (vars.stigg_column_types). -#}
{% macro stigg_table_types() -%}
    {{ return(var('stigg_column_types')[target.type]) }}
{%- endmacro %}
