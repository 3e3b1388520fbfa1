{#- MRR movements per environment, currency and month: the customer movements, added up. -#}
select
    month,
    environment_id,
    currency,
    sum(opening_mrr) as opening_mrr,
    coalesce(sum(mrr_change) filter (where movement_type = 'new'), 0) as new_mrr,
    coalesce(sum(mrr_change) filter (where movement_type = 'expansion'), 0) as expansion_mrr,
    coalesce(sum(mrr_change) filter (where movement_type = 'contraction'), 0) as contraction_mrr,
    coalesce(sum(mrr_change) filter (where movement_type = 'churn'), 0) as churn_mrr,
    coalesce(sum(mrr_change) filter (where movement_type = 'reactivation'), 0) as reactivation_mrr,
    sum(closing_mrr) as closing_mrr,
    count(*) filter (where opening_mrr > 0) as opening_customers,
    count(*) filter (where movement_type = 'new') as new_customers,
    count(*) filter (where movement_type = 'expansion') as expanded_customers,
    count(*) filter (where movement_type = 'contraction') as contracted_customers,
    count(*) filter (where movement_type = 'churn') as churned_customers,
    count(*) filter (where movement_type = 'reactivation') as reactivated_customers,
    count(*) filter (where closing_mrr > 0) as closing_customers
from {{ ref('mrr_movements_by_customer') }}
group by all
