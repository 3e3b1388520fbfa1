{#-
    Incremental tables (stigg_spec.Table.incremental) take in raw rows by load. A load is one
    Dagster run's landing (`_stigg_load_id`, listed in meta.landed_files); each incremental table
    records the loads it has taken in (meta.dbt_processed_loads), so a run that fails before the
    record takes its loads in again next time: re-ranking a key is idempotent.
    A run re-ranks every key that an unprocessed load touched, over all of that key's raw rows,
    and replaces those keys: a pre-hook deletes them, the model appends their current rows. The
    result is the same rows a full build gives (tests/test_incremental.py).
-#}
{% macro stigg_create_processed_loads() %}
create schema if not exists meta;
create table if not exists meta.dbt_processed_loads (
    consumer varchar not null,
    load_id varchar not null,
    recorded_at timestamp with time zone not null
);
{% endmacro %}


{#- The landed loads of `model_name` that this table has not taken in yet (a SELECT). -#}
{% macro stigg_unprocessed_loads(model_name) -%}
    select load_id from meta.landed_files
    where model = '{{ model_name }}' and status = 'landed'
        and load_id not in (
            select load_id from meta.dbt_processed_loads where consumer = '{{ this.schema }}.{{ this.identifier }}'
        )
{%- endmacro %}


{#- Post-hook: this table now holds every landed load of `model_name`. -#}
{% macro stigg_record_processed_loads(model_name) %}
delete from meta.dbt_processed_loads where consumer = '{{ this.schema }}.{{ this.identifier }}';
insert into meta.dbt_processed_loads
select distinct '{{ this.schema }}.{{ this.identifier }}', load_id, now()
from meta.landed_files
where model = '{{ model_name }}' and status = 'landed';
{% endmacro %}


{#- The typed key of every raw row in an unprocessed load (a SELECT of one value per row). -#}
{% macro stigg_touched_keys(model_name) -%}
    select {{ stigg_raw_key(model_name) }} from {{ source('stigg_raw', model_name) }}
    where _stigg_load_id in ({{ stigg_unprocessed_loads(model_name) }})
{%- endmacro %}


{#- Pre-hook of an incremental table: on an incremental run, drop the keys new loads touched. -#}
{% macro stigg_delete_touched_keys(model_name) %}
{%- if is_incremental() -%}
{%- set spec = stigg_tables()[model_name | upper] -%}
delete from {{ this }}
where {{ stigg_key_tuple(spec.key) }} in ({{ stigg_touched_keys(model_name) }})
{%- endif -%}
{% endmacro %}
