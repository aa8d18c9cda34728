-- Customers ranked by open AR as of var('as_of_date'), with their share and cumulative share of
-- total open AR (the concentration a CFO watches), overdue AR and credit rating.
with credit as (

    select * from {{ ref('customer_credit') }}
    where open_ar_rpt <> 0

),

ranked as (

    select
        credit.*,
        row_number() over (order by open_ar_rpt desc, customer_id) as open_ar_rank,
        sum(open_ar_rpt) over () as total_open_ar_rpt,
        sum(open_ar_rpt) over (
            order by open_ar_rpt desc, customer_id rows between unbounded preceding and current row
        ) as cumulative_open_ar_rpt
    from credit

)

select
    as_of_date,
    cast(open_ar_rank as integer) as open_ar_rank,
    customer_id,
    customer_name,
    group_customer_id,
    region,
    salesperson_id,
    reporting_currency,
    open_ar_rpt,
    overdue_ar_rpt,
    case when total_open_ar_rpt <> 0
        then cast(round(cast(open_ar_rpt as double) / total_open_ar_rpt, 4) as decimal(9, 4)) end as share_of_open_ar,
    case when total_open_ar_rpt <> 0
        then cast(round(cast(cumulative_open_ar_rpt as double) / total_open_ar_rpt, 4) as decimal(9, 4)) end
        as cumulative_share_of_open_ar,
    rating,
    has_alert
from ranked
