-- One row per bank receipt (credit line, reversals excluded): amount, how much of it is applied to
-- invoices and what is left unapplied (shown separately, never netted into an invoice).
with receipts as (

    select * from {{ ref('stg_bank__transactions') }}
    where amount > 0 and not coalesce(is_reversal, false)

),

applied as (

    select bank_txn_key, sum(applied_amount) as applied_amount, count(distinct invoice_no) as invoices_paid
    from {{ ref('int_payment_allocations') }}
    where bank_txn_key is not null and application_type = 'payment'
    group by bank_txn_key

)

select
    receipts.bank_txn_key,
    receipts.account_id,
    receipts.statement_id,
    receipts.booking_date,
    receipts.value_date,
    receipts.currency,
    receipts.amount,
    cast(coalesce(applied.applied_amount, 0) as decimal(18, 4)) as applied_amount,
    cast(receipts.amount - coalesce(applied.applied_amount, 0) as decimal(18, 4)) as unapplied_amount,
    cast(coalesce(applied.invoices_paid, 0) as integer) as invoices_paid,
    {{ to_reporting_rounded('receipts.amount', 'fx.rate') }} as amount_rpt,
    receipts.counterparty_name,
    receipts.counterparty_account,
    receipts.remittance_text,
    receipts.source_file,
    receipts.source_row
from receipts
left join applied
    on receipts.bank_txn_key = applied.bank_txn_key
left join {{ ref('int_fx_rates_monthly') }} as fx
    on {{ fx_rate_valid_on('fx', 'receipts.currency', 'receipts.booking_date') }}
