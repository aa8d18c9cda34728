-- Billing and collection trend per month for the company and each region: credit sales, cash
-- collected, collection ratio (collected / sales), month-end AR and overdue ratio, countback DSO.
select
    month_end,
    dimension,
    dimension_value,
    reporting_currency,
    credit_sales_rpt,
    collected_rpt,
    case when credit_sales_rpt > 0
        then cast(round(cast(collected_rpt as double) / credit_sales_rpt, 4) as decimal(12, 4)) end as collection_ratio,
    ending_ar_rpt,
    overdue_ar_rpt,
    overdue_ratio,
    countback_dso,
    cei_pct
from {{ ref('kpi_monthly') }}
where dimension in ('company', 'region')
