{#-
    Incremental tables (Table.incremental in the spec) take in raw rows by load. A load is one
    Dagster run's landing (`_stigg_load_id`, listed in meta.landed_files); each incremental table
    records the loads it has taken in (meta.dbt_processed_loads), so a run that fails before the
    record takes its loads in again next time: re-ranking a key is idempotent.
    A run re-ranks every key that an unprocessed load touched, over all of that key's rows, and
    replaces those keys: a pre-hook deletes them, the model appends their current rows. The
    result is the same rows a full build gives (tests/pipeline/test_incremental.py). The hooks
    that create and fill meta.dbt_processed_loads are in macros/dialect/
    (stigg_create_processed_loads, stigg_record_processed_loads).
-#}


{#-
    What a test of an incremental table checks: every row, or, when the orchestrator asks for
    it (var stigg_check_scope = 'new_rows'), the rows of the keys that the table's last build
    took in. A test whose logic is local to a row (not_null, accepted_values) or that relates a
    row to the whole table by its key (unique, relationships) needs no more: the other rows were
    checked by the builds that wrote them, and a key's rows are all rebuilt when it is touched.
    A full refresh takes every load in, so it checks every row. Other tables: every row, always.
    The project's generic tests read it (dbt's `where` config cannot call a project macro).
-#}
{% macro stigg_rows_of_the_last_build(table_name, consumer=none) -%}
    {%- if table_name not in stigg_tables() or var('stigg_check_scope', 'all') != 'new_rows' -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set table = stigg_table(table_name) -%}
    {%- if not table.incremental -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set consumer = consumer or 'stigg.' ~ table_name -%}
    {%- set processed_loads = stigg_processed_loads_table() -%}
    {%- if stigg_last_build_took_every_load(consumer) -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set staged = api.Relation.create(schema='staging', identifier='stg_stigg__' ~ table.model) -%}
    {{ return(
        stigg_key_tuple(table.key) ~ ' in (select ' ~ stigg_key_tuple(table.key) ~ ' from ' ~ staged
        ~ ' where _stigg_load_id in (select load_id from ' ~ processed_loads
        ~ " where consumer = '" ~ consumer ~ "' and recorded_at = (select max(recorded_at) from "
        ~ processed_loads ~ " where consumer = '" ~ consumer ~ "')))"
    ) }}
{%- endmacro %}


{#- Whether `consumer`'s last build took in all the loads it has (its first build, a full
    refresh): then its rows are all new, and a test reads them without the semi-join. -#}
{% macro stigg_last_build_took_every_load(consumer) -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set processed_loads = stigg_processed_loads_table() -%}
    {%- set earlier_loads = run_query(
        "select count(*) from " ~ processed_loads ~ " where consumer = '" ~ consumer
        ~ "' and recorded_at < (select max(recorded_at) from " ~ processed_loads
        ~ " where consumer = '" ~ consumer ~ "')"
    ) -%}
    {{ return(earlier_loads.columns[0].values()[0] == 0) }}
{%- endmacro %}


{#- meta.dbt_processed_loads, as the hooks that write it name it (reads go through its source). -#}
{% macro stigg_processed_loads_table() -%}
    {{ return(api.Relation.create(schema='meta', identifier='dbt_processed_loads')) }}
{%- endmacro %}


{#- The meta tables an incremental table reads: {'landed_files': ..., 'processed_loads': ...}. -#}
{% macro stigg_load_sources() -%}
    {{ return({
        'landed_files': source('stigg_meta', 'landed_files'),
        'processed_loads': source('stigg_meta', 'dbt_processed_loads'),
    }) }}
{%- endmacro %}


{#- The landed loads of `model_name` that this table has not taken in yet (a SELECT). -#}
{% macro stigg_unprocessed_loads(model_name) -%}
    {%- set sources = stigg_load_sources() -%}
    select load_id from {{ sources.landed_files }}
    where model = '{{ model_name }}' and status = 'landed'
        and load_id not in (
            select load_id from {{ sources.processed_loads }}
            where consumer = '{{ this.schema }}.{{ this.identifier }}'
        )
{%- endmacro %}


{#- A condition on staged rows: the row came in an unprocessed load, or its key did. -#}
{% macro stigg_touched_rows(table, staged) -%}
    _stigg_load_id in ({{ stigg_unprocessed_loads(table.model) }})
        or {{ stigg_key_tuple(table.key) }} in ({{ stigg_touched_keys(table, staged) }})
{%- endmacro %}


{#- The key of every staged row in an unprocessed load (a SELECT of one value per row). -#}
{% macro stigg_touched_keys(table, staged=none) -%}
    select {{ stigg_key_tuple(table.key) }}
    from {{ staged or ref('stg_stigg__' ~ table.model) }}
    where _stigg_load_id in ({{ stigg_unprocessed_loads(table.model) }})
{%- endmacro %}


{#- Pre-hook of an incremental table: on an incremental run, drop the keys new loads touched. -#}
{% macro stigg_delete_touched_keys(table_name) %}
{%- if is_incremental() -%}
{%- set table = stigg_table(table_name) -%}
delete from {{ this }}
where {{ stigg_key_tuple(table.key) }} in ({{ stigg_touched_keys(table) }})
{%- endif -%}
{% endmacro %}
