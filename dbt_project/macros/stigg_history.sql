{#-
    Every distinct state of each record of one Stigg model, from its raw rows (the staging view):
    - rows are put in the order that staging ranks them (UPDATED_AT, then the transfer, the file
      and the content hash), so the last state is the one the documented table holds;
    - a row that repeats the state before it (an identical repeat, or a later transfer of an
      unchanged record) does not start a new state;
    - valid_from is the state's UPDATED_AT (its transfer time if that cannot be read); valid_to
      is the next state's valid_from, NULL for the last one;
    - a rejected row (it breaks the contract) ends the state before it but is not a state of its
      own, so is_current is true exactly on the records that the documented table holds.
-#}
{% macro stigg_history(model_name) %}
{%- set spec = stigg_tables()[model_name | upper] -%}
{%- set columns = spec.columns | map(attribute='name') | list -%}
{%- set key = spec.key | join(', ') -%}
with staged_rows as (

    select
        {{ columns | join(',\n        ') }},
        coalesce(len(_stigg_rejection_reasons), 0) > 0 as is_rejected,
        coalesce(UPDATED_AT, _stigg_transfer_at) as changed_at,
        _stigg_transfer_at,
        _stigg_source_file,
        md5(cast(row({{ columns | join(', ') }}) as varchar)) as content_hash
    from {{ ref('stg_stigg__' ~ model_name) }}
    where {{ spec.key | join(' is not null and ') }} is not null

),

marked_state_starts as (

    select
        *,
        row(content_hash, is_rejected) is distinct from lag(row(content_hash, is_rejected)) over rows_in_order
            as starts_state
    from staged_rows
    window rows_in_order as (
        partition by {{ key }}
        order by changed_at, _stigg_transfer_at, _stigg_source_file, content_hash
    )

),

numbered_rows as (

    select
        *,
        sum(starts_state::int) over (
            partition by {{ key }}
            order by changed_at, _stigg_transfer_at, _stigg_source_file, content_hash
            rows unbounded preceding
        ) as state_sequence
    from marked_state_starts

),

timed_states as (

    select
        * exclude (starts_state, content_hash),
        lead(changed_at) over (partition by {{ key }} order by state_sequence) as next_changed_at
    from (
        select
            *,
            max(_stigg_transfer_at) over (partition by {{ key }}, state_sequence) as last_seen_at
        from numbered_rows
    ) as seen_rows
    where starts_state

)

select
    {{ columns | join(',\n    ') }},
    row_number() over (partition by {{ key }} order by state_sequence) as state_number,
    changed_at as valid_from,
    next_changed_at as valid_to,
    next_changed_at is null as is_current,
    _stigg_transfer_at as first_seen_at,
    last_seen_at,
    _stigg_source_file as first_seen_in_file
from timed_states
where not is_rejected
{% endmacro %}


{#- The column of the parent table that `table.column` holds (FOREIGN_KEYS_HOLD in the spec). -#}
{% macro stigg_parent_key(table_name, column_name) -%}
    {{ stigg_tables()[table_name]['references'][column_name] }}
{%- endmacro %}


{#- True when the history state `alias` held at `instant`: valid_from <= instant < valid_to. -#}
{% macro stigg_state_valid_at(alias, instant) -%}
    {{ alias }}.valid_from <= {{ instant }}
        and ({{ alias }}.valid_to is null or {{ alias }}.valid_to > {{ instant }})
{%- endmacro %}
