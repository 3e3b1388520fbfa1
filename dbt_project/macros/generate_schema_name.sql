{#- Schemas are named exactly as configured (raw, staging, stigg, analytics), not prefixed by the
    target's. On Spark a run builds into a build slot (var stigg_build_slot: `<schema>__a` or
    `<schema>__b`) and publishing points the views of `<schema>` at it
    (orchestration/runtime/engines/spark.py); dbt alone, without the var, builds `<schema>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set schema = custom_schema_name if custom_schema_name is not none else target.schema -%}
    {%- set slot = var('stigg_build_slot', none) -%}
    {{ schema ~ '__' ~ slot if slot and target.type == 'spark' else schema }}
{%- endmacro %}
