{#- How trials convert, per environment, trial start month and plan. The rules: doc('trial_rules'). -#}
with subscription_states as (

    select * from {{ ref('subscription_history') }}

),

trials as (

    select
        ENVIRONMENT_ID as environment_id,
        ID as subscription_internal_id,
        min_by(PLAN_ID, valid_from) filter (where STATUS = 'IN_TRIAL') as trial_plan_id,
        min_by(PLAN_ID, valid_from) as first_plan_id,
        min_by(START_DATE, valid_from) as trial_started_at,
        min(valid_from) filter (where STATUS = 'ACTIVE') as converted_at,
        bool_or(STATUS = 'IN_TRIAL' and is_current) as is_still_in_trial
    from subscription_states
    group by all
    having bool_or(STATUS = 'IN_TRIAL') or bool_or(TRIAL_END_DATE is not null)

)

select
    environment_id,
    cast(date_trunc('month', trial_started_at) as date) as cohort_month,
    coalesce(trial_plan_id, first_plan_id) as plan_id,
    count(*) as trials_started,
    count(*) filter (where converted_at is not null) as converted,
    count(*) filter (where converted_at is null and not is_still_in_trial) as not_converted,
    count(*) filter (where converted_at is null and is_still_in_trial) as still_in_trial,
    cast(
        count(*) filter (where converted_at is not null)
        / nullif(count(*) filter (where converted_at is not null or not is_still_in_trial), 0)
        as decimal(9, 4)
    ) as conversion_rate,
    cast(
        avg({{ stigg_seconds_between('trial_started_at', 'converted_at') }} / 86400.0)
        as decimal(18, 2)
    ) as avg_days_to_convert
from trials
group by all
