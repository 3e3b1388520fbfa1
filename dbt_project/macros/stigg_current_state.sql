{#-
    A documented table: the current row of each key, with exactly the doc's columns, in its order.
    An incremental table, on an incremental run, ranks only the keys that new loads touched.
-#}
{% macro stigg_current_state(model_name) %}
{%- set spec = stigg_tables()[model_name | upper] -%}
select
{%- for column in spec.columns %}
    {{ column.name }}{{ "," if not loop.last }}
{%- endfor %}
from {% if is_incremental() -%}
    ({{ stigg_staging(model_name, only_touched_keys=true) }}) as touched_versions
{%- else -%}
    {{ ref('stg_stigg__' ~ model_name) }}
{%- endif %}
where is_most_recent_record
    and len(_stigg_rejection_reasons) = 0
{% endmacro %}


{#-
    The rows a documented table refused: a key's current row that breaks the contract, or a row
    with no key. It ranks only the keys that have a rejected row (and, incrementally, only those
    that new loads touched), so a clean export costs a scan, not a sort.
-#}
{% macro stigg_rejects(model_name) %}
{%- set spec = stigg_tables()[model_name | upper] -%}
select
{%- for key in spec.key %}
    {{ key }},
{%- endfor %}
    array_to_string(_stigg_rejection_reasons, '; ') as rejection_reason,
    _stigg_source_file,
    _stigg_transfer_at,
    _stigg_load_id
from ({{ stigg_staging(model_name, only_touched_keys=is_incremental(), only_rejected_keys=true) }}) as versions
where len(_stigg_rejection_reasons) > 0
    and (is_most_recent_record or {{ spec.key | join(' is null or ') }} is null)
-- depends_on: {{ ref('stg_stigg__' ~ model_name) }}
{% endmacro %}
