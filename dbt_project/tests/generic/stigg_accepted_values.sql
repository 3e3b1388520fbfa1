{#- Each of `columns` ({column: [its accepted values]}) holds one of its values or NULL: one test
    for all the enums of a model, as stigg_not_null is for its mandatory columns. Returns one row
    per column and value outside its list, naming both, with the count. It checks every row on
    every run: an enum's check is one scan of its column. -#}
{% test stigg_accepted_values(model, columns) %}
select * from (
{%- for column, values in columns.items() %}
    select '{{ column }}' as column_name, cast({{ column }} as {{ dbt.type_string() }}) as unexpected_value, count(*) as unexpected_rows
    from {{ model }}
    where {{ column }} not in ({% for value in values %}'{{ value | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %})
    group by {{ column }}
    {{- '\n    union all' if not loop.last }}
{%- endfor %}
) as unexpected_values
{% endtest %}
