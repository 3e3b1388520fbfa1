{#-
    Nothing is lost silently: the table's row of meta.reconciliation balances (every raw row is
    staged, and is in the table, superseded, repeated or rejected), and every distinct key of raw
    is in the table or rejected. Returns that row when it does not. For an incremental table whose
    checks cover its last build (stigg_rows_of_the_last_build), the same balance over the keys
    that build took in.
-#}
{% test stigg_reconciles_with_raw(model, reconciliation) %}
{#- Only the columns the balance needs: the view computes the others (the split between
    superseded and repeated rows) when someone asks for them. -#}
{%- set rows = stigg_rows_of_the_last_build(model.identifier) -%}
select table_name, raw_rows, staged_rows, accounted_rows, distinct_keys, current_rows, rejected_keys
from {% if rows == 'true' %}{{ reconciliation }}{% else %}({{ stigg_table_reconciliation(model.identifier, rows) }}){% endif %} as reconciled
where table_name = '{{ model.identifier }}'
    and (
        raw_rows != staged_rows
        or raw_rows != accounted_rows
        or distinct_keys != current_rows + rejected_keys
    )
{% endtest %}
