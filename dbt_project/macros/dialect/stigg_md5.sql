{#- The MD5 of a string, as hex. -#}
{% macro stigg_md5(expression) -%}
    {{ return(adapter.dispatch('stigg_md5', 'stigg_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__stigg_md5(expression) -%}
    {{ dbt.hash(expression) }}
{%- endmacro %}

{#- dbt.hash casts its argument to text first; these engines take the string as it is. -#}
{% macro duckdb__stigg_md5(expression) -%}
    md5({{ expression }})
{%- endmacro %}

{% macro spark__stigg_md5(expression) -%}
    md5({{ expression }})
{%- endmacro %}
