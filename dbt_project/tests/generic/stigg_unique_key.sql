{#- The columns together are unique, NULL included: two rows that are both NULL in a column and
    equal in the others are a duplicate (a concatenated key would be NULL and never compared).
    Returns each duplicated key with its count. An incremental table's test checks the keys its
    last build took in, when the orchestrator asks (stigg_rows_of_the_last_build). -#}
{% test stigg_unique_key(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
where {{ stigg_rows_of_the_last_build(model.identifier) }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
