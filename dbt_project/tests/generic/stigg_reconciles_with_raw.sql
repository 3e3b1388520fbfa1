{#-
    Nothing is lost silently: every raw row is staged, and every distinct key of raw is either
    in the documented table or rejected. Returns one row (the counts) when that does not hold.
-#}
{% test stigg_reconciles_with_raw(model, model_name, rejects) %}
{%- set spec = stigg_tables()[model_name | upper] -%}
{%- set key = 'row(' ~ spec.key | join(', ') ~ ')' if spec.key | length > 1 else spec.key[0] -%}
{%- set key_present = spec.key | join(' is not null and ') ~ ' is not null' -%}
with raw_rows as (
    select count(*) as raw_rows from {{ source('stigg_raw', model_name) }}
),
staged as (
    select
        count(*) as staged_rows,
        count(distinct {{ key }}) filter (where {{ key_present }}) as raw_keys
    from {{ ref('stg_stigg__' ~ model_name) }}
),
documented as (
    select count(*) as documented_rows from {{ model }}
),
rejected as (
    select count(distinct {{ key }}) filter (where {{ key_present }}) as rejected_keys from {{ rejects }}
)
select *
from raw_rows, staged, documented, rejected
where raw_rows != staged_rows
    or raw_keys != documented_rows + rejected_keys
{% endtest %}
