{#-
    Incremental tables (Table.incremental in the spec) take in raw rows by load. A load is one
    Dagster run's landing (`_stigg_load_id`, listed in meta.landed_files); each incremental table
    records the loads it has taken in (meta.dbt_processed_loads), so a run that fails before the
    record takes its loads in again next time: re-ranking a key is idempotent.
    A run re-ranks every key that an unprocessed load touched, over all of that key's rows, and
    replaces those keys: a pre-hook deletes them, the model appends their current rows. The
    result is the same rows a full build gives (tests/test_incremental.py).
-#}
{% macro stigg_create_processed_loads() %}
{%- set processed_loads = stigg_processed_loads_table() -%}
create schema if not exists {{ processed_loads.schema }};
create table if not exists {{ processed_loads }} (
    consumer varchar not null,
    load_id varchar not null,
    recorded_at timestamp with time zone not null
);
{% endmacro %}


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


{#- Post-hook: this table now holds every landed load of its model. -#}
{% macro stigg_record_processed_loads(table_name) %}
{%- set sources = stigg_load_sources() -%}
{%- set processed_loads = stigg_processed_loads_table() -%}
{%- set consumer = this.schema ~ '.' ~ this.identifier -%}
delete from {{ processed_loads }} where consumer = '{{ consumer }}';
insert into {{ processed_loads }}
select distinct '{{ consumer }}', load_id, now()
from {{ sources.landed_files }}
where model = '{{ table_name | lower }}' and status = 'landed';
{% endmacro %}


{#- Pre-hook of an incremental table: on an incremental run, drop the keys new loads touched. -#}
{% macro stigg_delete_touched_keys(table_name) %}
{%- if is_incremental() -%}
{%- set table = stigg_table(table_name) -%}
delete from {{ this }}
where {{ stigg_key_tuple(table.key) }} in ({{ stigg_touched_keys(table) }})
{%- endif -%}
{% endmacro %}
