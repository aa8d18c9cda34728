-- Every invoice with what the AR ledger needs to know about it: which AR item it belongs to (a
-- credit note with a known original reduces that invoice; without one it is its own item), when it
-- left AR (cancellation, write-off) and its owner dimensions.
with invoices as (

    select * from {{ ref('stg_invoicing__invoices') }}

),

events as (

    select
        invoice_no,
        min(case when event_type = 'cancelled' then cast(event_at as date) end) as cancelled_event_date,
        min(case when event_type = 'written_off' then cast(event_at as date) end) as written_off_event_date
    from {{ ref('stg_invoicing__invoice_events') }}
    -- only the exits: grouping every lifecycle event would cost most of this model
    where event_type in ('cancelled', 'written_off')
    group by invoice_no

),

customers as (

    select customer_id, salesperson_id, region
    from {{ ref('stg_erp__customers') }}

),

classified as (

    select
        invoices.*,
        coalesce(
            invoices.invoice_type,
            case when invoices.gross_amount < 0 then 'credit_note' else 'standard' end
        ) as document_type,
        originals.invoice_no is not null
            and coalesce(invoices.invoice_type, 'credit_note') = 'credit_note'
            and invoices.gross_amount < 0 as is_applied_credit_note,
        -- Cancellation and write-off take the invoice out of AR from the event date; a status
        -- without a dated event takes it out from the issue date (it never counts as open).
        case
            when events.cancelled_event_date is not null then events.cancelled_event_date
            when invoices.status = 'cancelled' then invoices.issue_date
        end as cancelled_date,
        case
            when events.written_off_event_date is not null then events.written_off_event_date
            when invoices.status = 'written_off' then invoices.issue_date
        end as written_off_date,
        customers.salesperson_id,
        customers.region
    from invoices
    left join invoices as originals
        on invoices.original_invoice_no = originals.invoice_no
        and invoices.original_invoice_no <> invoices.invoice_no
    left join events
        on invoices.invoice_no = events.invoice_no
    left join customers
        on invoices.customer_id = customers.customer_id

)

select
    invoice_no,
    document_type,
    customer_id,
    project_id,
    contract_id,
    milestone_id,
    salesperson_id,
    region,
    issue_date,
    coalesce(due_date, issue_date) as due_date,
    currency,
    net_amount,
    tax_amount,
    gross_amount,
    tax_rate,
    original_invoice_no,
    status as source_status,
    cleared_date,
    cleared_amount,
    is_applied_credit_note,
    case when is_applied_credit_note then original_invoice_no else invoice_no end as ar_item_no,
    cancelled_date,
    written_off_date,
    case
        when cancelled_date is not null and written_off_date is not null
            then case when cancelled_date <= written_off_date then cancelled_date else written_off_date end
        else coalesce(cancelled_date, written_off_date)
    end as ar_exit_date,
    case
        when cancelled_date is not null
            and (written_off_date is null or cancelled_date <= written_off_date) then 'cancelled'
        when written_off_date is not null then 'written_off'
    end as ar_exit_reason,
    status = 'draft' as is_draft,
    source_file,
    source_row
from classified
