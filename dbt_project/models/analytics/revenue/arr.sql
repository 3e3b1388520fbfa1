{#- Recurring revenue per environment, currency and month: MRR, and ARR as 12 × MRR. -#}
select
    month,
    environment_id,
    currency,
    sum(mrr) as mrr,
    12 * sum(mrr) as arr,
    count(distinct subscription_internal_id) filter (where mrr > 0) as paying_subscriptions,
    count(distinct customer_id) filter (where mrr > 0) as paying_customers
from {{ ref('mrr_monthly') }}
where currency is not null
group by all
