{#- Usage events per environment, customer, event name and day (UTC). -#}
select
    ENVIRONMENT_ID as environment_id,
    CUSTOMER_ID as customer_id,
    EVENT_NAME as event_name,
    cast(timezone('UTC', TIMESTAMP) as date) as event_date,
    count(*) as events,
    count(distinct RESOURCE_ID) as resources,
    min(TIMESTAMP) as first_event_at,
    max(TIMESTAMP) as last_event_at
from {{ ref('USAGE_EVENTS') }}
group by all
