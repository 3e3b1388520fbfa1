{#-
    A record's versions: the rows of one key. Which one is current, and in what order they came,
    is written here once; the documented tables, rejects and the history models all use it.

    Version order, oldest first (`row_hash` names a column that already holds the hash): UPDATED_AT (a row whose UPDATED_AT cannot be read counts at its
    transfer time), then the transfer, then the file, then the hash of the row's content, so
    that ties resolve deterministically. The current version is the last.
-#}
{% macro stigg_version_order(table, direction='asc', row_hash=none) -%}
    {%- set names = table.columns | map(attribute='name') | list -%}
    {%- if 'UPDATED_AT' in names %}coalesce(UPDATED_AT, _stigg_transfer_at) {{ direction }}, {% endif -%}
    _stigg_transfer_at {{ direction }}, _stigg_source_file {{ direction }}, {{ row_hash or stigg_row_hash(table) }} {{ direction }}
{%- endmacro %}


{#- The hash of a row's documented content: equal for identical repeats, and the last
    tie-break of the version order. The hashed text is the same on every engine: each column's
    canonical text (stigg_canonical_text) after '+', or '-' for NULL, joined by chr(31). -#}
{% macro stigg_row_hash(table) -%}
    {%- set parts = [] -%}
    {%- for column in table.columns -%}
        {%- do parts.append("coalesce('+' || " ~ stigg_canonical_text(column.name, column.type_key) ~ ", '-')") -%}
    {%- endfor -%}
    {{ stigg_md5('concat_ws(chr(31), ' ~ parts | join(', ') ~ ')') }}
{%- endmacro %}


{#-
    Every row of `relation` (rows of the documented table's staging, or some of its keys), with
    is_most_recent_record true on each key's current version. Only keys with more than one row
    are sorted; a key with one row is its own current version (a hash aggregate tells which is
    which), so a table whose records rarely repeat costs a scan, not a sort. NULL keys are one
    key, as in a window's PARTITION BY.
-#}
{% macro stigg_latest_versions(table, relation) %}
{%- set key = table.key | join(', ') -%}
with keys_with_several_rows as (

    select {{ key }}
    from {{ relation }}
    group by {{ key }}
    having count(*) > 1

),

single_versions as (

    select versions.*, true as is_most_recent_record
    from {{ relation }} as versions
    {{ stigg_anti_join() }} keys_with_several_rows
        on {{ stigg_same_key(table.key, 'versions', 'keys_with_several_rows') }}

),

ranked_versions as (

    select
        versions.*,
        row_number() over (
            partition by {% for column in table.key %}versions.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
            order by {{ stigg_version_order(table, 'desc') }}
        ) = 1 as is_most_recent_record
    from {{ relation }} as versions
    {{ stigg_semi_join() }} keys_with_several_rows
        on {{ stigg_same_key(table.key, 'versions', 'keys_with_several_rows') }}

)

select * from single_versions
union all
select * from ranked_versions
{% endmacro %}
