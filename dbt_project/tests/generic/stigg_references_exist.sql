{#- Each reference column's values exist in its parent (the doc's implied foreign keys): one
    test for all of a table's references. `references` is a list of {column, parent, field}.
    Returns one row per reference column with values its parent lacks, naming both, with the
    number of rows and an example value. An incremental table's test checks the rows of its last
    build, when the orchestrator asks (stigg_rows_of_the_last_build). -#}
{% test stigg_references_exist(model, references) %}
{%- set rows = stigg_rows_of_the_last_build(model.identifier) %}
select * from (
{%- for reference in references %}
    select
        '{{ reference.column }}' as column_name,
        '{{ reference.parent }}.{{ reference.field }}' as parent_column,
        count(*) as rows_without_parent,
        min(child.{{ reference.column }}) as example_value
    from {{ model }} as child
    where child.{{ reference.column }} is not null and {{ rows }}
        and child.{{ reference.column }} not in (
            select {{ reference.field }} from {{ ref(reference.parent) }}
            where {{ reference.field }} is not null
        )
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
) as missing_parents
where rows_without_parent > 0
{% endtest %}
