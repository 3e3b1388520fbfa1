{#- A month series joined to the FROM clause before it: one row per month from `start` to
    `end` (timestamps, or a date for `end`), as `alias.column`. It starts with its own comma on
    DuckDB (`from x, unnest(...)`); Spark writes it as a LATERAL VIEW. -#}
{% macro stigg_join_month_series(start, end, alias, column) -%}
    {{ return(adapter.dispatch('stigg_join_month_series', 'stigg_warehouse')(start, end, alias, column)) }}
{%- endmacro %}

{% macro default__stigg_join_month_series(start, end, alias, column) -%}
    {{ stigg_unsupported_adapter('stigg_join_month_series') }}
{%- endmacro %}

{% macro duckdb__stigg_join_month_series(start, end, alias, column) -%}
    , unnest(generate_series({{ start }}, {{ end }}, interval 1 month)) as {{ alias }}({{ column }})
{%- endmacro %}

{% macro spark__stigg_join_month_series(start, end, alias, column) -%}
    lateral view explode(sequence(cast({{ start }} as timestamp), cast({{ end }} as timestamp), interval 1 month)) {{ alias }} as {{ column }}
{%- endmacro %}
