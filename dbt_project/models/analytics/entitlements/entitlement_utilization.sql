{#- Current usage against the limit, per customer, resource and feature. The rules: doc('utilization_rules'). -#}
with from_entitlements as (

    select
        ENVIRONMENT_ID as environment_id,
        CUSTOMER_ID as customer_id,
        RESOURCE_ID as resource_id,
        FEATURE_ID as feature_id,
        'ENTITLEMENTS' as computed_from,
        CURRENT_USAGE as current_usage,
        USAGE_LIMIT as usage_limit,
        coalesce(HAS_UNLIMITED_USAGE, false) as is_unlimited,
        USAGE_PERIOD_START as usage_period_start,
        USAGE_PERIOD_END as usage_period_end
    from {{ ref('ENTITLEMENTS') }}
    where not IS_DELETED

),

environments_with_entitlements as (

    select distinct ENVIRONMENT_ID as environment_id from {{ ref('ENTITLEMENTS') }}

),

-- Where an environment has no ENTITLEMENTS rows: limits from the packages of the customer's
-- live subscriptions and from active promotional entitlements; usage from USAGE_MEASUREMENTS.
live_subscriptions as (

    select * from {{ ref('SUBSCRIPTIONS') }}
    where STATUS in ('ACTIVE', 'IN_TRIAL')

),

latest_plan_versions as (

    select * from (
        select
            *,
            row_number() over (
                partition by ENVIRONMENT_ID, PLAN_ID order by VERSION_NUMBER desc nulls last, UPDATED_AT desc
            ) as version_rank
        from {{ ref('PLANS') }}
    ) as ranked_versions
    where version_rank = 1

),

latest_addon_versions as (

    select * from (
        select
            *,
            row_number() over (
                partition by ENVIRONMENT_ID, ADDON_ID order by VERSION_NUMBER desc nulls last, UPDATED_AT desc
            ) as version_rank
        from {{ ref('ADDONS') }}
    ) as ranked_versions
    where version_rank = 1

),

-- PACKAGE_ENTITLEMENTS.PACKAGE_ID names a package by its ID or by its PLAN_ID / ADDON_ID: one
-- row per name (a package whose two are equal has one), so that grants join on equality.
plan_package_names as (

    select ENVIRONMENT_ID, ID, PLAN_ID, ID as package_name from latest_plan_versions
    union
    select ENVIRONMENT_ID, ID, PLAN_ID, PLAN_ID from latest_plan_versions

),

addon_package_names as (

    select ENVIRONMENT_ID, ID, ADDON_ID, ID as package_name from latest_addon_versions
    union
    select ENVIRONMENT_ID, ID, ADDON_ID, ADDON_ID from latest_addon_versions

),

package_grants as (

    -- The plan's entitlements, once per live subscription on it.
    select
        subscriptions.ENVIRONMENT_ID as environment_id,
        subscriptions.CUSTOMER_ID as customer_id,
        subscriptions.RESOURCE_ID as resource_id,
        grants.FEATURE_ID as feature_id,
        grants.USAGE_LIMIT as usage_limit,
        coalesce(grants.HAS_UNLIMITED_USAGE, false) as is_unlimited,
        'PLAN' as grant_source
    from live_subscriptions as subscriptions
    inner join plan_package_names as plans
        on plans.ENVIRONMENT_ID = subscriptions.ENVIRONMENT_ID
        and plans.{{ stigg_parent_key('SUBSCRIPTIONS', 'PLAN_ID') }} = subscriptions.PLAN_ID
    inner join {{ ref('PACKAGE_ENTITLEMENTS') }} as grants
        on grants.ENVIRONMENT_ID = plans.ENVIRONMENT_ID
        and grants.PACKAGE_ID = plans.package_name

    union all

    -- An add-on's entitlements, times the quantity bought.
    select
        subscriptions.ENVIRONMENT_ID,
        subscriptions.CUSTOMER_ID,
        subscriptions.RESOURCE_ID,
        grants.FEATURE_ID,
        grants.USAGE_LIMIT * subscription_addons.QUANTITY,
        coalesce(grants.HAS_UNLIMITED_USAGE, false),
        'ADDON'
    from live_subscriptions as subscriptions
    inner join {{ ref('SUBSCRIPTION_ADDONS') }} as subscription_addons
        on subscription_addons.ENVIRONMENT_ID = subscriptions.ENVIRONMENT_ID
        and subscription_addons.SUBSCRIPTION_ID = subscriptions.{{ stigg_parent_key('SUBSCRIPTION_ADDONS', 'SUBSCRIPTION_ID') }}
    inner join addon_package_names as addons
        on addons.ENVIRONMENT_ID = subscription_addons.ENVIRONMENT_ID
        and addons.{{ stigg_parent_key('SUBSCRIPTION_ADDONS', 'ADDON_ID') }} = subscription_addons.ADDON_ID
    inner join {{ ref('PACKAGE_ENTITLEMENTS') }} as grants
        on grants.ENVIRONMENT_ID = addons.ENVIRONMENT_ID
        and grants.PACKAGE_ID = addons.package_name

),

promotional_grants as (

    select
        ENVIRONMENT_ID as environment_id,
        CUSTOMER_ID as customer_id,
        FEATURE_ID as feature_id,
        max(USAGE_LIMIT) as usage_limit,
        bool_or(coalesce(HAS_UNLIMITED_USAGE, false)) as is_unlimited
    from {{ ref('PROMOTIONAL_ENTITLEMENTS') }}
    where STATUS = 'Active'
    group by all

),

granted_limits as (

    -- Plan and add-on limits add up; a promotional grant counts when it is higher; any
    -- unlimited source makes the feature unlimited.
    select
        coalesce(packages.environment_id, promotions.environment_id) as environment_id,
        coalesce(packages.customer_id, promotions.customer_id) as customer_id,
        packages.resource_id,
        coalesce(packages.feature_id, promotions.feature_id) as feature_id,
        greatest(packages.usage_limit, promotions.usage_limit) as usage_limit,
        coalesce(packages.is_unlimited, false) or coalesce(promotions.is_unlimited, false) as is_unlimited,
        promotions.customer_id is not null as has_promotional_grant
    from (
        select environment_id, customer_id, resource_id, feature_id,
            sum(usage_limit) as usage_limit, bool_or(is_unlimited) as is_unlimited
        from package_grants
        group by all
    ) as packages
    full outer join promotional_grants as promotions
        on promotions.environment_id = packages.environment_id
        and promotions.customer_id = packages.customer_id
        and promotions.feature_id = packages.feature_id

),

latest_measured_periods as (

    -- Usage is the sum of the reported deltas in the latest reset period that has a report
    -- (all of them when the feature does not reset).
    select
        environment_id, customer_id, resource_id, feature_id, usage_period_start, usage_period_end,
        current_usage
    from (
        select
            ENVIRONMENT_ID as environment_id,
            CUSTOMER_ID as customer_id,
            RESOURCE_ID as resource_id,
            FEATURE_ID as feature_id,
            PERIOD_START as usage_period_start,
            PERIOD_END as usage_period_end,
            sum(VALUE) as current_usage,
            row_number() over (
                partition by ENVIRONMENT_ID, CUSTOMER_ID, RESOURCE_ID, FEATURE_ID
                order by PERIOD_START desc nulls last
            ) as period_rank
        from {{ ref('USAGE_MEASUREMENTS') }}
        group by ENVIRONMENT_ID, CUSTOMER_ID, RESOURCE_ID, FEATURE_ID, PERIOD_START, PERIOD_END
    ) as usage_by_period
    where period_rank = 1

),

from_measurements as (

    select
        coalesce(granted_limits.environment_id, measured.environment_id) as environment_id,
        coalesce(granted_limits.customer_id, measured.customer_id) as customer_id,
        coalesce(granted_limits.resource_id, measured.resource_id) as resource_id,
        coalesce(granted_limits.feature_id, measured.feature_id) as feature_id,
        'USAGE_MEASUREMENTS' as computed_from,
        coalesce(measured.current_usage, 0) as current_usage,
        granted_limits.usage_limit,
        coalesce(granted_limits.is_unlimited, false) as is_unlimited,
        measured.usage_period_start,
        measured.usage_period_end
    from granted_limits
    full outer join latest_measured_periods as measured
        on measured.environment_id = granted_limits.environment_id
        and measured.customer_id = granted_limits.customer_id
        and measured.feature_id = granted_limits.feature_id
        and measured.resource_id is not distinct from granted_limits.resource_id

),

all_entitlements as (

    select * from from_entitlements
    union all
    select * from from_measurements
    anti join environments_with_entitlements using (environment_id)

)

select
    *,
    case
        when not is_unlimited and usage_limit > 0 then cast(round(100 * current_usage / usage_limit, 2) as decimal(18, 2))
    end as utilization_pct,
    not is_unlimited and usage_limit is not null and coalesce(current_usage, 0) >= 0.8 * usage_limit
        as is_near_limit,
    not is_unlimited and usage_limit is not null and coalesce(current_usage, 0) >= usage_limit
        as is_at_limit,
    case
        when is_unlimited then 'unlimited'
        when usage_limit is null then 'no limit'
        when coalesce(current_usage, 0) >= usage_limit then '100%+'
        when current_usage >= 0.8 * usage_limit then '80-100%'
        when current_usage >= 0.5 * usage_limit then '50-80%'
        else '0-50%'
    end as utilization_band
from all_entitlements
