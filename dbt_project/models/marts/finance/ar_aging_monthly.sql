{{ config(materialized='incremental', on_schema_change='fail') }}
-- Month-end aging snapshots (due-date basis): ar_aging as it stood at every month-end from the
-- first invoice up to var('as_of_date'). Incremental: a run appends the month-ends not yet kept,
-- so snapshots are kept as taken (DESIGN.md §8: month-end history is never recomputed away);
-- --full-refresh rebuilds them all from the ledger.
with bounds as (

    select min(issue_date) as first_issue_date
    from {{ ref('int_ar_items') }}

),

month_ends as (

    select dates.calendar_date as as_of_date
    from {{ ref('dim_date') }} as dates
    cross join bounds
    where dates.is_month_end
        and dates.calendar_date >= bounds.first_issue_date
        and dates.calendar_date <= {{ as_of_date() }}
    {% if is_incremental() %}
        and dates.calendar_date > (select coalesce(max(as_of_date), cast('1900-01-01' as date)) from {{ this }})
    {% endif %}

),

open_items as (

    {{ open_ar_items('month_ends') }}

),

bases as (

    select 'due_date' as basis

)

{{ ar_aging_rows('open_items', 'bases') }}
