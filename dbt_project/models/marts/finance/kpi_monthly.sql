-- Monthly receivables KPIs per reporting group (DESIGN.md §5): simple DSO (trailing
-- var('dso_period_months') months), countback DSO, best possible DSO, average days delinquent,
-- CEI for the month and the trailing quarter, overdue ratio and cash collected. All amounts in the
-- reporting currency; month-end AR comes from the month-end aging snapshots.
-- Incremental (DuckDB, macros/ledger_state.sql): a month's KPIs read only that month and the ones
-- before it, so a build recomputes the month-ends from the earliest date the ledger changed since
-- the last build, and the new month-ends.
{{ ledger_incremental_config('month_end') }}
-- depends_on: {{ ref('int_ar_ledger_state') }}
with inputs as (

    select * from {{ ref('int_kpi_monthly_inputs') }}

),

history as (

    -- each month with the months before it, newest first (lag 0 = the month itself)
    select
        current_month.dimension,
        current_month.dimension_value,
        current_month.month_end,
        current_month.month_index - past.month_index as lag,
        current_month.ending_ar_rpt,
        current_month.current_ar_rpt,
        past.ending_ar_rpt as past_ending_ar_rpt,
        past.credit_sales_rpt,
        past.days_in_month
    from inputs as current_month
    inner join inputs as past
        on current_month.dimension = past.dimension
        and current_month.dimension_value = past.dimension_value
        and past.month_index <= current_month.month_index
        and past.month_index > current_month.month_index - {{ var('countback_max_months', 12) }}
    where {{ ledger_periods_after('current_month.month_end', 'month_end') }}

),

cumulative as (

    select
        history.*,
        sum(credit_sales_rpt) over (
            partition by dimension, dimension_value, month_end
            order by lag
            rows between unbounded preceding and current row
        ) as cumulative_sales_rpt
    from history

),

aggregated as (

    select
        dimension,
        dimension_value,
        month_end,
        sum({{ countback_contribution('ending_ar_rpt', 'cumulative_sales_rpt', 'credit_sales_rpt', 'days_in_month') }})
            as countback_dso,
        sum({{ countback_contribution('current_ar_rpt', 'cumulative_sales_rpt', 'credit_sales_rpt', 'days_in_month') }})
            as best_possible_dso,
        sum(case when lag < {{ var('dso_period_months', 3) }} then credit_sales_rpt else 0 end) as period_sales_rpt,
        sum(case when lag < {{ var('dso_period_months', 3) }} then days_in_month else 0 end) as period_days,
        sum(case when lag < 3 then credit_sales_rpt else 0 end) as quarter_sales_rpt,
        count(case when lag < 3 then 1 end) as quarter_months,
        max(case when lag = 1 then past_ending_ar_rpt end) as opening_ar_rpt,
        max(case when lag = 3 then past_ending_ar_rpt end) as quarter_opening_ar_rpt
    from cumulative
    group by dimension, dimension_value, month_end

)

select
    inputs.month_end,
    inputs.dimension,
    inputs.dimension_value,
    {{ reporting_currency() }} as reporting_currency,
    inputs.days_in_month,
    cast(coalesce(aggregated.opening_ar_rpt, 0) as decimal(18, 2)) as opening_ar_rpt,
    inputs.ending_ar_rpt,
    inputs.current_ar_rpt,
    inputs.overdue_ar_rpt,
    inputs.credit_sales_rpt,
    inputs.collected_rpt,
    {{ kpi_round(simple_dso('inputs.ending_ar_rpt', 'aggregated.period_sales_rpt', 'aggregated.period_days')) }}
        as simple_dso,
    {{ kpi_round('aggregated.countback_dso') }} as countback_dso,
    {{ kpi_round('aggregated.best_possible_dso') }} as best_possible_dso,
    {{ kpi_round('aggregated.countback_dso - aggregated.best_possible_dso') }} as average_days_delinquent,
    {{ kpi_round(collection_effectiveness_index(
        'coalesce(aggregated.opening_ar_rpt, 0)', 'inputs.credit_sales_rpt', 1,
        'inputs.ending_ar_rpt', 'inputs.current_ar_rpt')) }} as cei_pct,
    case when aggregated.quarter_months = 3 and aggregated.quarter_opening_ar_rpt is not null then
        {{ kpi_round(collection_effectiveness_index(
            'aggregated.quarter_opening_ar_rpt', 'aggregated.quarter_sales_rpt', 3,
            'inputs.ending_ar_rpt', 'inputs.current_ar_rpt')) }}
    end as cei_3m_pct,
    case when inputs.ending_ar_rpt > 0
        then cast(round(cast(inputs.overdue_ar_rpt as double) / inputs.ending_ar_rpt, 4) as decimal(9, 4))
    end as overdue_ratio
from inputs
inner join aggregated
    on inputs.dimension = aggregated.dimension
    and inputs.dimension_value = aggregated.dimension_value
    and inputs.month_end = aggregated.month_end
