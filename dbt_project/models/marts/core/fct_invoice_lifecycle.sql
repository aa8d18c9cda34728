-- Time an invoice spent in each lifecycle state (DESIGN.md §4): first timestamp of each event,
-- days from creation to issue, issue to sent, sent to acknowledged, issue to settlement.
with events as (

    select
        invoice_no,
        min(case when event_type = 'created' then event_at end) as created_at,
        min(case when event_type = 'submitted' then event_at end) as submitted_at,
        min(case when event_type = 'approved' then event_at end) as approved_at,
        min(case when event_type = 'issued' then event_at end) as issued_at,
        min(case when event_type = 'sent' then event_at end) as sent_at,
        min(case when event_type = 'acknowledged' then event_at end) as acknowledged_at,
        min(case when event_type = 'disputed' then event_at end) as first_disputed_at,
        max(case when event_type = 'dispute_resolved' then event_at end) as last_dispute_resolved_at,
        count(case when event_type = 'disputed' then 1 end) as disputes
    from {{ ref('stg_invoicing__invoice_events') }}
    group by invoice_no

)

select
    invoices.invoice_no,
    invoices.customer_id,
    invoices.issue_date,
    events.created_at,
    events.submitted_at,
    events.approved_at,
    events.issued_at,
    events.sent_at,
    events.acknowledged_at,
    invoices.settled_date,
    cast(coalesce(events.disputes, 0) as integer) as disputes,
    events.first_disputed_at,
    events.last_dispute_resolved_at,
    cast({{ days_between('cast(events.created_at as date)', 'cast(events.issued_at as date)') }} as integer)
        as days_created_to_issued,
    cast({{ days_between('cast(events.issued_at as date)', 'cast(events.sent_at as date)') }} as integer)
        as days_issued_to_sent,
    cast({{ days_between('cast(events.sent_at as date)', 'cast(events.acknowledged_at as date)') }} as integer)
        as days_sent_to_acknowledged,
    cast({{ days_between('invoices.issue_date', 'invoices.settled_date') }} as integer) as days_issued_to_settled
from {{ ref('fct_invoice') }} as invoices
left join events
    on invoices.invoice_no = events.invoice_no
