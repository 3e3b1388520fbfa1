{#-
    Post-hook of stigg.USAGE_EVENTS: one table per environment, stigg.USAGE_EVENTS_<ENV>, with the
    documented columns and NOT NULL constraints. <ENV> is the environment id with every character
    outside A-Z, a-z, 0-9 and _ replaced by _, in upper case (orchestration.stigg_spec.environment_table_name).
    Environment ids come from data: they reach SQL only as escaped literals and quoted identifiers.
    On an incremental run, an existing table replaces only the events whose keys the run re-ranked.
-#}
{% macro stigg_environment_tables() %}
{%- if not execute -%}{{ return('') }}{%- endif -%}
{%- set spec = stigg_tables()['USAGE_EVENTS'] -%}
{%- set environments = run_query(
    "select ENVIRONMENT_ID, 'USAGE_EVENTS_' || upper(regexp_replace(ENVIRONMENT_ID, '[^A-Za-z0-9_]', '_', 'g')) "
    ~ "from " ~ this ~ " group by all order by 1"
) -%}
{%- set names = {} -%}
{%- for environment_id, table_name in environments.rows -%}
    {%- if table_name in names -%}
        {{ exceptions.raise_compiler_error(
            "Environments " ~ tojson(names[table_name]) ~ " and " ~ tojson(environment_id)
            ~ " both map to table stigg." ~ table_name ~ "; rename one of them in Stigg."
        ) }}
    {%- endif -%}
    {%- do names.update({table_name: environment_id}) -%}
{%- endfor -%}
{%- set existing = run_query(
    "select table_name from information_schema.tables where table_schema = '" ~ this.schema
    ~ "' and table_name like 'USAGE\\_EVENTS\\_%' escape '\\'"
) -%}
{%- for row in existing.rows if row[0] not in names %}
drop table if exists {{ this.schema }}.{{ adapter.quote(row[0]) }};
{%- endfor %}
{%- set existing_names = existing.rows | map(attribute=0) | list -%}
{%- if is_incremental() %}
{#- The keys this run re-ranked, once for every environment's table. #}
create or replace temp table stigg_touched_usage_events as {{ stigg_touched_keys('usage_events') }};
{%- endif %}
{%- for table_name, environment_id in names.items() %}
{%- set relation = this.schema ~ '.' ~ adapter.quote(table_name) %}
{%- set literal = "'" ~ environment_id | replace("'", "''") ~ "'" %}
{%- if is_incremental() and table_name in existing_names %}
{#- The events of the keys this run re-ranked, as stigg.USAGE_EVENTS now has them. #}
delete from {{ relation }} where ID in (select * from stigg_touched_usage_events);
insert into {{ relation }} select * from {{ this }}
where ENVIRONMENT_ID = {{ literal }} and ID in (select * from stigg_touched_usage_events);
{%- else %}
create or replace table {{ relation }} (
    {%- for column in spec.columns %}
    {{ column.name }} {{ column.type }}{{ ' not null' if column.mandatory }}{{ ',' if not loop.last }}
    {%- endfor %}
);
insert into {{ relation }} select * from {{ this }} where ENVIRONMENT_ID = {{ literal }};
comment on table {{ relation }} is '{{ ("Usage events of environment " ~ environment_id) | replace("'", "''") }}';
{%- for column in spec.columns %}
comment on column {{ relation }}.{{ column.name }} is '{{ column.description | replace("'", "''") }}';
{%- endfor %}
{%- endif %}
{%- endfor %}
{% endmacro %}
