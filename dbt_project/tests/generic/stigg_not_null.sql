{#- Each of `columns` has a value in every row: one test for all the mandatory columns of a
    model, where a test per column would cost a dbt node and a Dagster check apiece. Returns one
    row per column with NULLs, naming it, with the count. An incremental table's test checks the
    rows of its last build, when the orchestrator asks (stigg_rows_of_the_last_build). -#}
{% test stigg_not_null(model, columns) %}
{%- set rows = stigg_rows_of_the_last_build(model.identifier) %}
select * from (
{%- for column in columns %}
    select '{{ column }}' as column_name, count(*) as null_rows from {{ model }} where {{ column }} is null and {{ rows }}
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
) as null_counts
where null_rows > 0
{% endtest %}
