{{ ledger_incremental_config('as_of_date') }}
-- Month-end aging (due-date basis): ar_aging at every month-end from the first invoice up to
-- var('as_of_date'), as the ledger stands now — late postings and new bank matches move past
-- month-ends, and this table always agrees with the ledger. The figures as they were reported at
-- each month-end are frozen once in history.ar_aging_month_end (DESIGN.md §8) and never recomputed.
-- Incremental (DuckDB, macros/ledger_state.sql): a build recomputes the month-ends from the
-- earliest date the ledger changed since the last build, and the new month-ends; the rest is kept.
-- depends_on: {{ ref('int_ar_ledger_state') }}
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
        and {{ ledger_periods_after('dates.calendar_date', 'as_of_date') }}

),

open_items as (

    {{ open_ar_items('month_ends') }}

),

bases as (

    select 'due_date' as basis

)

{{ ar_aging_rows('open_items', 'bases') }}
