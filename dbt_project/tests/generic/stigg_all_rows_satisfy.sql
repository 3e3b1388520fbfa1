{#- Every row satisfies `expression` (SQL over the model's columns). Returns the rows that do not. -#}
{% test stigg_all_rows_satisfy(model, expression) %}
select * from {{ model }} where not coalesce(({{ expression }}), false)
{% endtest %}
