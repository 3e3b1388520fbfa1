{#-
    Every distinct state of each record of one documented table, from its staged raw rows:
    - rows are put in the version order (macros/stigg/versions.sql), so the last state is the one
      the documented table holds;
    - a row that repeats the state before it (an identical repeat, or a later transfer of an
      unchanged record) does not start a new state;
    - valid_from is the state's UPDATED_AT (its transfer time if that cannot be read); valid_to
      is the next state's valid_from, NULL for the last one;
    - a rejected row (it breaks the contract) ends the state before it but is not a state of its
      own, so is_current is true exactly on the records that the documented table holds.
-#}
{% macro stigg_history(table_name) %}
{%- set table = stigg_table(table_name) -%}
{%- set columns = table.columns | map(attribute='name') | list -%}
{%- set key = table.key | join(', ') -%}
with staged_rows as (

    select
        {{ columns | join(',\n        ') }},
        coalesce({{ stigg_list_length('_stigg_rejection_reasons') }}, 0) > 0 as is_rejected,
        coalesce(UPDATED_AT, _stigg_transfer_at) as changed_at,
        _stigg_transfer_at,
        _stigg_source_file,
        {{ stigg_row_hash(table) }} as content_hash
    from {{ ref('stg_stigg__' ~ table_name | lower) }}
    where not {{ stigg_key_is_null(table.key) }}

),

marked_state_starts as (

    select
        *,
        {{ stigg_row_value(['content_hash', 'is_rejected']) }}
            is distinct from lag({{ stigg_row_value(['content_hash', 'is_rejected']) }}) over rows_in_order
            as starts_state
    from staged_rows
    window rows_in_order as (
        partition by {{ key }}
        order by {{ stigg_version_order(table, row_hash='content_hash') }}
    )

),

numbered_rows as (

    select
        *,
        sum(cast(starts_state as int)) over (
            partition by {{ key }}
            order by {{ stigg_version_order(table, row_hash='content_hash') }}
            rows unbounded preceding
        ) as state_sequence
    from marked_state_starts

),

seen_rows as (

    select
        *,
        max(_stigg_transfer_at) over (partition by {{ key }}, state_sequence) as last_seen_at
    from numbered_rows

),

timed_states as (

    select
        {{ columns | join(',\n        ') }},
        is_rejected,
        changed_at,
        _stigg_transfer_at,
        _stigg_source_file,
        state_sequence,
        last_seen_at,
        lead(changed_at) over (partition by {{ key }} order by state_sequence) as next_changed_at
    from seen_rows
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


{#- True when the history state `alias` held at `instant`: valid_from <= instant < valid_to. -#}
{% macro stigg_state_valid_at(alias, instant) -%}
    {{ alias }}.valid_from <= {{ instant }}
        and ({{ alias }}.valid_to is null or {{ alias }}.valid_to > {{ instant }})
{%- endmacro %}
