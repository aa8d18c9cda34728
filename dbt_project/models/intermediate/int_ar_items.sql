-- One row per AR item (an invoice, debit note or unapplied credit note; applied credit notes are
-- movements of their original). Carries the dates that bound when the item can be open, so
-- snapshot models only visit the dates an item is actually open.
with items as (

    select * from {{ ref('int_invoices_classified') }}
    where not is_applied_credit_note

),

movement_totals as (

    select
        ar_item_no,
        sum(amount) as balance_after_all_movements,
        max(movement_date) as last_movement_date
    from {{ ref('int_ar_movements') }}
    group by ar_item_no

)

select
    items.invoice_no as ar_item_no,
    items.document_type,
    items.customer_id,
    items.project_id,
    items.contract_id,
    items.milestone_id,
    items.salesperson_id,
    items.region,
    items.currency,
    items.issue_date,
    items.due_date,
    items.gross_amount,
    items.is_draft,
    items.ar_exit_date,
    items.ar_exit_reason,
    movement_totals.balance_after_all_movements,
    -- from this date on the balance is zero for good (null = never settled in the data)
    case
        when movement_totals.balance_after_all_movements = 0 then movement_totals.last_movement_date
    end as settled_date
from items
left join movement_totals
    on items.invoice_no = movement_totals.ar_item_no
