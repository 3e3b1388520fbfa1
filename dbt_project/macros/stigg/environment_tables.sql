{#-
    Post-hook of stigg.USAGE_EVENTS: one table per environment, stigg.USAGE_EVENTS_<ENV>, with
    the documented columns, NOT NULL constraints and column docs of USAGE_EVENTS' contract.
    Environment ids come from data: they reach SQL only as escaped literals and quoted
    identifiers. On an incremental run, an existing table replaces only the events whose keys the
    run re-ranked. It logs `stigg_environment_tables={"<table>": <rows>, ...}`, which the Dagster
    asset shows as metadata (orchestration/runtime/dbt_build.py).
-#}
{% macro stigg_environment_tables() %}
{%- if not execute -%}{{ return('') }}{%- endif -%}
{%- set table = stigg_table('USAGE_EVENTS') -%}
{%- set environments = run_query(
    "select ENVIRONMENT_ID, " ~ stigg_environment_table_name('ENVIRONMENT_ID')
    ~ " from " ~ this ~ " group by ENVIRONMENT_ID order by 1"
) -%}
{%- set names = {} -%}
{%- for environment_id, table_name in environments.rows -%}
    {%- if table_name in names -%}
        {{ exceptions.raise_compiler_error(
            "Environments " ~ tojson(names[table_name]) ~ " and " ~ tojson(environment_id)
            ~ " both map to table stigg." ~ table_name ~ "; rename one of them in Stigg."
        ) }}
    {%- endif -%}
    {%- do names.update({table_name: environment_id}) -%}
{%- endfor -%}
{%- set existing = stigg_environment_table_names(this.schema) -%}
{%- for stale in existing if stale not in names -%}
    {%- do run_query('drop table if exists ' ~ this.schema ~ '.' ~ adapter.quote(stale)) -%}
{%- endfor -%}
{%- if is_incremental() -%}
    {#- The keys this run re-ranked, once for every environment's table. -#}
    {%- do run_query('create or replace temp table stigg_touched_usage_events as ' ~ stigg_touched_keys(table)) -%}
{%- endif -%}
{%- set row_counts = {} -%}
{%- for table_name, environment_id in names.items() -%}
    {%- set relation = this.schema ~ '.' ~ adapter.quote(table_name) -%}
    {%- set literal = "'" ~ environment_id | replace("'", "''") ~ "'" -%}
    {%- if is_incremental() and table_name in existing -%}
        {#- The events of the keys this run re-ranked, as stigg.USAGE_EVENTS now has them. -#}
        {%- do run_query('delete from ' ~ relation ~ ' where ID in (select * from stigg_touched_usage_events)') -%}
        {%- do run_query('insert into ' ~ relation ~ ' select * from ' ~ this ~ ' where ENVIRONMENT_ID = '
            ~ literal ~ ' and ID in (select * from stigg_touched_usage_events)') -%}
    {%- else -%}
        {%- do run_query(stigg_create_environment_table(table, relation)) -%}
        {%- do run_query('insert into ' ~ relation ~ ' select * from ' ~ this ~ ' where ENVIRONMENT_ID = ' ~ literal) -%}
        {%- do run_query("comment on table " ~ relation ~ " is '"
            ~ ("Usage events of environment " ~ environment_id) | replace("'", "''") ~ "'") -%}
        {%- for column in table.columns -%}
            {%- do run_query("comment on column " ~ relation ~ "." ~ column.name ~ " is '"
                ~ column.description | replace("'", "''") ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do row_counts.update({table_name: run_query('select count(*) from ' ~ relation).columns[0].values()[0]}) -%}
{%- endfor -%}
{%- do log('stigg_environment_tables=' ~ tojson(row_counts), info=True) -%}
{% endmacro %}


{#- USAGE_EVENTS_<ENV>, as a SQL expression over an environment id: every character outside
    A-Z, a-z, 0-9 and _ replaced by _, then upper-cased. The doc's naming, written once. -#}
{% macro stigg_environment_table_name(environment_id) -%}
    'USAGE_EVENTS_' || upper({{ stigg_replace_all(environment_id, '[^A-Za-z0-9_]', '_') }})
{%- endmacro %}


{#- The USAGE_EVENTS_<ENV> tables that exist in `schema`. -#}
{% macro stigg_environment_table_names(schema) -%}
    {%- set found = run_query(
        "select table_name from information_schema.tables where table_schema = '" ~ schema
        ~ "' and table_name like 'USAGE\\_EVENTS\\_%' escape '\\'"
    ) -%}
    {{ return(found.columns[0].values() | list) }}
{%- endmacro %}


{#- An empty table with the documented columns of `table`, and NOT NULL on the mandatory ones. -#}
{% macro stigg_create_environment_table(table, relation) -%}
    create or replace table {{ relation }} (
    {%- for column in table.columns %}
        {{ column.name }} {{ column.type }}{{ ' not null' if column.mandatory }}{{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}
