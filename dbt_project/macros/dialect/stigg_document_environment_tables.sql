{#- The comments of the per-environment tables built ({table name: environment id}) and of the
    view over them, from the contract's descriptions. -#}
{% macro stigg_document_environment_tables(view, table, environments) -%}
    {{ return(adapter.dispatch('stigg_document_environment_tables', 'stigg_warehouse')(view, table, environments)) }}
{%- endmacro %}

{% macro default__stigg_document_environment_tables(view, table, environments) -%}
    {{ stigg_unsupported_adapter('stigg_document_environment_tables') }}
{%- endmacro %}

{% macro duckdb__stigg_document_environment_tables(view, table, environments) -%}
    {%- for table_name, environment_id in environments | dictsort -%}
        {%- set relation = api.Relation.create(schema=view.schema, identifier=table_name, type='table') -%}
        {%- set docs -%}
    comment on table {{ relation }} is {{ stigg_string_literal(stigg_environment_table_comment(environment_id)) }};
    {%- for column in table.columns %}
    comment on column {{ relation }}.{{ column.name }} is {{ stigg_string_literal(column.description) }};
    {%- endfor %}
        {%- endset -%}
        {%- do run_query(docs) -%}
    {%- endfor -%}
    {%- do persist_docs(view, model) -%}
{%- endmacro %}

{#- Spark's tables took their comments in their CREATE TABLE (stigg_create_environment_table). -#}
{% macro spark__stigg_document_environment_tables(view, table, environments) -%}
{%- endmacro %}
