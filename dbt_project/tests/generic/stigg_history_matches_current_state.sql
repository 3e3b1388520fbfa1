{#-
    A history's current states are exactly the documented table's rows: the same keys, none
    missing, none extra. Returns each key that is on one side only.
-#}
{% test stigg_history_matches_current_state(model, current, key) %}
{%- set key_columns = key | join(', ') -%}
with history_current as (
    select {{ key_columns }} from {{ model }} where is_current
),
documented as (
    select {{ key_columns }} from {{ current }}
),
only_in_history as (
    select *, 'current in the history, not in the documented table' as mismatch
    from (select * from history_current except all select * from documented)
),
only_documented as (
    select *, 'in the documented table, not current in the history' as mismatch
    from (select * from documented except all select * from history_current)
)
select * from only_in_history
union all
select * from only_documented
{% endtest %}
