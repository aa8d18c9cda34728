-- Credit standing per customer as of var('as_of_date') (DESIGN.md §4-5): open and overdue AR,
-- credit-limit utilization, amount-weighted days late and late share over settled invoices,
-- consecutive late payments, a rating from seeds/credit_rating_policy, the rating 90 days earlier,
-- and the three alerts (utilization >= 90 %, 3 consecutive late payments, rating downgrade).
with invoices as (

    select * from {{ ref('fct_invoice') }}

),

settled as (

    -- paid invoices only (credit notes and cancelled documents are not payment behaviour)
    select
        customer_id,
        invoice_no,
        settled_date,
        gross_amount_rpt,
        payment_delay_days,
        case when payment_delay_days > 0 then 1 else 0 end as is_late
    from invoices
    where settled_date is not null and gross_amount > 0

),

behaviour_now as (

    select
        customer_id,
        count(*) as settled_invoices,
        sum(is_late) as late_invoices,
        sum(cast(gross_amount_rpt as double) * payment_delay_days) / nullif(sum(gross_amount_rpt), 0) as weighted_days_late,
        cast(sum(is_late) as double) / count(*) as late_share
    from settled
    group by customer_id

),

behaviour_before as (

    select
        settled.customer_id,
        sum(cast(settled.gross_amount_rpt as double) * settled.payment_delay_days) / nullif(sum(settled.gross_amount_rpt), 0)
            as weighted_days_late,
        cast(sum(settled.is_late) as double) / count(*) as late_share
    from settled
    where settled.settled_date <= {{ dbt.dateadd('day', -90, as_of_date()) }}
    group by settled.customer_id

),

streaks as (

    -- latest settlements first; the streak runs until the first on-time payment
    select
        customer_id,
        is_late,
        row_number() over (partition by customer_id order by settled_date desc, invoice_no desc) as recency
    from settled

),

consecutive as (

    select
        customer_id,
        coalesce(min(case when is_late = 0 then recency end) - 1, count(*)) as consecutive_late_payments
    from streaks
    group by customer_id

),

policy as (

    select * from {{ ref('credit_rating_policy') }}

),

rated_now as (

    select behaviour_now.customer_id, min(policy.sort_order) as rating_order
    from behaviour_now
    inner join policy
        on (policy.max_weighted_days_late is null or behaviour_now.weighted_days_late <= policy.max_weighted_days_late)
        and (policy.max_late_share is null or behaviour_now.late_share <= policy.max_late_share)
    group by behaviour_now.customer_id

),

rated_before as (

    select behaviour_before.customer_id, min(policy.sort_order) as rating_order
    from behaviour_before
    inner join policy
        on (policy.max_weighted_days_late is null or behaviour_before.weighted_days_late <= policy.max_weighted_days_late)
        and (policy.max_late_share is null or behaviour_before.late_share <= policy.max_late_share)
    group by behaviour_before.customer_id

),

exposure as (

    select
        customer_id,
        sum(case when is_in_ar then open_amount_rpt else 0 end) as open_ar_rpt,
        sum(case when is_in_ar and is_overdue then open_amount_rpt else 0 end) as overdue_ar_rpt,
        sum(case when is_in_ar and is_disputed then open_amount_rpt else 0 end) as disputed_ar_rpt
    from invoices
    group by customer_id

),

customers as (

    select
        customers.*,
        {{ to_reporting('customers.credit_limit', 'fx.rate') }} as credit_limit_rpt
    from {{ ref('dim_customer') }} as customers
    left join {{ ref('int_fx_rates_monthly') }} as fx
        on {{ fx_rate_valid_on('fx', "coalesce(customers.currency, " ~ reporting_currency() ~ ")", as_of_date()) }}

),

assembled as (

    select
        {{ as_of_date() }} as as_of_date,
        customers.customer_id,
        customers.customer_name,
        customers.group_customer_id,
        customers.customer_type,
        customers.region,
        customers.salesperson_id,
        coalesce(exposure.open_ar_rpt, 0) as open_ar_rpt,
        coalesce(exposure.overdue_ar_rpt, 0) as overdue_ar_rpt,
        coalesce(exposure.disputed_ar_rpt, 0) as disputed_ar_rpt,
        customers.credit_limit_rpt,
        case when customers.credit_limit_rpt > 0
            then coalesce(exposure.open_ar_rpt, 0) / customers.credit_limit_rpt end as credit_utilization,
        coalesce(behaviour_now.settled_invoices, 0) as settled_invoices,
        coalesce(behaviour_now.late_invoices, 0) as late_invoices,
        behaviour_now.weighted_days_late,
        behaviour_now.late_share,
        coalesce(consecutive.consecutive_late_payments, 0) as consecutive_late_payments,
        rated_now.rating_order,
        rated_before.rating_order as previous_rating_order
    from customers
    left join exposure on customers.customer_id = exposure.customer_id
    left join behaviour_now on customers.customer_id = behaviour_now.customer_id
    left join consecutive on customers.customer_id = consecutive.customer_id
    left join rated_now on customers.customer_id = rated_now.customer_id
    left join rated_before on customers.customer_id = rated_before.customer_id

)

select
    assembled.as_of_date,
    assembled.customer_id,
    assembled.customer_name,
    assembled.group_customer_id,
    assembled.customer_type,
    assembled.region,
    assembled.salesperson_id,
    {{ reporting_currency() }} as reporting_currency,
    cast(assembled.open_ar_rpt as decimal(18, 2)) as open_ar_rpt,
    cast(assembled.overdue_ar_rpt as decimal(18, 2)) as overdue_ar_rpt,
    cast(assembled.disputed_ar_rpt as decimal(18, 2)) as disputed_ar_rpt,
    cast(round(assembled.credit_limit_rpt, 2) as decimal(18, 2)) as credit_limit_rpt,
    cast(round(assembled.credit_utilization, 4) as decimal(12, 4)) as credit_utilization,
    cast(assembled.settled_invoices as integer) as settled_invoices,
    cast(assembled.late_invoices as integer) as late_invoices,
    cast(round(assembled.weighted_days_late, 1) as decimal(10, 1)) as weighted_days_late,
    cast(round(assembled.late_share, 4) as decimal(9, 4)) as late_share,
    cast(assembled.consecutive_late_payments as integer) as consecutive_late_payments,
    current_rating.rating,
    previous_rating.rating as previous_rating,
    coalesce(assembled.credit_utilization >= 0.9, false) as is_utilization_alert,
    assembled.consecutive_late_payments >= 3 as is_consecutive_late_alert,
    coalesce(assembled.rating_order > assembled.previous_rating_order, false) as is_downgrade_alert,
    coalesce(assembled.credit_utilization >= 0.9, false)
        or assembled.consecutive_late_payments >= 3
        or coalesce(assembled.rating_order > assembled.previous_rating_order, false) as has_alert
from assembled
left join policy as current_rating
    on assembled.rating_order = current_rating.sort_order
left join policy as previous_rating
    on assembled.previous_rating_order = previous_rating.sort_order
