{#-
    Every raw row of one Stigg model, typed to the doc's columns (from stigg_tables()).
    - Columns match the raw table's case-insensitively (raw names are lower case).
    - A documented column that no file has carried yet becomes a typed NULL.
    - Timestamps and booleans arrive typed or as ISO-8601 / true-false text; both cast.
    - is_most_recent_record marks each key's current row: the latest UPDATED_AT, then the
      later transfer, then the later file; identical repeats tie on all three and are
      told apart by a hash of their content, so the choice is deterministic.
-#}
{% macro stigg_staging(model_name) %}
{%- set spec = stigg_tables()[model_name | upper] -%}
{%- set source_relation = source('stigg_raw', model_name) -%}
{%- set raw_columns = [] -%}
{%- for raw_column in adapter.get_columns_in_relation(source_relation) -%}
    {%- do raw_columns.append(raw_column.name | lower) -%}
{%- endfor -%}
{%- set column_names = spec.columns | map(attribute='name') | list -%}
with raw_rows as (

    select * from {{ source_relation }}

),

typed as (

    select
    {%- for column in spec.columns %}
        {{ stigg_cast_column(column, raw_columns) }} as {{ column.name }},
    {%- endfor %}
        _stigg_source_file,
        _stigg_dt,
        _stigg_transfer_at,
        _stigg_load_id,
        _stigg_loaded_at
    from raw_rows

)

select
    *,
    row_number() over (
        partition by {{ spec.key | join(', ') }}
        order by
            {%- if 'UPDATED_AT' in column_names %} UPDATED_AT desc nulls last,{% endif %}
            _stigg_transfer_at desc,
            _stigg_source_file desc,
            md5(cast(row({{ column_names | join(', ') }}) as varchar)) desc
    ) = 1 as is_most_recent_record
from typed
{% endmacro %}


{% macro stigg_cast_column(column, raw_columns) -%}
    {%- set raw_name = column.name | lower -%}
    {%- if raw_name not in raw_columns -%}
        cast(null as {{ column.type }})
    {%- elif column.type == 'VARCHAR' -%}
        cast({{ adapter.quote(raw_name) }} as varchar)
    {%- else -%}
        try_cast({{ adapter.quote(raw_name) }} as {{ column.type }})
    {%- endif -%}
{%- endmacro %}
