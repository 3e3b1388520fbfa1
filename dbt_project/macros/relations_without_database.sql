{#-
    Relations render as schema.table, without the database. DuckDB 1.5 stores a view's SQL as
    written and names a file's catalog after the file, so a view that said
    "stigg_warehouse.raw.customers" would break in a copy of the warehouse under another name
    (fixed in DuckDB after 1.5: duckdb/duckdb#25603). Without the database, a view resolves in
    whatever file it lives in.
-#}
{% macro ref() %}
    {{ return(builtins.ref(*varargs, **kwargs).include(database=false)) }}
{% endmacro %}

{% macro source(source_name, table_name) %}
    {{ return(builtins.source(source_name, table_name).include(database=false)) }}
{% endmacro %}
