-- For every month-end snapshot, the aging buckets sum exactly to total open AR on that date per
-- currency (document currency). The total comes from an independent path: the cumulative open-
-- balance changes of int_ar_balance_changes up to the month-end. Daily runs check the recent
-- month-ends only (macros/data_test_window.sql).
with snapshot_totals as (

    select as_of_date, currency, sum(open_amount) as bucket_total
    from {{ ref('ar_aging_monthly') }}
    where as_of_date >= {{ data_test_window_start() }}
    group by as_of_date, currency

),

month_ends as (

    select distinct as_of_date from {{ ref('ar_aging_monthly') }}
    where as_of_date >= {{ data_test_window_start() }}

),

ledger_totals as (

    select month_ends.as_of_date, changes.currency, sum(changes.amount) as ledger_total
    from month_ends
    inner join {{ ref('int_ar_balance_changes') }} as changes
        on changes.change_date <= month_ends.as_of_date
    group by month_ends.as_of_date, changes.currency

)

select
    coalesce(ledger_totals.as_of_date, snapshot_totals.as_of_date) as as_of_date,
    coalesce(ledger_totals.currency, snapshot_totals.currency) as currency,
    ledger_totals.ledger_total,
    snapshot_totals.bucket_total
from ledger_totals
full outer join snapshot_totals
    on ledger_totals.as_of_date = snapshot_totals.as_of_date
    and ledger_totals.currency = snapshot_totals.currency
where coalesce(ledger_totals.ledger_total, 0) <> coalesce(snapshot_totals.bucket_total, 0)
