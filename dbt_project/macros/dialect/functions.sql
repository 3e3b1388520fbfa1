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


{#- The non-NULL items of a list of expressions, as a list. -#}
{% macro stigg_non_null_list(expressions) -%}
    {{ return(adapter.dispatch('stigg_non_null_list', 'stigg_warehouse')(expressions)) }}
{%- endmacro %}
{% macro default__stigg_non_null_list(expressions) -%}
    list_filter([{{ expressions | join(', ') }}], item -> item is not null)
{%- endmacro %}


{#- The number of items in a list. -#}
{% macro stigg_list_length(expression) -%}
    {{ return(adapter.dispatch('stigg_list_length', 'stigg_warehouse')(expression)) }}
{%- endmacro %}
{% macro default__stigg_list_length(expression) -%}
    len({{ expression }})
{%- endmacro %}


{#- A list's items joined into one string. -#}
{% macro stigg_list_to_string(expression, separator) -%}
    {{ return(adapter.dispatch('stigg_list_to_string', 'stigg_warehouse')(expression, separator)) }}
{%- endmacro %}
{% macro default__stigg_list_to_string(expression, separator) -%}
    array_to_string({{ expression }}, '{{ separator }}')
{%- endmacro %}


{#- Every match of `pattern` in `expression` replaced (not only the first). -#}
{% macro stigg_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('stigg_replace_all', 'stigg_warehouse')(expression, pattern, replacement)) }}
{%- endmacro %}
{% macro default__stigg_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
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


{#- A string with the characters of `characters` removed from both ends. -#}
{% macro stigg_trim(expression, characters) -%}
    {{ return(adapter.dispatch('stigg_trim', 'stigg_warehouse')(expression, characters)) }}
{%- endmacro %}
{% macro default__stigg_trim(expression, characters) -%}
    trim({{ expression }}, '{{ characters }}')
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
