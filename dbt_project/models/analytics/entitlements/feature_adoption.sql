{#- Which features the customers on each plan are entitled to, and which they use. -#}
with plan_customers as (

    -- Customers on a live subscription to the plan (a customer on two plans counts on both).
    select distinct ENVIRONMENT_ID as environment_id, PLAN_ID as plan_id, CUSTOMER_ID as customer_id
    from {{ ref('SUBSCRIPTIONS') }}
    where STATUS in ('ACTIVE', 'IN_TRIAL')

),

customer_features as (

    select
        environment_id,
        customer_id,
        feature_id,
        sum(current_usage) as current_usage
    from {{ ref('entitlement_utilization') }}
    group by all

),

plan_sizes as (

    select environment_id, plan_id, count(*) as plan_customers
    from plan_customers
    group by all

)

select
    plan_customers.environment_id,
    plan_customers.plan_id,
    customer_features.feature_id,
    features.DISPLAY_NAME as feature_name,
    features.FEATURE_TYPE as feature_type,
    plan_sizes.plan_customers,
    count(*) as entitled_customers,
    count(*) filter (where customer_features.current_usage > 0) as using_customers,
    cast(
        count(*) filter (where customer_features.current_usage > 0) / plan_sizes.plan_customers
        as decimal(9, 4)
    ) as adoption_rate,
    coalesce(sum(customer_features.current_usage), 0) as total_current_usage
from plan_customers
inner join customer_features
    using (environment_id, customer_id)
inner join plan_sizes
    using (environment_id, plan_id)
left join {{ ref('FEATURES') }} as features
    on features.ENVIRONMENT_ID = customer_features.environment_id
    and features.{{ stigg_parent_key('ENTITLEMENTS', 'FEATURE_ID') }} = customer_features.feature_id
group by 1, 2, 3, 4, 5, 6
