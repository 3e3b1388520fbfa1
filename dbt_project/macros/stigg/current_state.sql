{#-
    A documented table: the current version of each key (macros/stigg/versions.sql), with exactly
    the doc's columns, in its order. A key whose current version breaks the contract is left out
    of it and kept in rejects.<model>; it does not fall back to an older version.

    An incremental table (Table.incremental in the spec), on an incremental run, ranks only the
    keys that new loads touched (macros/stigg/incremental.sql).
-#}
{% macro stigg_current_state(table_name) %}
{%- set table = stigg_table(table_name) -%}
with staged_versions {{ stigg_inlined_cte() }} (

    {{ stigg_staged_versions(table) }}

),

versions as (

    {{ stigg_latest_versions(table, 'staged_versions') | indent(4) }}

)

select
{%- for column in table.columns %}
    {{ column.name }}{{ "," if not loop.last }}
{%- endfor %}
from versions
where is_most_recent_record
    and {{ stigg_list_length('_stigg_rejection_reasons') }} = 0
{% endmacro %}


{#-
    The rows a documented table refused: a key's current version that breaks the contract, and
    every row with no key. Only the keys that have a rejected row are ranked, so a clean export
    costs a scan, not a sort.
-#}
{% macro stigg_rejects(table_name) %}
{%- set table = stigg_table(table_name) -%}
with staged_versions {{ stigg_inlined_cte() }} (

    {{ stigg_staged_versions(table) }}

),

keys_with_a_rejected_row as (

    select {{ table.key | join(', ') }}
    from staged_versions
    where {{ stigg_list_length('_stigg_rejection_reasons') }} > 0

),

versions_of_rejected_keys as (

    select staged_versions.*
    from staged_versions
    {{ stigg_semi_join() }} keys_with_a_rejected_row
        on {{ stigg_same_key(table.key, 'staged_versions', 'keys_with_a_rejected_row') }}

),

versions as (

    {{ stigg_latest_versions(table, 'versions_of_rejected_keys') | indent(4) }}

)

select
{%- for key in table.key %}
    {{ key }},
{%- endfor %}
    {{ stigg_list_to_string('_stigg_rejection_reasons', '; ') }} as rejection_reason,
    _stigg_source_file,
    _stigg_transfer_at,
    _stigg_load_id
from versions
where {{ stigg_list_length('_stigg_rejection_reasons') }} > 0
    and (is_most_recent_record or {{ stigg_key_is_null(table.key) }})
{% endmacro %}


{#- The staged rows a documented table builds from: all of them, or, on an incremental run of
    an incremental table, the rows of the keys that new loads touched. -#}
{% macro stigg_staged_versions(table) -%}
    {%- set staged = ref('stg_stigg__' ~ table.model) -%}
    {%- if table.incremental -%}
        {#- Named here, not only when is_incremental() (false while dbt parses), so the lineage
            shows what an incremental run reads. -#}
        {%- do stigg_load_sources() -%}
    {%- endif -%}
    {%- if table.incremental and stigg_is_incremental_build() %}
    select * from {{ staged }} as touched_versions
    where {{ stigg_touched_rows(table, staged) }}
    {%- else %}
    select * from {{ staged }}
    {%- endif %}
{%- endmacro %}
