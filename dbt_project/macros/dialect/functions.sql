{#-
    SQL that DuckDB and Spark write differently, one macro each (adapter.dispatch): the default__
    version is DuckDB's; spark__ versions stand beside them.
-#}

{#- Several values as one comparable value (a composite key). -#}
{% macro stigg_row_value(expressions) -%}
    {{ return(adapter.dispatch('stigg_row_value', 'stigg_warehouse')(expressions)) }}
{%- endmacro %}
{% macro default__stigg_row_value(expressions) -%}
    row({{ expressions | join(', ') }})
{%- endmacro %}
{% macro spark__stigg_row_value(expressions) -%}
    struct({{ expressions | join(', ') }})
{%- endmacro %}


{#- The non-NULL items of a list of expressions, as a list. -#}
{% macro stigg_non_null_list(expressions) -%}
    {{ return(adapter.dispatch('stigg_non_null_list', 'stigg_warehouse')(expressions)) }}
{%- endmacro %}
{% macro default__stigg_non_null_list(expressions) -%}
    list_filter([{{ expressions | join(', ') }}], item -> item is not null)
{%- endmacro %}
{% macro spark__stigg_non_null_list(expressions) -%}
    filter(array({{ expressions | join(', ') }}), item -> item is not null)
{%- endmacro %}


{#- The number of items in a list. -#}
{% macro stigg_list_length(expression) -%}
    {{ return(adapter.dispatch('stigg_list_length', 'stigg_warehouse')(expression)) }}
{%- endmacro %}
{% macro default__stigg_list_length(expression) -%}
    len({{ expression }})
{%- endmacro %}
{% macro spark__stigg_list_length(expression) -%}
    size({{ expression }})
{%- endmacro %}


{#- A list's items joined into one string. -#}
{% macro stigg_list_to_string(expression, separator) -%}
    {{ return(adapter.dispatch('stigg_list_to_string', 'stigg_warehouse')(expression, separator)) }}
{%- endmacro %}
{% macro default__stigg_list_to_string(expression, separator) -%}
    array_to_string({{ expression }}, '{{ separator }}')
{%- endmacro %}
{% macro spark__stigg_list_to_string(expression, separator) -%}
    array_join({{ expression }}, '{{ separator }}')
{%- endmacro %}


{#- Every match of `pattern` in `expression` replaced (not only the first). -#}
{% macro stigg_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('stigg_replace_all', 'stigg_warehouse')(expression, pattern, replacement)) }}
{%- endmacro %}
{% macro default__stigg_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}
{% macro spark__stigg_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}')
{%- endmacro %}


{#- The MD5 of a string, as hex. -#}
{% macro stigg_md5(expression) -%}
    {{ return(adapter.dispatch('stigg_md5', 'stigg_warehouse')(expression)) }}
{%- endmacro %}
{% macro default__stigg_md5(expression) -%}
    md5({{ expression }})
{%- endmacro %}


{#- The join keywords of a semi join and an anti join. -#}
{% macro stigg_semi_join() -%}
    {{ return(adapter.dispatch('stigg_semi_join', 'stigg_warehouse')()) }}
{%- endmacro %}
{% macro default__stigg_semi_join() -%}
    semi join
{%- endmacro %}
{% macro stigg_anti_join() -%}
    {{ return(adapter.dispatch('stigg_anti_join', 'stigg_warehouse')()) }}
{%- endmacro %}
{% macro default__stigg_anti_join() -%}
    anti join
{%- endmacro %}
{% macro spark__stigg_semi_join() -%}
    left semi join
{%- endmacro %}
{% macro spark__stigg_anti_join() -%}
    left anti join
{%- endmacro %}


{#- A string with the characters of `characters` removed from both ends. -#}
{% macro stigg_trim(expression, characters) -%}
    {{ return(adapter.dispatch('stigg_trim', 'stigg_warehouse')(expression, characters)) }}
{%- endmacro %}
{% macro default__stigg_trim(expression, characters) -%}
    trim({{ expression }}, '{{ characters }}')
{%- endmacro %}
{% macro spark__stigg_trim(expression, characters) -%}
    trim(both '{{ characters }}' from {{ expression }})
{%- endmacro %}


{#- A CTE's keyword between its name and its query, so that a CTE that several parts of a query
    read is inlined into each (its filters pushed down) instead of held in memory once whole. -#}
{% macro stigg_inlined_cte() -%}
    {{ return(adapter.dispatch('stigg_inlined_cte', 'stigg_warehouse')()) }}
{%- endmacro %}
{% macro default__stigg_inlined_cte() -%}
    as
{%- endmacro %}
{% macro duckdb__stigg_inlined_cte() -%}
    as not materialized
{%- endmacro %}


{#- A value as text, the same on every engine: the canonical text of a row (stigg_row_hash).
    Timestamps are written in UTC with microseconds; other types as their cast to text, which
    both engines write alike for strings, whole numbers, decimal(38,10) and booleans. -#}
{% macro stigg_canonical_text(expression, type_key) -%}
    {{ return(adapter.dispatch('stigg_canonical_text', 'stigg_warehouse')(expression, type_key)) }}
{%- endmacro %}
{% macro default__stigg_canonical_text(expression, type_key) -%}
    {%- if type_key == 'TIMESTAMP_TZ' -%}
        strftime({{ expression }}, '%Y-%m-%d %H:%M:%S.%f')
    {%- else -%}
        cast({{ expression }} as varchar)
    {%- endif -%}
{%- endmacro %}
{% macro spark__stigg_canonical_text(expression, type_key) -%}
    {%- if type_key == 'TIMESTAMP_TZ' -%}
        date_format({{ expression }}, 'yyyy-MM-dd HH:mm:ss.SSSSSS')
    {%- else -%}
        cast({{ expression }} as string)
    {%- endif -%}
{%- endmacro %}


{#- The seconds from one timestamp to another (fractional seconds dropped). -#}
{% macro stigg_seconds_between(start, end) -%}
    {{ return(adapter.dispatch('stigg_seconds_between', 'stigg_warehouse')(start, end)) }}
{%- endmacro %}
{% macro default__stigg_seconds_between(start, end) -%}
    date_diff('second', {{ start }}, {{ end }})
{%- endmacro %}
{% macro spark__stigg_seconds_between(start, end) -%}
    timestampdiff(SECOND, {{ start }}, {{ end }})
{%- endmacro %}


{#- A month series joined to the FROM clause before it: one row per month from `start` to
    `end` (timestamps, or a date for `end`), as `alias.column`. It starts with its own comma on
    DuckDB (`from x, unnest(...)`); Spark writes it as a LATERAL VIEW. -#}
{% macro stigg_join_month_series(start, end, alias, column) -%}
    {{ return(adapter.dispatch('stigg_join_month_series', 'stigg_warehouse')(start, end, alias, column)) }}
{%- endmacro %}
{% macro default__stigg_join_month_series(start, end, alias, column) -%}
    , unnest(generate_series({{ start }}, {{ end }}, interval 1 month)) as {{ alias }}({{ column }})
{%- endmacro %}
{% macro spark__stigg_join_month_series(start, end, alias, column) -%}
    lateral view explode(sequence(cast({{ start }} as timestamp), cast({{ end }} as timestamp), interval 1 month)) {{ alias }} as {{ column }}
{%- endmacro %}


{#- A JSON array of {"amount", "currency"} objects, parsed. -#}
{% macro stigg_parse_amounts(expression) -%}
    {{ return(adapter.dispatch('stigg_parse_amounts', 'stigg_warehouse')(expression)) }}
{%- endmacro %}
{% macro default__stigg_parse_amounts(expression) -%}
    from_json({{ expression }}, '[{"amount": "DECIMAL(38,10)", "currency": "VARCHAR"}]')
{%- endmacro %}
{% macro spark__stigg_parse_amounts(expression) -%}
    from_json({{ expression }}, 'array<struct<amount: decimal(38,10), currency: string>>')
{%- endmacro %}


{#- The items of a list for which `predicate` (a lambda: `item -> ...`) holds. -#}
{% macro stigg_list_filter(expression, predicate) -%}
    {{ return(adapter.dispatch('stigg_list_filter', 'stigg_warehouse')(expression, predicate)) }}
{%- endmacro %}
{% macro default__stigg_list_filter(expression, predicate) -%}
    list_filter({{ expression }}, {{ predicate }})
{%- endmacro %}
{% macro spark__stigg_list_filter(expression, predicate) -%}
    filter({{ expression }}, {{ predicate }})
{%- endmacro %}


{#- The first item of a list (NULL when it is empty). -#}
{% macro stigg_first_item(expression) -%}
    {{ return(adapter.dispatch('stigg_first_item', 'stigg_warehouse')(expression)) }}
{%- endmacro %}
{% macro default__stigg_first_item(expression) -%}
    ({{ expression }})[1]
{%- endmacro %}
{% macro spark__stigg_first_item(expression) -%}
    try_element_at({{ expression }}, 1)
{%- endmacro %}


{#- The calendar day (UTC) of a timestamp. Spark's session time zone is UTC (profiles.yml and
    every session the orchestrator opens), so its cast is the UTC day. -#}
{% macro stigg_utc_date(expression) -%}
    {{ return(adapter.dispatch('stigg_utc_date', 'stigg_warehouse')(expression)) }}
{%- endmacro %}
{% macro default__stigg_utc_date(expression) -%}
    cast(timezone('UTC', {{ expression }}) as date)
{%- endmacro %}
{% macro spark__stigg_utc_date(expression) -%}
    cast({{ expression }} as date)
{%- endmacro %}
