-- The aging buckets of every basis sum exactly to total open AR on the as-of date (DESIGN.md §4),
-- per currency in the document currency and in the reporting currency. Two independent paths are
-- compared: ar_aging (pruned ledger scan per item) and fct_invoice (per-invoice position).
with aging as (

    select
        basis,
        currency,
        sum(open_amount) as open_amount,
        sum(open_amount_rpt) as open_amount_rpt
    from {{ ref('ar_aging') }}
    group by basis, currency

),

ledger as (

    select
        currency,
        sum(open_amount) as open_amount,
        sum(open_amount_rpt) as open_amount_rpt
    from {{ ref('fct_invoice') }}
    where is_in_ar
    group by currency
    having sum(case when open_amount <> 0 then 1 else 0 end) > 0

),

bases as (

    select 'due_date' as basis
    union all
    select 'invoice_date' as basis

),

expected as (

    select bases.basis, ledger.*
    from ledger
    cross join bases

)

select
    coalesce(expected.basis, aging.basis) as basis,
    coalesce(expected.currency, aging.currency) as currency,
    expected.open_amount as ledger_open_amount,
    aging.open_amount as bucket_open_amount,
    expected.open_amount_rpt as ledger_open_amount_rpt,
    aging.open_amount_rpt as bucket_open_amount_rpt
from expected
full outer join aging
    on expected.basis = aging.basis
    and expected.currency = aging.currency
where coalesce(expected.open_amount, 0) <> coalesce(aging.open_amount, 0)
    or coalesce(expected.open_amount_rpt, 0) <> coalesce(aging.open_amount_rpt, 0)
