{#-
    Every raw row of one documented table, typed to its contract (macros/spec/stigg_table.sql).
    Each output row is computed from its raw row alone, so a filter on the view (a load, a key)
    reaches the raw table's scan.
    - Columns match the raw table's case-insensitively (raw names are lower case).
    - A documented column that no file has carried yet becomes a typed NULL.
    - Timestamps and booleans arrive typed or as ISO-8601 / true-false text; both cast.
    - Enum values in another API's spelling (FLUCTUATING, 1 month) take the doc's spelling.
    - _stigg_rejection_reasons lists what breaks the contract: a NULL in a mandatory column,
      a value that cannot be cast. Such rows go to rejects.<model>, not to stigg.<TABLE>.
    Which version of a record is current is decided downstream (macros/stigg/versions.sql).
-#}
{% macro stigg_staging(table_name) %}
{%- set table = stigg_table(table_name) -%}
{%- set source_relation = source('stigg_raw', table_name | lower) -%}
{%- set raw_columns = stigg_raw_columns(source_relation) -%}
{%- set checked = [] -%}
{%- for column in table.columns if column.name | lower in raw_columns and column.type_key != 'VARCHAR' -%}
    {%- do checked.append(column) -%}
{%- endfor -%}
with raw_rows as (

    select * from {{ source_relation }}

),

typed as (

    select
    {%- for column in table.columns %}
        {{ stigg_typed_column(table, column, raw_columns) }} as {{ column.name }},
    {%- endfor %}
    {%- for column in checked %}
        {{ adapter.quote(column.name | lower) }} as __raw_{{ column.name }},
    {%- endfor %}
    {%- for lineage in stigg_lineage_columns() %}
        {{ lineage }}{{ ',' if not loop.last }}
    {%- endfor %}
    from raw_rows

)

select
{%- for column in table.columns %}
    {{ column.name }},
{%- endfor %}
{%- for lineage in stigg_lineage_columns() %}
    {{ lineage }},
{%- endfor %}
    {%- set reasons = [] -%}
    {%- for column in table.columns if column.mandatory -%}
        {#- A value that failed to cast is reported as that, not also as a NULL. #}
        {%- do reasons.append("case when " ~ ('__raw_' if column in checked else '') ~ column.name
            ~ " is null then 'NULL in mandatory column " ~ column.name ~ "' end") -%}
    {%- endfor -%}
    {%- for column in checked -%}
        {#- The doc's type, not the engine's: a reason reads the same on every engine. -#}
        {%- set documented_type = 'a whole NUMBER' if column.type_key == 'WHOLE_NUMBER' else column.type_key -%}
        {%- do reasons.append("case when __raw_" ~ column.name ~ " is not null and " ~ column.name
            ~ " is null then '" ~ column.name ~ ": cannot cast ' || left(cast(__raw_" ~ column.name
            ~ " as " ~ stigg_table_types().VARCHAR ~ "), 100) || ' to " ~ documented_type ~ "' end") -%}
    {%- endfor %}
    {{ stigg_non_null_list(reasons) }} as _stigg_rejection_reasons
from typed
{% endmacro %}


{#- The raw table's column names, in lower case ([] while dbt parses). -#}
{% macro stigg_raw_columns(relation) -%}
    {%- set names = [] -%}
    {%- for raw_column in adapter.get_columns_in_relation(relation) -%}
        {%- do names.append(raw_column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{% macro stigg_typed_column(table, column, raw_columns) -%}
    {%- set raw_name = column.name | lower -%}
    {%- if raw_name not in raw_columns -%}
        {%- set value = 'cast(null as ' ~ column.type ~ ')' -%}
    {%- elif column.type_key == 'VARCHAR' -%}
        {%- set value = 'cast(' ~ adapter.quote(raw_name) ~ ' as ' ~ column.type ~ ')' -%}
    {%- else -%}
        {%- set value = 'try_cast(' ~ adapter.quote(raw_name) ~ ' as ' ~ column.type ~ ')' -%}
    {%- endif -%}
    {%- if column.enum and raw_name in raw_columns -%}
        {{ stigg_enum_spelling(value, column.enum) }}
    {%- elif column.name == 'ENVIRONMENT_ID' -%}
        {#- A per-environment folder (usage_events_<environment id>/) may leave the column out:
            landing records the id its folder names (spec/tables.py, folder_environment). -#}
        coalesce({{ value }}, _stigg_environment_id)
    {%- else -%}
        {{ value }}
    {%- endif -%}
{%- endmacro %}


{#- The doc's spelling of an enum value; a value it does not know stays as it is (its test
    warns). A value matches a documented one, or an alias, when their normalised forms agree. -#}
{% macro stigg_enum_spelling(value, enum) -%}
    coalesce(
        case {{ stigg_normalised_spelling(value) }}
        {%- for documented in enum['values'] %}
            when {{ stigg_normalised_spelling("'" ~ documented | replace("'", "''") ~ "'") }} then '{{ documented | replace("'", "''") }}'
        {%- endfor %}
        {%- for alias, documented in enum['aliases'].items() %}
            when '{{ alias }}' then '{{ documented }}'
        {%- endfor %}
        end,
        {{ value }}
    )
{%- endmacro %}


{#- An enum value's normalised form: upper case, each run of other characters one "_", trimmed. -#}
{% macro stigg_normalised_spelling(value) -%}
    {{ stigg_trim(stigg_replace_all('upper(' ~ value ~ ')', '[^A-Z0-9]+', '_'), '_') }}
{%- endmacro %}
