{#-
    SQL that engines write differently lives in macros/dialect/, one dispatched macro a file
    (adapter.dispatch): `<macro>` dispatches to `duckdb__<macro>` and `spark__<macro>` where
    they differ, else to `default__<macro>`. A default__ is portable SQL, or dbt's own
    cross-database macro, or, where there is neither, this failure: naming the macro that the
    adapter lacks and the file to add it to.
-#}
{% macro stigg_unsupported_adapter(macro_name) -%}
    {{ exceptions.raise_compiler_error(
        "stigg_warehouse has no " ~ macro_name ~ " for adapter '" ~ adapter.type() ~ "': add a "
        ~ adapter.type() ~ "__" ~ macro_name ~ " macro (dbt_project/macros/dialect/" ~ macro_name ~ ".sql)"
    ) }}
{%- endmacro %}
