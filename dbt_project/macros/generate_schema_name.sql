{#- Schemas are named exactly as configured (raw, staging, stigg, analytics), not prefixed by the target's. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name is not none else target.schema }}
{%- endmacro %}
