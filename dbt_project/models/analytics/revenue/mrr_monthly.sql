{#- MRR per subscription, currency and month. The rules: {{ doc('mrr_assumptions') }} in docs. -#}
{%- set subscription_key = stigg_parent_key('SUBSCRIPTION_PRICES', 'SUBSCRIPTION_ID') -%}

with subscription_states as (

    select * from {{ ref('subscription_history') }}

),

months as (

    -- From the first month the export knows of to the month of its latest transfer. A month is
    -- measured at its last instant, or at the latest transfer while it is still running.
    select
        cast(month_start as date) as month,
        least(month_start + interval 1 month - interval 1 microsecond, as_of.as_of_at) as measured_at
    from (
        select min(valid_from) as first_at, max(last_seen_at) as as_of_at from subscription_states
    ) as as_of
    {{ stigg_join_month_series("date_trunc('month', as_of.first_at)", 'as_of.as_of_at', 'month_starts', 'month_start') }}

),

active_subscriptions as (

    select
        months.month,
        months.measured_at,
        subscription_states.*
    from months
    inner join subscription_states
        on {{ stigg_state_valid_at('subscription_states', 'months.measured_at') }}
    where subscription_states.STATUS = 'ACTIVE'
        and (subscription_states.END_DATE is null or subscription_states.END_DATE > months.measured_at)

),

plan_packages as (

    -- A price's PACKAGE_ID names a plan version by its ID or by its PLAN_ID.
    select ENVIRONMENT_ID, ID as package_id, PLAN_ID from {{ ref('PLANS') }}
    union
    select ENVIRONMENT_ID, PLAN_ID as package_id, PLAN_ID from {{ ref('PLANS') }}

),

addon_packages as (

    select ENVIRONMENT_ID, ID as package_id from {{ ref('ADDONS') }}
    union
    select ENVIRONMENT_ID, ADDON_ID as package_id from {{ ref('ADDONS') }}

),

monthly_prices as (

    select
        prices.*,
        case prices.BILLING_PERIOD when 'ANNUALLY' then prices.PRICE_AMOUNT / 12 else prices.PRICE_AMOUNT end
            as monthly_amount,
        plan_packages.PLAN_ID as package_plan_id,
        addon_packages.package_id is not null as is_addon_price
    from {{ ref('PRICES') }} as prices
    left join plan_packages
        on prices.ENVIRONMENT_ID = plan_packages.ENVIRONMENT_ID
        and prices.PACKAGE_ID = plan_packages.package_id
    left join addon_packages
        on prices.ENVIRONMENT_ID = addon_packages.ENVIRONMENT_ID
        and prices.PACKAGE_ID = addon_packages.package_id

),

plan_lines as (

    select
        active_subscriptions.month,
        active_subscriptions.ID as subscription_internal_id,
        prices.PRICE_CURRENCY as currency,
        prices.BILLING_PERIOD as billing_period,
        case coalesce(prices.BILLING_MODEL, lines.BILLING_MODEL)
            when 'FLAT_FEE' then prices.monthly_amount
            when 'PER_UNIT' then prices.monthly_amount * coalesce(lines.USAGE_LIMIT, prices.MIN_UNIT_QUANTITY, 1)
            when 'USAGE_BASED' then 0
        end as line_mrr,
        coalesce(prices.BILLING_MODEL, lines.BILLING_MODEL) = 'USAGE_BASED' as is_usage_based
    from active_subscriptions
    inner join {{ ref('SUBSCRIPTION_PRICES') }} as lines
        on lines.ENVIRONMENT_ID = active_subscriptions.ENVIRONMENT_ID
        and lines.SUBSCRIPTION_ID = active_subscriptions.{{ subscription_key }}
        and lines.CREATED_AT <= active_subscriptions.measured_at
    left join monthly_prices as prices
        on prices.ENVIRONMENT_ID = lines.ENVIRONMENT_ID
        and prices.{{ stigg_parent_key('SUBSCRIPTION_PRICES', 'PRICE_ID') }} = lines.PRICE_ID
    where not coalesce(prices.is_addon_price, false)
        and (prices.package_plan_id is null or prices.package_plan_id = active_subscriptions.PLAN_ID)

),

addon_lines as (

    select
        active_subscriptions.month,
        active_subscriptions.ID as subscription_internal_id,
        prices.PRICE_CURRENCY as currency,
        prices.monthly_amount * addons.QUANTITY as line_mrr
    from active_subscriptions
    inner join {{ ref('subscription_addon_history') }} as addons
        on addons.ENVIRONMENT_ID = active_subscriptions.ENVIRONMENT_ID
        and addons.SUBSCRIPTION_ID = active_subscriptions.{{ stigg_parent_key('SUBSCRIPTION_ADDONS', 'SUBSCRIPTION_ID') }}
        and {{ stigg_state_valid_at('addons', 'active_subscriptions.measured_at') }}
    left join monthly_prices as prices
        on prices.ENVIRONMENT_ID = addons.ENVIRONMENT_ID
        and prices.{{ stigg_parent_key('SUBSCRIPTION_ADDONS', 'PRICE_ID') }} = addons.PRICE_ID

),

gross_by_currency as (

    select
        month,
        subscription_internal_id,
        currency,
        coalesce(sum(line_mrr) filter (where is_plan_line), 0) as plan_mrr,
        coalesce(sum(line_mrr) filter (where not is_plan_line), 0) as addon_mrr,
        count(*) filter (where is_plan_line and is_usage_based) as usage_based_lines,
        count(*) filter (where line_mrr is null) as unpriced_lines,
        bool_or(billing_period = 'ANNUALLY') filter (where is_plan_line) as is_billed_annually
    from (
        select month, subscription_internal_id, currency, billing_period, line_mrr, is_usage_based, true as is_plan_line
        from plan_lines
        union all
        select month, subscription_internal_id, currency, null, line_mrr, false, false
        from addon_lines
    ) as lines
    group by all

),

active_coupons as (

    select
        active_subscriptions.month,
        active_subscriptions.ID as subscription_internal_id,
        coupons.TYPE,
        coalesce(coupons.PERCENT_OFF, case when coupons.TYPE = 'PERCENTAGE' then coupons.DISCOUNT_VALUE end)
            as percent_off,
        coupons.AMOUNTS_OFF,
        case when coupons.TYPE = 'FIXED' then coupons.DISCOUNT_VALUE end as fixed_discount_value
    from active_subscriptions
    inner join {{ ref('subscription_coupon_history') }} as applied
        on applied.ENVIRONMENT_ID = active_subscriptions.ENVIRONMENT_ID
        and applied.SUBSCRIPTION_ID = active_subscriptions.{{ stigg_parent_key('SUBSCRIPTION_APPLIED_COUPONS', 'SUBSCRIPTION_ID') }}
        and {{ stigg_state_valid_at('applied', 'active_subscriptions.measured_at') }}
        and applied.STATUS = 'ACTIVE'
    inner join {{ ref('COUPONS') }} as coupons
        on coupons.ENVIRONMENT_ID = applied.ENVIRONMENT_ID
        and coupons.{{ stigg_parent_key('SUBSCRIPTION_APPLIED_COUPONS', 'COUPON_ID') }} = applied.COUPON_ID

),

discounts as (

    select
        gross_by_currency.month,
        gross_by_currency.subscription_internal_id,
        gross_by_currency.currency,
        least(coalesce(sum(active_coupons.percent_off), 0), 100) as percent_off,
        coalesce(sum(
            coalesce(
                {{ stigg_first_item(stigg_list_filter(
                    stigg_parse_amounts('active_coupons.AMOUNTS_OFF'),
                    'amount_off -> amount_off.currency = gross_by_currency.currency'
                )) }}.amount,
                active_coupons.fixed_discount_value
            )
        ) filter (where active_coupons.TYPE = 'FIXED'), 0) as fixed_off_per_period
    from gross_by_currency
    inner join active_coupons
        using (month, subscription_internal_id)
    group by all

),

priced as (

    select
        gross_by_currency.*,
        (gross_by_currency.plan_mrr + gross_by_currency.addon_mrr)
            * coalesce(discounts.percent_off, 0) / 100
        + coalesce(discounts.fixed_off_per_period, 0)
            / case when coalesce(gross_by_currency.is_billed_annually, false) then 12 else 1 end
            as uncapped_discount
    from gross_by_currency
    left join discounts
        using (month, subscription_internal_id, currency)

),

rounded as (

    -- Amounts are stored with 10 decimals. The discount never exceeds the gross amount, and
    -- MRR is gross minus discount on the stored values, so the identities hold exactly.
    select
        active_subscriptions.*,
        priced.currency,
        cast(coalesce(priced.plan_mrr, 0) as decimal(38, 10)) as plan_mrr,
        cast(coalesce(priced.addon_mrr, 0) as decimal(38, 10)) as addon_mrr,
        cast(coalesce(priced.uncapped_discount, 0) as decimal(38, 10)) as uncapped_discount,
        coalesce(priced.usage_based_lines, 0) as usage_based_lines,
        coalesce(priced.unpriced_lines, 0) as unpriced_lines
    from active_subscriptions
    left join priced
        on priced.month = active_subscriptions.month
        and priced.subscription_internal_id = active_subscriptions.ID

),

discounted as (

    select
        *,
        least(uncapped_discount, plan_mrr + addon_mrr) as discount_mrr
    from rounded

)

select
    month,
    ENVIRONMENT_ID as environment_id,
    ID as subscription_internal_id,
    SUBSCRIPTION_ID as subscription_id,
    CUSTOMER_ID as customer_id,
    PLAN_ID as plan_id,
    currency,
    plan_mrr,
    addon_mrr,
    discount_mrr,
    plan_mrr + addon_mrr - discount_mrr as mrr,
    12 * (plan_mrr + addon_mrr - discount_mrr) as arr,
    usage_based_lines,
    unpriced_lines,
    measured_at
from discounted
