-- Collection performance per salesperson as of var('as_of_date'): open and overdue AR of their
-- customers, cash collected in the last 90 days, and the latest month-end KPIs (countback DSO,
-- average days delinquent, quarterly CEI), ranked by overdue ratio (lowest first).
with invoices as (

    select * from {{ ref('fct_invoice') }}

),

exposure as (

    select
        coalesce(salesperson_id, 'unknown') as salesperson_id,
        sum(case when is_in_ar then open_amount_rpt else 0 end) as open_ar_rpt,
        sum(case when is_in_ar and is_overdue then open_amount_rpt else 0 end) as overdue_ar_rpt,
        count(distinct case when is_in_ar and open_amount > 0 then customer_id end) as customers_with_open_ar
    from invoices
    group by coalesce(salesperson_id, 'unknown')

),

collected as (

    select
        coalesce(items.salesperson_id, 'unknown') as salesperson_id,
        sum(-{{ to_reporting('movements.amount', 'fx.rate') }}) as collected_90d_rpt
    from {{ ref('int_ar_movements') }} as movements
    inner join {{ ref('int_ar_items') }} as items
        on movements.ar_item_no = items.ar_item_no
    left join {{ ref('int_fx_rates_monthly') }} as fx
        on {{ fx_rate_valid_on('fx', 'items.currency', 'movements.movement_date') }}
    where movements.movement_type = 'payment'
        and movements.movement_date <= {{ as_of_date() }}
        and movements.movement_date > {{ dbt.dateadd('day', -90, as_of_date()) }}
    group by coalesce(items.salesperson_id, 'unknown')

),

latest_kpis as (

    select *
    from {{ ref('kpi_monthly') }}
    where dimension = 'salesperson'
        and month_end = (select max(month_end) from {{ ref('kpi_monthly') }})

),

assembled as (

    select
        exposure.*,
        coalesce(collected.collected_90d_rpt, 0) as collected_90d_rpt,
        case when exposure.open_ar_rpt > 0 then cast(exposure.overdue_ar_rpt as double) / exposure.open_ar_rpt end
            as overdue_ratio
    from exposure
    left join collected on exposure.salesperson_id = collected.salesperson_id

)

select
    {{ as_of_date() }} as as_of_date,
    cast(row_number() over (order by coalesce(assembled.overdue_ratio, 0), assembled.salesperson_id) as integer)
        as performance_rank,
    assembled.salesperson_id,
    salespeople.name as salesperson_name,
    salespeople.team as sales_team,
    salespeople.region,
    {{ reporting_currency() }} as reporting_currency,
    cast(assembled.customers_with_open_ar as integer) as customers_with_open_ar,
    cast(assembled.open_ar_rpt as decimal(18, 2)) as open_ar_rpt,
    cast(assembled.overdue_ar_rpt as decimal(18, 2)) as overdue_ar_rpt,
    cast(round(assembled.overdue_ratio, 4) as decimal(9, 4)) as overdue_ratio,
    cast(round(assembled.collected_90d_rpt, 2) as decimal(18, 2)) as collected_90d_rpt,
    latest_kpis.month_end as kpi_month_end,
    latest_kpis.countback_dso,
    latest_kpis.average_days_delinquent,
    latest_kpis.cei_3m_pct
from assembled
left join {{ ref('stg_erp__salespeople') }} as salespeople
    on assembled.salesperson_id = salespeople.salesperson_id
left join latest_kpis
    on assembled.salesperson_id = latest_kpis.dimension_value
