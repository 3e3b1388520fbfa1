{#- Post-hook: this table has taken in every landed load of its model. The loads it took in now
    are recorded with one time, so the latest time names the last build's loads
    (stigg_rows_of_the_last_build); a full refresh takes every load in again. -#}
{% macro stigg_record_processed_loads(table_name) %}
{{ return(adapter.dispatch('stigg_record_processed_loads', 'stigg_warehouse')(table_name)) }}
{% endmacro %}

{% macro default__stigg_record_processed_loads(table_name) %}
{{ stigg_unsupported_adapter('stigg_record_processed_loads') }}
{% endmacro %}

{% macro duckdb__stigg_record_processed_loads(table_name) %}
{%- set sources = stigg_load_sources() -%}
{%- set processed_loads = stigg_processed_loads_table() -%}
{%- set consumer = this.schema ~ '.' ~ this.identifier -%}
{%- if should_full_refresh() %}
delete from {{ processed_loads }} where consumer = '{{ consumer }}';
{%- endif %}
insert into {{ processed_loads }}
select distinct '{{ consumer }}', load_id, now()
from {{ sources.landed_files }}
where model = '{{ table_name | lower }}' and status = 'landed'
    and load_id not in (select load_id from {{ processed_loads }} where consumer = '{{ consumer }}');
{% endmacro %}

{#- Spark records no loads (stigg_create_processed_loads). -#}
{% macro spark__stigg_record_processed_loads(table_name) %}{% endmacro %}
