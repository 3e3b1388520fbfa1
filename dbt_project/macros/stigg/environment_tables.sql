{#-
    stigg.USAGE_EVENTS and the documented stigg.USAGE_EVENTS_<ENV> tables, one per environment.

    Each event is written once, into its environment's table: the model's SQL (the current
    events, macros/stigg/current_state.sql) runs once per environment with a filter on
    ENVIRONMENT_ID that reaches the raw scan. USAGE_EVENTS is a view over those tables. The
    tables carry the contract's columns, NOT NULL constraints and column docs. <ENV> is the
    environment id with every character outside A-Z, a-z, 0-9 and _ replaced by _, in upper case;
    environment ids come from data, so they reach SQL only as escaped literals and quoted
    identifiers. A table exists exactly for the environments that have a current event.

    On an incremental run (the view exists, no full refresh) each table replaces only the events
    whose keys new loads touched. The materialization logs
    `stigg_environment_tables={"<table>": <rows>, ...}`, which the Dagster asset shows as
    metadata (orchestration/runtime/dbt_build.py).
-#}
{% materialization stigg_environment_tables, default %}
{%- set table = stigg_table(model.name) -%}
{%- set incremental = stigg_is_incremental_build() -%}
{#- The contract: the model's columns and types are the yml's (NOT NULL is each table's DDL). -#}
{{ get_assert_columns_equivalent(sql) }}
{%- set view = this.incorporate(type='view') -%}
{%- set existing = load_cached_relation(this) -%}

{{ run_hooks(pre_hooks, inside_transaction=False) }}
{{ run_hooks(pre_hooks, inside_transaction=True) }}

{%- if existing is not none and not existing.is_view -%}
    {{ adapter.drop_relation(existing) }}  {#- USAGE_EVENTS was once a table of its own -#}
{%- endif -%}

{#- The environments that may have current events: every one staged, or, incrementally, the
    ones that have a table and the ones of the new loads. -#}
{%- set staged = ref('stg_stigg__' ~ table.model) -%}
{%- set existing_tables = stigg_environment_table_names(this.schema) -%}
{%- set candidates_sql = "select ENVIRONMENT_ID, " ~ stigg_environment_table_name('ENVIRONMENT_ID')
    ~ " from (select distinct ENVIRONMENT_ID from " ~ staged ~ " where ENVIRONMENT_ID is not null"
    ~ (" and _stigg_load_id in (" ~ stigg_unprocessed_loads(table.model) ~ ")" if incremental else "")
    ~ ") as environments" -%}
{%- set environments = {} -%}
{%- for environment_id, table_name in run_query(candidates_sql ~ " order by 1").rows -%}
    {%- do stigg_add_environment(environments, table_name, environment_id) -%}
{%- endfor -%}
{%- if incremental -%}
    {%- for table_name in existing_tables if table_name not in environments -%}
        {%- set found = run_query('select ENVIRONMENT_ID from ' ~ this.schema ~ '.' ~ adapter.quote(table_name) ~ ' limit 1') -%}
        {%- if found.rows | length > 0 -%}
            {%- do environments.update({table_name: found.rows[0][0]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do run_query('create or replace temp table stigg_touched_usage_events as ' ~ stigg_touched_keys(table)) -%}
{%- endif -%}

{%- set row_counts = {} -%}
{%- for table_name, environment_id in environments | dictsort -%}
    {%- set relation = api.Relation.create(schema=this.schema, identifier=table_name, type='table') -%}
    {%- set environment_rows = "select * from (" ~ sql ~ ") as current_events where ENVIRONMENT_ID = '"
        ~ environment_id | replace("'", "''") ~ "'" -%}
    {%- if incremental and table_name in existing_tables -%}
        {%- do run_query('delete from ' ~ relation ~ ' where ID in (select * from stigg_touched_usage_events)') -%}
    {%- else -%}
        {%- do run_query(stigg_create_environment_table(table, relation)) -%}
    {%- endif -%}
    {%- do run_query('insert into ' ~ relation ~ ' ' ~ environment_rows) -%}
    {%- set rows = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {%- if rows == 0 -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- else -%}
        {%- do row_counts.update({table_name: rows}) -%}
        {%- do run_query(stigg_environment_table_docs(table, relation, environment_id)) -%}
    {%- endif -%}
{%- endfor -%}
{%- for stale in existing_tables if stale not in row_counts -%}
    {%- do adapter.drop_relation(api.Relation.create(schema=this.schema, identifier=stale, type='table')) -%}
{%- endfor -%}

{%- call statement('main') -%}
    {{ stigg_environment_tables_view(view, table, row_counts) }}
{%- endcall -%}
{%- do persist_docs(view, model) -%}
{%- do log('stigg_environment_tables=' ~ tojson(row_counts), info=True) -%}

{{ run_hooks(post_hooks, inside_transaction=True) }}
{{ adapter.commit() }}
{{ run_hooks(post_hooks, inside_transaction=False) }}
{{ return({'relations': [view]}) }}
{% endmaterialization %}


{#- Whether this build of an incremental model takes in only new loads: dbt's is_incremental()
    for incremental models; for USAGE_EVENTS (stigg_environment_tables), its view exists and no
    full refresh was asked for. -#}
{% macro stigg_is_incremental_build() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- if config.get('materialized') == 'stigg_environment_tables' -%}
        {%- set existing = load_cached_relation(this) -%}
        {{ return(existing is not none and existing.is_view and not should_full_refresh()) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}


{#- USAGE_EVENTS_<ENV>, as a SQL expression over an environment id: every character outside
    A-Z, a-z, 0-9 and _ replaced by _, then upper-cased. The doc's naming, written once. -#}
{% macro stigg_environment_table_name(environment_id) -%}
    'USAGE_EVENTS_' || upper({{ stigg_replace_all(environment_id, '[^A-Za-z0-9_]', '_') }})
{%- endmacro %}


{#- The USAGE_EVENTS_<ENV> tables that exist in `schema`. -#}
{% macro stigg_environment_table_names(schema) -%}
    {{ return(adapter.dispatch('stigg_environment_table_names', 'stigg_warehouse')(schema)) }}
{%- endmacro %}
{% macro default__stigg_environment_table_names(schema) -%}
    {%- set found = run_query(
        "select table_name from information_schema.tables where table_schema = '" ~ schema
        ~ "' and table_type = 'BASE TABLE' and table_name like 'USAGE\\_EVENTS\\_%' escape '\\'"
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


{#- The table's comment and its columns' (the contract's descriptions), as one script. -#}
{% macro stigg_environment_table_docs(table, relation, environment_id) -%}
    comment on table {{ relation }} is '{{ ("Usage events of environment " ~ environment_id) | replace("'", "''") }}';
    {%- for column in table.columns %}
    comment on column {{ relation }}.{{ column.name }} is '{{ column.description | replace("'", "''") }}';
    {%- endfor %}
{%- endmacro %}


{#-
    The same on Spark, where plain Parquet tables have no DELETE: every build writes each
    environment's table whole (a build slot is rebuilt on every run: engines/spark.py). Each
    table is created with the contract's columns, types and comments, then filled. NOT NULL is
    not enforced by Spark; the stigg_environment_tables_not_null test is the guard. The metastore
    keeps table names in lower case; Spark resolves them case-insensitively.
-#}
{% materialization stigg_environment_tables, adapter='spark' %}
{%- set table = stigg_table(model.name) -%}
{{ get_assert_columns_equivalent(sql) }}
{%- set view = this.incorporate(type='view') -%}
{%- set existing = load_cached_relation(this) -%}

{{ run_hooks(pre_hooks) }}

{%- if existing is not none and not existing.is_view -%}
    {{ adapter.drop_relation(existing) }}
{%- endif -%}

{%- set staged = ref('stg_stigg__' ~ table.model) -%}
{%- set existing_tables = stigg_environment_table_names(this.schema) -%}
{%- set candidates_sql = "select ENVIRONMENT_ID, " ~ stigg_environment_table_name('ENVIRONMENT_ID')
    ~ " from (select distinct ENVIRONMENT_ID from " ~ staged ~ " where ENVIRONMENT_ID is not null)"
    ~ " as environments order by 1" -%}
{%- set environments = {} -%}
{%- for environment_id, table_name in run_query(candidates_sql).rows -%}
    {%- do stigg_add_environment(environments, table_name, environment_id) -%}
{%- endfor -%}

{%- set row_counts = {} -%}
{%- for table_name, environment_id in environments | dictsort -%}
    {%- set relation = api.Relation.create(schema=this.schema, identifier=table_name, type='table') -%}
    {%- do run_query('drop table if exists ' ~ relation) -%}
    {%- do run_query(spark__stigg_create_environment_table(table, relation, environment_id)) -%}
    {%- do run_query('insert into ' ~ relation ~ ' select * from (' ~ sql ~ ") as current_events where ENVIRONMENT_ID = '"
        ~ environment_id | replace("\\", "\\\\") | replace("'", "\\'") ~ "'") -%}
    {%- set rows = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {%- if rows == 0 -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
    {%- else -%}
        {%- do row_counts.update({table_name: rows}) -%}
    {%- endif -%}
{%- endfor -%}
{%- set kept = row_counts.keys() | map('lower') | list -%}
{%- for stale in existing_tables if stale | lower not in kept -%}
    {%- do run_query('drop table if exists ' ~ this.schema ~ '.' ~ adapter.quote(stale)) -%}
{%- endfor -%}

{%- call statement('main') -%}
    {{ stigg_environment_tables_view(view, table, row_counts) }}
{%- endcall -%}
{%- do log('stigg_environment_tables=' ~ tojson(row_counts), info=True) -%}

{{ run_hooks(post_hooks) }}
{{ return({'relations': [view]}) }}
{% endmaterialization %}


{% macro spark__stigg_environment_table_names(schema) -%}
    {%- set found = run_query("show tables in " ~ schema ~ " like 'usage_events_*'") -%}
    {%- set names = [] -%}
    {%- for row in found.rows if not row['isTemporary'] -%}
        {%- do names.append(row['tableName']) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{#- An empty Parquet table with the documented columns, types and comments of `table`. -#}
{% macro spark__stigg_create_environment_table(table, relation, environment_id) -%}
    create table {{ relation }} (
    {%- for column in table.columns %}
        {{ column.name }} {{ column.type }} comment '{{ column.description | replace("\\", "\\\\") | replace("'", "\\'") }}'{{ ',' if not loop.last }}
    {%- endfor %}
    ) using parquet
    comment '{{ ("Usage events of environment " ~ environment_id) | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}


{#- The view over the environment tables `row_counts` names (one empty select when none). -#}
{% macro stigg_environment_tables_view(view, table, row_counts) -%}
    create or replace view {{ view }} as
    {% for table_name in row_counts | sort -%}
    select * from {{ view.schema }}.{{ adapter.quote(table_name) }}
    {{ 'union all' if not loop.last }}
    {% else -%}
    select {% for column in table.columns %}cast(null as {{ column.type }}) as {{ column.name }}{{ ', ' if not loop.last }}{% endfor %} where false
    {%- endfor %}
{%- endmacro %}


{#- environments[table_name] = environment_id; two environments whose ids name one table fail
    the build (rename one of them in Stigg). -#}
{% macro stigg_add_environment(environments, table_name, environment_id) -%}
    {%- if table_name in environments -%}
        {{ exceptions.raise_compiler_error(
            "Environments " ~ tojson(environments[table_name]) ~ " and " ~ tojson(environment_id)
            ~ " both map to table stigg." ~ table_name ~ "; rename one of them in Stigg."
        ) }}
    {%- endif -%}
    {%- do environments.update({table_name: environment_id}) -%}
{%- endmacro %}
