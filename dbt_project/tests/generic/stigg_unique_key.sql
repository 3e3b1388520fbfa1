{#- The columns together are unique, NULL included: two rows that are both NULL in a column and
    equal in the others are a duplicate (a concatenated key would be NULL and never compared).
    Returns each duplicated key with its count. -#}
{% test stigg_unique_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
