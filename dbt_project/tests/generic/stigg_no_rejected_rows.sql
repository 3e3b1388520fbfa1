{#- Warns with the count (and dbt stores the rows) when a documented table refused rows. -#}
{% test stigg_no_rejected_rows(model, rejects) %}
select * from {{ rejects }}
{% endtest %}
