-- The receivables ledger: every movement of every AR item, dated. An item's open amount on any day
-- is the sum of its movements up to that day, while the item is in AR (issued, not draft, not yet
-- cancelled or written off). Credit notes move their original invoice; payments reduce the item.
with invoices as (

    select * from {{ ref('int_invoices_classified') }}

),

invoiced as (

    select
        ar_item_no,
        invoice_no as document_no,
        issue_date as movement_date,
        case when is_applied_credit_note then 'credit_note' else 'invoiced' end as movement_type,
        gross_amount as amount,
        cast(null as {{ dbt.type_string() }}) as bank_txn_key,
        cast(null as {{ dbt.type_string() }}) as application_method
    from invoices
    where not is_draft
        -- a cancelled credit note never reduces its original
        and not (is_applied_credit_note and cancelled_date is not null)

),

payments as (

    select
        invoices.ar_item_no,
        allocations.invoice_no as document_no,
        allocations.applied_date as movement_date,
        case when allocations.application_type = 'payment' then 'payment' else 'adjustment' end as movement_type,
        -allocations.applied_amount as amount,
        allocations.bank_txn_key,
        allocations.application_method
    from {{ ref('int_payment_allocations') }} as allocations
    inner join invoices
        on allocations.invoice_no = invoices.invoice_no

)

select * from invoiced
union all
select * from payments
