-- Inputs of the monthly KPIs, one row per month-end and reporting group (company, region,
-- salesperson, customer): month-end AR (total, not yet due, overdue) from the month-end aging
-- snapshots, credit sales invoiced in the month and cash collected in the month, all in the
-- reporting currency. Every group has a row for every month from the month of its first AR item
-- (the earliest issue date of its customers' items) on, so lags are plain month offsets; months
-- before a group's first item have no row (kpi_monthly's countback stops there). A customer's
-- first invoice therefore adds rows from its month on and leaves earlier month-ends as they were.
-- Incremental (DuckDB, macros/ledger_state.sql): a build recomputes the month-ends from the
-- earliest date the ledger changed since the last build, and the new month-ends.
{{ ledger_incremental_config('month_end') }}
-- depends_on: {{ ref('int_ar_ledger_state') }}
{%- set groupings = [
    ('company', "'all'"),
    ('region', "coalesce(region, 'unknown')"),
    ('salesperson', "coalesce(salesperson_id, 'unknown')"),
    ('customer', 'customer_id'),
] %}
with month_ends as (

    select calendar_date as month_end, month_index, day_of_month as days_in_month
    from {{ ref('dim_date') }}
    where is_month_end
        and calendar_date >= (select min(issue_date) from {{ ref('int_ar_items') }})
        and calendar_date <= {{ as_of_date() }}
        and {{ ledger_periods_after('calendar_date', 'month_end') }}

),

invoices as (

    select * from {{ ref('int_invoices_classified') }}
    where not is_draft

),

-- credit sales: invoices and debit notes on their issue date, credit notes (negative) on theirs,
-- cancelled invoices reversed on their cancellation date
sales_movements as (

    select customer_id, salesperson_id, region, currency, issue_date as activity_date, gross_amount as amount
    from invoices
    where not (document_type = 'credit_note' and cancelled_date is not null)

    union all

    select customer_id, salesperson_id, region, currency, cancelled_date as activity_date, -gross_amount as amount
    from invoices
    where cancelled_date is not null and document_type <> 'credit_note'

),

collections as (

    select items.customer_id, items.salesperson_id, items.region, items.currency,
        movements.movement_date as activity_date, -movements.amount as amount
    from {{ ref('int_ar_movements') }} as movements
    inner join {{ ref('int_ar_items') }} as items
        on movements.ar_item_no = items.ar_item_no
    where movements.movement_type = 'payment'

),

activity as (

    select
        customer_id, salesperson_id, region,
        {{ month_end('activity_date') }} as month_end,
        {{ to_reporting('amount', 'fx.rate') }} as credit_sales_rpt,
        0 as collected_rpt
    from sales_movements
    left join {{ ref('int_fx_rates_monthly') }} as fx
        on {{ fx_rate_valid_on('fx', 'sales_movements.currency', 'sales_movements.activity_date') }}
    where {{ ledger_periods_after('sales_movements.activity_date', 'month_end') }}

    union all

    select
        customer_id, salesperson_id, region,
        {{ month_end('activity_date') }} as month_end,
        0 as credit_sales_rpt,
        {{ to_reporting('amount', 'fx.rate') }} as collected_rpt
    from collections
    left join {{ ref('int_fx_rates_monthly') }} as fx
        on {{ fx_rate_valid_on('fx', 'collections.currency', 'collections.activity_date') }}
    where {{ ledger_periods_after('collections.activity_date', 'month_end') }}

),

snapshots as (

    select
        customer_id, salesperson_id, region,
        as_of_date as month_end,
        open_amount_rpt as ending_ar_rpt,
        case when bucket_key = 'not_due' then open_amount_rpt else 0 end as current_ar_rpt,
        case when is_overdue then open_amount_rpt else 0 end as overdue_ar_rpt
    from {{ ref('ar_aging_monthly') }}
    where basis = 'due_date'
        and {{ ledger_periods_after('as_of_date', 'month_end') }}

),

customers as (

    select customer_id, salesperson_id, region, min(issue_date) as first_issue_date
    from {{ ref('int_ar_items') }}
    group by customer_id, salesperson_id, region

),

{% for name, expr in groupings %}
grid_{{ name }} as (

    select '{{ name }}' as dimension, {{ expr }} as dimension_value, min(first_issue_date) as first_issue_date
    from customers
    group by {{ expr }}

),

activity_{{ name }} as (

    select {{ expr }} as dimension_value, month_end,
        sum(credit_sales_rpt) as credit_sales_rpt, sum(collected_rpt) as collected_rpt
    from activity
    group by {{ expr }}, month_end

),

snapshots_{{ name }} as (

    select {{ expr }} as dimension_value, month_end,
        sum(ending_ar_rpt) as ending_ar_rpt, sum(current_ar_rpt) as current_ar_rpt,
        sum(overdue_ar_rpt) as overdue_ar_rpt
    from snapshots
    group by {{ expr }}, month_end

),

inputs_{{ name }} as (

    select
        grid.dimension,
        grid.dimension_value,
        month_ends.month_end,
        month_ends.month_index,
        month_ends.days_in_month,
        coalesce(snapshots.ending_ar_rpt, 0) as ending_ar_rpt,
        coalesce(snapshots.current_ar_rpt, 0) as current_ar_rpt,
        coalesce(snapshots.overdue_ar_rpt, 0) as overdue_ar_rpt,
        coalesce(activity.credit_sales_rpt, 0) as credit_sales_rpt,
        coalesce(activity.collected_rpt, 0) as collected_rpt
    from grid_{{ name }} as grid
    inner join month_ends
        on month_ends.month_end >= grid.first_issue_date
    left join snapshots_{{ name }} as snapshots
        on grid.dimension_value = snapshots.dimension_value
        and month_ends.month_end = snapshots.month_end
    left join activity_{{ name }} as activity
        on grid.dimension_value = activity.dimension_value
        and month_ends.month_end = activity.month_end

),
{% endfor %}

unioned as (

    {% for name, expr in groupings %}
    select * from inputs_{{ name }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

)

select
    dimension,
    dimension_value,
    month_end,
    cast(month_index as integer) as month_index,
    cast(days_in_month as integer) as days_in_month,
    cast(round(ending_ar_rpt, 2) as decimal(18, 2)) as ending_ar_rpt,
    cast(round(current_ar_rpt, 2) as decimal(18, 2)) as current_ar_rpt,
    cast(round(overdue_ar_rpt, 2) as decimal(18, 2)) as overdue_ar_rpt,
    cast(round(credit_sales_rpt, 2) as decimal(18, 2)) as credit_sales_rpt,
    cast(round(collected_rpt, 2) as decimal(18, 2)) as collected_rpt
from unioned
