{#-
    Every raw row of one Stigg model, typed to the doc's columns (from stigg_tables()).
    - Columns match the raw table's case-insensitively (raw names are lower case).
    - A documented column that no file has carried yet becomes a typed NULL.
    - Timestamps and booleans arrive typed or as ISO-8601 / true-false text; both cast.
    - Enum values in another API's spelling (FLUCTUATING, 1 month) take the doc's spelling.
    - _stigg_rejection_reasons lists what breaks the contract: a NULL in a mandatory column,
      a value that cannot be cast. Such rows go to rejects.<model>, not to stigg.<TABLE>.
    - is_most_recent_record marks each key's current row: the latest UPDATED_AT (a row whose
      UPDATED_AT cannot be read counts at its transfer time), then the later transfer, then the
      later file, then the larger hash of the row's content, so ties resolve deterministically.
      Only keys with more than one row are ranked (a sort); a key with one row is its own current
      row. Most keys have one row, so this costs a hash aggregate instead of a sort of every row.
    Two scopes narrow it to the rows a table needs, with the same result for those rows:
    - only_touched_keys: every row of a key that an unprocessed load touched, and every row of
      those loads (an incremental table's new input; macros/stigg_incremental.sql);
    - only_rejected_keys: every row of a key with a rejected row, and rows with a NULL key.
-#}
{% macro stigg_staging(model_name, only_touched_keys=false, only_rejected_keys=false) %}
{%- set spec = stigg_tables()[model_name | upper] -%}
{%- set source_relation = source('stigg_raw', model_name) -%}
{%- set raw_columns = [] -%}
{%- for raw_column in adapter.get_columns_in_relation(source_relation) -%}
    {%- do raw_columns.append(raw_column.name | lower) -%}
{%- endfor -%}
{%- set column_names = spec.columns | map(attribute='name') | list -%}
{%- set checked = [] -%}
{%- for column in spec.columns if column.name | lower in raw_columns and column.type != 'VARCHAR' -%}
    {%- do checked.append(column) -%}
{%- endfor -%}
with raw_rows as (

    select * from {{ source_relation }}
    {%- if only_touched_keys %}
    where _stigg_load_id in ({{ stigg_unprocessed_loads(model_name) }})
        or {{ stigg_raw_key(model_name) }} in ({{ stigg_touched_keys(model_name) }})
    {%- endif %}

),

typed as (

    select
    {%- for column in spec.columns %}
        {{ stigg_typed_column(model_name, column, raw_columns) }} as {{ column.name }},
    {%- endfor %}
    {%- for column in checked %}
        {{ adapter.quote(column.name | lower) }} as __raw_{{ column.name }},
    {%- endfor %}
        _stigg_source_file,
        _stigg_dt,
        _stigg_transfer_at,
        _stigg_load_id,
        _stigg_loaded_at
    from raw_rows

),

checked as (

    select
        * exclude ({% for column in checked %}__raw_{{ column.name }}, {% endfor %}_stigg_source_file),
        _stigg_source_file,
        list_filter([
        {%- for column in spec.columns if column.mandatory %}
            {#- A value that failed to cast is reported as that, not also as a NULL. #}
            case when {{ '__raw_' if column in checked }}{{ column.name }} is null then 'NULL in mandatory column {{ column.name }}' end,
        {%- endfor %}
        {%- for column in checked %}
            case when __raw_{{ column.name }} is not null and {{ column.name }} is null
                then '{{ column.name }}: cannot cast ' || left(cast(__raw_{{ column.name }} as varchar), 100) || ' to {{ column.type }}' end,
        {%- endfor %}
            null
        ], reason -> reason is not null) as _stigg_rejection_reasons
    from typed

),

scoped as (

    select * from checked
    {%- if only_rejected_keys %}
    where {{ stigg_key_tuple(spec.key) }} in (
            select {{ stigg_key_tuple(spec.key) }} from checked where len(_stigg_rejection_reasons) > 0
        )
        or {{ spec.key | join(' is null or ') }} is null
    {%- endif %}

),

repeated_keys as (

    select {{ spec.key | join(', ') }}
    from scoped
    group by all
    having count(*) > 1

),

single_versions as (

    select *, true as is_most_recent_record
    from scoped
    anti join repeated_keys on {{ stigg_same_key(spec.key, 'scoped', 'repeated_keys') }}

),

ranked_versions as (

    select
        *,
        row_number() over (
            partition by {{ spec.key | join(', ') }}
            order by
                {%- if 'UPDATED_AT' in column_names %} coalesce(UPDATED_AT, _stigg_transfer_at) desc,{% endif %}
                _stigg_transfer_at desc,
                _stigg_source_file desc,
                md5(cast(row({{ column_names | join(', ') }}) as varchar)) desc
        ) = 1 as is_most_recent_record
    from scoped
    semi join repeated_keys on {{ stigg_same_key(spec.key, 'scoped', 'repeated_keys') }}

)

select * from single_versions
union all
select * from ranked_versions
{% endmacro %}


{#- A raw row's key, typed as staging types it, as one comparable value (stigg_key_tuple). -#}
{% macro stigg_raw_key(model_name) -%}
    {%- set spec = stigg_tables()[model_name | upper] -%}
    {%- set raw_columns = [] -%}
    {%- for raw_column in adapter.get_columns_in_relation(source('stigg_raw', model_name)) -%}
        {%- do raw_columns.append(raw_column.name | lower) -%}
    {%- endfor -%}
    {%- set typed_key = [] -%}
    {%- for key in spec.key -%}
        {%- set column = spec.columns | selectattr('name', 'equalto', key) | first -%}
        {%- do typed_key.append(stigg_typed_column(model_name, column, raw_columns)) -%}
    {%- endfor -%}
    {{ stigg_key_tuple(typed_key) }}
{%- endmacro %}


{#- A key as one comparable value: the column itself, or a row of the columns. -#}
{% macro stigg_key_tuple(columns) -%}
    {{ columns[0] if columns | length == 1 else 'row(' ~ columns | join(', ') ~ ')' }}
{%- endmacro %}


{#- Key equality where NULL equals NULL, as in a window's PARTITION BY. -#}
{% macro stigg_same_key(columns, left, right) -%}
    {%- for column in columns -%}
        {{ left }}.{{ column }} is not distinct from {{ right }}.{{ column }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{% macro stigg_typed_column(model_name, column, raw_columns) -%}
    {%- set raw_name = column.name | lower -%}
    {%- if raw_name not in raw_columns -%}
        {%- set value = 'cast(null as ' ~ column.type ~ ')' -%}
    {%- elif column.type == 'VARCHAR' -%}
        {%- set value = 'cast(' ~ adapter.quote(raw_name) ~ ' as varchar)' -%}
    {%- else -%}
        {%- set value = 'try_cast(' ~ adapter.quote(raw_name) ~ ' as ' ~ column.type ~ ')' -%}
    {%- endif -%}
    {%- if column.enum and raw_name in raw_columns -%}
        {{ stigg_enum_spelling(value, column.enum) }}
    {%- elif model_name == 'usage_events' and column.name == 'ENVIRONMENT_ID' -%}
        {#- Per-environment folders (usage_events_<environment id>) may leave the column out. -#}
        coalesce({{ value }}, nullif(regexp_extract(_stigg_source_file, '^usage_events_([^/]+)/', 1), ''))
    {%- else -%}
        {{ value }}
    {%- endif -%}
{%- endmacro %}


{#- The doc's spelling of an enum value; a value it does not know stays as it is (its test warns). -#}
{% macro stigg_enum_spelling(value, spellings) -%}
    coalesce(
        case trim(regexp_replace(upper({{ value }}), '[^A-Z0-9]+', '_', 'g'), '_')
        {%- for spelling, documented in spellings.items() %}
            when '{{ spelling }}' then '{{ documented }}'
        {%- endfor %}
        end,
        {{ value }}
    )
{%- endmacro %}
