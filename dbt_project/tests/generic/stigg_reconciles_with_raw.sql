{#-
    Nothing is lost silently: the table's row of meta.reconciliation balances (every raw row is
    staged, and is in the table, superseded, repeated or rejected), and every distinct key of raw
    is in the table or rejected. Returns that row when it does not. The row is computed here from
    the table's own inputs (`raw`, `staged`, `rejects`), by the macro that makes the view. For an
    incremental table whose checks cover its last build (stigg_rows_of_the_last_build), the same
    balance over the keys that build took in.
-#}
{% test stigg_reconciles_with_raw(model, raw, staged, rejects) %}
{#- Only the columns the balance needs: the view computes the others (the split between
    superseded and repeated rows) when someone asks for them. -#}
{%- set relations = {'raw': raw, 'staged': staged, 'documented': model, 'rejects': rejects} -%}
{#- At parse time `model` is not the table yet; the arguments' refs are what dbt records. -#}
{%- if execute %}
select table_name, raw_rows, staged_rows, accounted_rows, distinct_keys, current_rows, rejected_keys
from ({{ stigg_table_reconciliation(
    model.identifier, stigg_rows_of_the_last_build(model.identifier), relations
) }}) as reconciled
where raw_rows != staged_rows
    or raw_rows != accounted_rows
    or distinct_keys != current_rows + rejected_keys
{%- endif %}
{% endtest %}
