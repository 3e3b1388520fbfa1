{#-
    Nothing is lost silently: the table's row of meta.reconciliation balances (every raw row is
    staged, and is in the table, superseded, repeated or rejected), and every distinct key of raw
    is in the table or rejected. Returns that row when it does not.
-#}
{% test stigg_reconciles_with_raw(model, reconciliation) %}
{#- Only the columns the balance needs: the view computes the others (the split between
    superseded and repeated rows) when someone asks for them. -#}
select table_name, raw_rows, staged_rows, accounted_rows, distinct_keys, current_rows, rejected_keys
from {{ reconciliation }}
where table_name = '{{ model.identifier }}'
    and (
        raw_rows != staged_rows
        or raw_rows != accounted_rows
        or distinct_keys != current_rows + rejected_keys
    )
{% endtest %}
