{#-
    MRR movements add up, three ways. Returns every row where one does not hold:
    - opening + new + expansion + contraction + churn + reactivation = closing;
    - a month's opening is the month before's closing (0 if there was none);
    - a month's closing is the MRR that `mrr` (mrr_monthly) holds for it, and no month with
      MRR is missing.
-#}
{% test stigg_mrr_movements_reconcile(model, mrr) %}
with movements as (
    select * from {{ model }}
),
mrr_totals as (
    select month, environment_id, currency, sum(mrr) as mrr
    from {{ mrr }}
    where currency is not null
    group by all
),
checked as (
    select
        movements.month,
        movements.environment_id,
        movements.currency,
        movements.opening_mrr,
        movements.new_mrr + movements.expansion_mrr + movements.contraction_mrr
            + movements.churn_mrr + movements.reactivation_mrr as net_movement,
        movements.closing_mrr,
        coalesce(previous.closing_mrr, 0) as previous_closing_mrr,
        coalesce(mrr_totals.mrr, 0) as mrr_of_month
    from movements
    left join movements as previous
        on previous.environment_id = movements.environment_id
        and previous.currency = movements.currency
        and previous.month = movements.month - interval 1 month
    left join mrr_totals
        on mrr_totals.environment_id = movements.environment_id
        and mrr_totals.currency = movements.currency
        and mrr_totals.month = movements.month
)
select
    *,
    case
        when opening_mrr + net_movement != closing_mrr then 'opening + movements != closing'
        when opening_mrr != previous_closing_mrr then 'opening != the previous month''s closing'
        else 'closing != the month''s MRR in mrr_monthly'
    end as mismatch
from checked
where opening_mrr + net_movement != closing_mrr
    or opening_mrr != previous_closing_mrr
    or closing_mrr != mrr_of_month
union all
select
    mrr_totals.month, mrr_totals.environment_id, mrr_totals.currency,
    null, null, null, null, mrr_totals.mrr,
    'MRR in mrr_monthly, but no movements row'
from mrr_totals
anti join movements using (month, environment_id, currency)
where mrr_totals.mrr != 0
{% endtest %}
