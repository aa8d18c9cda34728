-- Payment x invoice allocations (DESIGN.md §4): every application of cash (and short-payment
-- write-off) to an invoice, with method, confidence and amounts in both currencies.
select
    allocations.invoice_no,
    invoices.ar_item_no,
    invoices.customer_id,
    allocations.bank_txn_key,
    allocations.applied_date,
    allocations.application_type,
    allocations.application_method,
    allocations.confidence,
    invoices.currency,
    cast(allocations.applied_amount as decimal(18, 4)) as applied_amount,
    {{ to_reporting_rounded('allocations.applied_amount', 'fx.rate') }} as applied_amount_rpt
from {{ ref('int_payment_allocations') }} as allocations
inner join {{ ref('int_invoices_classified') }} as invoices
    on allocations.invoice_no = invoices.invoice_no
left join {{ ref('int_fx_rates_monthly') }} as fx
    on {{ fx_rate_valid_on('fx', 'invoices.currency', 'allocations.applied_date') }}
