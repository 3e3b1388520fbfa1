{#- A documented table: the current row of each key, with exactly the doc's columns, in its order. -#}
{% macro stigg_current_state(model_name) %}
{%- set spec = stigg_tables()[model_name | upper] -%}
select
{%- for column in spec.columns %}
    {{ column.name }}{{ "," if not loop.last }}
{%- endfor %}
from {{ ref('stg_stigg__' ~ model_name) }}
where is_most_recent_record
{% endmacro %}
