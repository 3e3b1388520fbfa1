{#- Every per-environment table of a split table (USAGE_EVENTS_<ENV>) has a value in each
    mandatory column of the table's contract. Returns one row per table and column with NULLs,
    naming both. (DuckDB enforces it with NOT NULL constraints too; this is the check that every
    engine runs.) -#}
{% test stigg_environment_tables_not_null(model, table_name) %}
{%- set table = stigg_table(table_name) -%}
{%- set rows = stigg_rows_of_the_last_build(table_name) -%}
{%- set counts = [] -%}
{%- for environment_table in (stigg_environment_table_names(model.schema, table) if execute else []) -%}
    {%- for column in table.columns if column.mandatory -%}
        {%- do counts.append(
            "select '" ~ environment_table ~ "' as table_name, '" ~ column.name ~ "' as column_name, "
            ~ "count(*) as null_rows from " ~ model.schema ~ "." ~ adapter.quote(environment_table)
            ~ " where " ~ column.name ~ " is null and " ~ rows
        ) -%}
    {%- endfor -%}
{%- endfor %}
select * from (
    {{ counts | join('\n    union all\n    ') if counts else "select 'none' as table_name, 'none' as column_name, 0 as null_rows" }}
) as null_counts
where null_rows > 0
{% endtest %}
