{#-
    One documented table's raw rows, accounted for (a row of meta.reconciliation):

        raw rows = rows in the documented table + versions superseded by a newer one of their
                   record + identical repeats of a version + rows rejected (rejects.<model>)

    A repeat has the same key and the same documented content as another staged row; a
    superseded row is a distinct older version. Rows whose key is NULL are all rejected. The test
    stigg_reconciles_with_raw on each documented table fails when its row does not balance.
-#}
{% macro stigg_table_reconciliation(table_name, rows='true', relations=none) %}
{%- set table = stigg_table(table_name) -%}
{%- set model = table_name | lower -%}
{%- set key = stigg_key_tuple(table.key) -%}
{%- set key_present = 'not ' ~ stigg_key_is_null(table.key) -%}
{#- The view (meta.reconciliation) names its inputs by ref and source; the test on a documented
    table is handed them (`relations`: raw, staged, documented, rejects), so that it reads its
    own table's inputs, not the view of all seventeen. -#}
{%- if relations is none -%}
    {%- set raw = source('stigg_raw', model) -%}
    {%- set staged = ref('stg_stigg__' ~ model) -%}
    {%- set documented = ref(table_name) -%}
    {%- set rejects = ref('rejects_' ~ model) -%}
{%- else -%}
    {%- set raw, staged = relations.raw, relations.staged -%}
    {%- set documented, rejects = relations.documented, relations.rejects -%}
{%- endif -%}
{#- Some rows only (those of keys): raw's are the staged ones (a raw row is one staged row). -#}
{%- if rows != 'true' -%}
    {%- set raw = staged -%}
{%- endif -%}
select
    '{{ table_name }}' as table_name,
    raw.raw_rows,
    staged.staged_rows,
    documented.current_rows,
    staged.distinct_versions - staged.distinct_keys as superseded_rows,
    staged.keyed_rows - staged.distinct_versions as repeated_rows,
    rejected.rejected_rows,
    documented.current_rows + staged.keyed_rows - staged.distinct_keys + rejected.rejected_rows
        as accounted_rows,
    staged.distinct_keys,
    rejected.rejected_keys
from
    (select count(*) as raw_rows from {{ raw }} where {{ rows }}) as raw,
    (
        select
            count(*) as staged_rows,
            count(*) filter (where {{ key_present }}) as keyed_rows,
            count(distinct {{ key }}) filter (where {{ key_present }}) as distinct_keys,
            count(distinct {{ stigg_row_value(table.columns | map(attribute='name') | list) }})
                filter (where {{ key_present }}) as distinct_versions
        from {{ staged }}
        where {{ rows }}
    ) as staged,
    (select count(*) as current_rows from {{ documented }} where {{ rows }}) as documented,
    (
        select
            count(*) as rejected_rows,
            count(distinct {{ key }}) filter (where {{ key_present }}) as rejected_keys
        from {{ rejects }}
        where {{ rows }}
    ) as rejected
{% endmacro %}
