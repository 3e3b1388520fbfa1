{#- How each customer's MRR moved, per currency and month. The rules: doc('mrr_movement_rules'). -#}
with customer_mrr as (

    select environment_id, customer_id, currency, month, sum(mrr) as mrr
    from {{ ref('mrr_monthly') }}
    where currency is not null
    group by all

),

months as (

    -- Up to the month of the latest transfer, so that a churn in it is seen even when no
    -- subscription is left to carry MRR.
    select cast(month_start as date) as month
    from
        (select min(month) as first_month from customer_mrr) as first_month,
        (select max(last_seen_at) as as_of_at from {{ ref('subscription_history') }}) as as_of
        {{ stigg_join_month_series(
            'cast(first_month.first_month as timestamp)',
            "cast(date_trunc('month', as_of.as_of_at) as date)",
            'month_starts',
            'month_start'
        ) }}

),

customer_months as (

    select customers.environment_id, customers.customer_id, customers.currency, months.month
    from (
        select environment_id, customer_id, currency, min(month) as first_month
        from customer_mrr
        group by all
    ) as customers
    inner join months
        on months.month >= customers.first_month

),

filled_months as (

    select customer_months.*, coalesce(customer_mrr.mrr, 0) as mrr
    from customer_months
    left join customer_mrr
        using (environment_id, customer_id, currency, month)

),

compared_with_previous as (

    select
        *,
        coalesce(lag(mrr) over (
            partition by environment_id, customer_id, currency order by month
        ), 0) as opening_mrr,
        coalesce(max(mrr) over (
            partition by environment_id, customer_id, currency order by month
            rows between unbounded preceding and 1 preceding
        ), 0) > 0 as had_mrr_before
    from filled_months

)

select
    month,
    environment_id,
    customer_id,
    currency,
    case
        when opening_mrr = 0 and mrr > 0 and not had_mrr_before then 'new'
        when opening_mrr = 0 and mrr > 0 then 'reactivation'
        when opening_mrr > 0 and mrr = 0 then 'churn'
        when mrr > opening_mrr then 'expansion'
        when mrr < opening_mrr then 'contraction'
        else 'unchanged'
    end as movement_type,
    cast(opening_mrr as decimal(38, 10)) as opening_mrr,
    cast(mrr - opening_mrr as decimal(38, 10)) as mrr_change,
    cast(mrr as decimal(38, 10)) as closing_mrr
from compared_with_previous
where opening_mrr > 0 or mrr > 0
