{#- DuckDB: the days from the earliest date the ledger changed since the last build are deleted
    and recomputed (macros/ledger_state.sql), so late postings of any age land on the right day.
    Spark tables (parquet) have no delete: there the table is partitioned by month and an
    incremental run overwrites the months from the one the trailing var('ar_daily_lookback_days')
    window starts in, which it recomputes whole (dispatched strategy). -#}
{%- if target.type == 'spark' -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='insert_overwrite',
        partition_by=['balance_month'],
        on_schema_change='fail'
    )
}}
{%- else -%}
{#- balances come from invoices, movements, exits and FX rates: customer attributes and aging
    buckets do not change them -#}
{{ ledger_incremental_config('balance_date', ignored_kinds=['customer', 'aging_bucket']) }}
{%- endif %}
-- depends_on: {{ ref('int_ar_ledger_state') }}
-- Open AR per customer, currency and day (days with a non-zero balance), up to var('as_of_date'):
-- the balance the dashboard's trends and any as-of question read without replaying the ledger.
-- Incremental: on DuckDB each run recomputes the days from the earliest date the ledger changed
-- (and the new days); on Spark it overwrites the months from the one the trailing
-- var('ar_daily_lookback_days') window starts in, and older corrections there need --full-refresh
-- (the result is then identical, see tests/dbt).
with changes as (

    select
        customer_id,
        currency,
        change_date,
        sum(amount) as amount
    from {{ ref('int_ar_balance_changes') }}
    where change_date <= {{ as_of_date() }}
    group by customer_id, currency, change_date

),

window_start as (

    {% if is_incremental() and target.type == 'spark' %}
    select cast({{ dbt.date_trunc('month', dbt.dateadd('day', 1 - var('ar_daily_lookback_days', 45), 'max(balance_date)')) }} as date) as start_date
    from {{ this }}
    {% elif is_incremental() %}
    -- the day after the last one the reopening kept (all days when it kept none)
    select coalesce({{ dbt.dateadd('day', 1, 'max(balance_date)') }}, (select min(change_date) from changes))
        as start_date
    from {{ this }}
    {% else %}
    select min(change_date) as start_date from changes
    {% endif %}

),

opening as (

    -- balance carried into the window
    select
        changes.customer_id,
        changes.currency,
        window_start.start_date as change_date,
        sum(changes.amount) as amount
    from changes
    cross join window_start
    where changes.change_date < window_start.start_date
    group by changes.customer_id, changes.currency, window_start.start_date

),

in_window as (

    select changes.customer_id, changes.currency, changes.change_date, changes.amount
    from changes
    cross join window_start
    where changes.change_date >= window_start.start_date

),

combined as (

    select customer_id, currency, change_date, sum(amount) as amount
    from (select * from opening union all select * from in_window) as unioned
    group by customer_id, currency, change_date

),

running as (

    select
        customer_id,
        currency,
        change_date as valid_from,
        coalesce(
            lead(change_date) over (partition by customer_id, currency order by change_date),
            {{ dbt.dateadd('day', 1, as_of_date()) }}
        ) as valid_to,
        sum(amount) over (
            partition by customer_id, currency order by change_date
            rows between unbounded preceding and current row
        ) as open_amount
    from combined

)

select
    dates.calendar_date as balance_date,
    running.customer_id,
    running.currency,
    cast(running.open_amount as decimal(18, 4)) as open_amount,
    {{ reporting_currency() }} as reporting_currency,
    {{ to_reporting_rounded('running.open_amount', 'fx.rate') }} as open_amount_rpt,
    dates.month_start_date as balance_month
from running
inner join {{ ref('dim_date') }} as dates
    on dates.calendar_date >= running.valid_from
    and dates.calendar_date < running.valid_to
left join {{ ref('int_fx_rates_monthly') }} as fx
    on {{ fx_rate_valid_on('fx', 'running.currency', 'dates.calendar_date') }}
where running.open_amount <> 0
