{#- Usage events per environment, customer, event name and day (UTC). -#}
with events_per_resource as (

    -- One group per resource first: counting distinct resources in one pass over the events
    -- would keep a set per day and customer, which costs several times as much.
    select
        ENVIRONMENT_ID,
        CUSTOMER_ID,
        EVENT_NAME,
        {{ stigg_utc_date('TIMESTAMP') }} as event_date,
        RESOURCE_ID,
        count(*) as events,
        min(TIMESTAMP) as first_event_at,
        max(TIMESTAMP) as last_event_at
    from {{ ref('USAGE_EVENTS') }}
    group by ENVIRONMENT_ID, CUSTOMER_ID, EVENT_NAME, event_date, RESOURCE_ID

)

select
    ENVIRONMENT_ID as environment_id,
    CUSTOMER_ID as customer_id,
    EVENT_NAME as event_name,
    event_date,
    cast(sum(events) as bigint) as events,
    count(RESOURCE_ID) as resources,
    min(first_event_at) as first_event_at,
    max(last_event_at) as last_event_at
from events_per_resource
group by ENVIRONMENT_ID, CUSTOMER_ID, EVENT_NAME, event_date
