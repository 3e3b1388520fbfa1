{#-
    A documented table that the doc splits into one table per environment (Table.split_by in the
    spec): stigg.USAGE_EVENTS and the documented stigg.USAGE_EVENTS_<ENV> tables.

    Each event is written once, into its environment's table: the model's SQL (the current
    events, macros/stigg/current_state.sql) runs once per environment with a filter on
    ENVIRONMENT_ID that reaches the raw scan. USAGE_EVENTS is a view over those tables. The
    tables carry the contract's columns and column docs, and NOT NULL where the engine enforces
    it. <ENV> is the environment id with every character outside A-Z, a-z, 0-9 and _ replaced by
    _, in upper case; environment ids come from data, so they reach SQL only as escaped literals
    and quoted identifiers. A table exists exactly for the environments that have a current event.

    On an incremental run (the view exists, no full refresh, and the engine's tables take DELETE)
    each table replaces only the events whose keys new loads touched; otherwise each is written
    whole. What the engines write differently is in macros/dialect/: the tables that exist, a
    table's DDL, its docs. The materialization logs `stigg_environment_tables={"<table>": <rows>,
    ...}`, which the Dagster asset shows as metadata (orchestration/runtime/dbt_build.py).
-#}
{% materialization stigg_environment_tables, default %}
{%- set table = stigg_table(model.name) -%}
{%- set split_by = table.split_by -%}
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
{%- set existing_tables = stigg_environment_table_names(this.schema, table) -%}
{%- set candidates_sql = "select " ~ split_by ~ ", " ~ stigg_environment_table_name(table, split_by)
    ~ " from (select distinct " ~ split_by ~ " from " ~ staged ~ " where " ~ split_by ~ " is not null"
    ~ (" and _stigg_load_id in (" ~ stigg_unprocessed_loads(table.model) ~ ")" if incremental else "")
    ~ ") as environments" -%}
{%- set environments = {} -%}
{%- for environment_id, table_name in run_query(candidates_sql ~ " order by 1").rows -%}
    {%- do stigg_add_environment(environments, table_name, environment_id) -%}
{%- endfor -%}
{%- set touched_keys = 'stigg_touched_' ~ table.model -%}
{%- if incremental -%}
    {%- for table_name in existing_tables if table_name not in environments -%}
        {%- set found = run_query('select ' ~ split_by ~ ' from ' ~ this.schema ~ '.' ~ adapter.quote(table_name) ~ ' limit 1') -%}
        {%- if found.rows | length > 0 -%}
            {%- do environments.update({table_name: found.rows[0][0]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do run_query('create or replace temp table ' ~ touched_keys ~ ' as ' ~ stigg_touched_keys(table)) -%}
{%- endif -%}

{%- set built = {} -%}
{%- set row_counts = {} -%}
{%- for table_name, environment_id in environments | dictsort -%}
    {%- set relation = api.Relation.create(schema=this.schema, identifier=table_name, type='table') -%}
    {%- if incremental and table_name in existing_tables -%}
        {%- do run_query('delete from ' ~ relation ~ ' where ' ~ stigg_key_tuple(table.key) ~ ' in (select * from ' ~ touched_keys ~ ')') -%}
    {%- else -%}
        {%- do stigg_create_environment_table(table, relation, environment_id) -%}
    {%- endif -%}
    {%- do run_query('insert into ' ~ relation ~ ' select * from (' ~ sql ~ ') as current_events where '
        ~ split_by ~ ' = ' ~ stigg_string_literal(environment_id)) -%}
    {%- set rows = run_query('select count(*) from ' ~ relation).columns[0].values()[0] -%}
    {%- if rows == 0 -%}
        {%- do adapter.drop_relation(relation) -%}
    {%- else -%}
        {%- do built.update({table_name: environment_id}) -%}
        {%- do row_counts.update({table_name: rows}) -%}
    {%- endif -%}
{%- endfor -%}
{#- Spark's metastore keeps table names in lower case, and resolves them case-insensitively. -#}
{%- set kept = row_counts.keys() | map('lower') | list -%}
{%- for stale in existing_tables if stale | lower not in kept -%}
    {%- do adapter.drop_relation(api.Relation.create(schema=this.schema, identifier=stale, type='table').quote(identifier=true)) -%}
{%- endfor -%}

{%- call statement('main') -%}
    {{ stigg_environment_tables_view(view, table, row_counts) }}
{%- endcall -%}
{%- do stigg_document_environment_tables(view, table, built) -%}
{%- do log('stigg_environment_tables=' ~ tojson(row_counts), info=True) -%}

{{ run_hooks(post_hooks, inside_transaction=True) }}
{{ adapter.commit() }}
{{ run_hooks(post_hooks, inside_transaction=False) }}
{{ return({'relations': [view]}) }}
{% endmaterialization %}


{#- Whether this build of an incremental model takes in only new loads: dbt's is_incremental()
    for incremental models; for a split table (stigg_environment_tables), its view exists, no
    full refresh was asked for, and the engine can delete the rows it replaces. -#}
{% macro stigg_is_incremental_build() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- if config.get('materialized') == 'stigg_environment_tables' -%}
        {%- set existing = load_cached_relation(this) -%}
        {{ return(existing is not none and existing.is_view and not should_full_refresh() and stigg_can_delete_rows()) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}


{#- <TABLE>_<ENV>, as a SQL expression over an environment id: every character outside A-Z, a-z,
    0-9 and _ replaced by _, then upper-cased. The doc's naming, written once. -#}
{% macro stigg_environment_table_name(table, environment_id) -%}
    '{{ table.name }}_' || upper({{ stigg_replace_all(environment_id, '[^A-Za-z0-9_]', '_') }})
{%- endmacro %}


{#- The comment of an environment's table. -#}
{% macro stigg_environment_table_comment(environment_id) -%}
    {{ return("Usage events of environment " ~ environment_id) }}
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
