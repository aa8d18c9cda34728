-- One row per invoice (standard, debit note, credit note) as of var('as_of_date'): amounts in the
-- document and reporting currency, what was paid and credited by then, what is still open, and
-- the payment dates and delays. Payments and credit notes dated after the as-of date are ignored.
with as_of as (

    select {{ as_of_date() }} as as_of_date

),

invoices as (

    select * from {{ ref('int_invoices_classified') }}

),

item_movements as (

    select
        movements.ar_item_no,
        sum(case when movements.movement_type = 'credit_note' then movements.amount else 0 end)
            as credit_note_amount,
        sum(case when movements.movement_type = 'payment' then -movements.amount else 0 end)
            as paid_amount,
        sum(case when movements.movement_type = 'adjustment' then -movements.amount else 0 end)
            as adjustment_amount,
        sum(movements.amount) as balance_amount,
        min(case when movements.movement_type = 'payment' then movements.movement_date end)
            as first_payment_date,
        max(case when movements.movement_type = 'payment' then movements.movement_date end)
            as last_payment_date,
        max(movements.movement_date) as last_movement_date
    from {{ ref('int_ar_movements') }} as movements
    cross join as_of
    where movements.movement_date <= as_of.as_of_date
    group by movements.ar_item_no

),

balance_at_exit as (

    select
        movements.ar_item_no,
        sum(movements.amount) as balance_amount
    from {{ ref('int_ar_movements') }} as movements
    inner join invoices
        on movements.ar_item_no = invoices.invoice_no
    where invoices.ar_exit_date is not null
        and movements.movement_date <= invoices.ar_exit_date
    group by movements.ar_item_no

),

disputes as (

    select
        events.invoice_no,
        max(case when events.event_type = 'disputed' then events.event_at end) as last_disputed_at,
        max(case when events.event_type = 'dispute_resolved' then events.event_at end) as last_resolved_at
    from {{ ref('stg_invoicing__invoice_events') }} as events
    cross join as_of
    where events.event_type in ('disputed', 'dispute_resolved')
        and cast(events.event_at as date) <= as_of.as_of_date
    group by events.invoice_no

),

positioned as (

    select
        as_of.as_of_date,
        invoices.*,
        invoices.issue_date <= as_of.as_of_date
            and not invoices.is_draft
            and not invoices.is_applied_credit_note
            and (invoices.ar_exit_date is null or invoices.ar_exit_date > as_of.as_of_date)
            as is_in_ar,
        invoices.ar_exit_date is not null and invoices.ar_exit_date <= as_of.as_of_date as has_left_ar,
        case when invoices.is_applied_credit_note then 0 else coalesce(item_movements.credit_note_amount, 0) end
            as credit_note_amount,
        case when invoices.is_applied_credit_note then 0 else coalesce(item_movements.paid_amount, 0) end
            as paid_amount,
        case when invoices.is_applied_credit_note then 0 else coalesce(item_movements.adjustment_amount, 0) end
            as adjustment_amount,
        case when invoices.is_applied_credit_note then null else item_movements.first_payment_date end
            as first_payment_date,
        case when invoices.is_applied_credit_note then null else item_movements.last_payment_date end
            as last_payment_date,
        coalesce(item_movements.balance_amount, 0) as balance_amount,
        item_movements.last_movement_date,
        balance_at_exit.balance_amount as balance_at_exit,
        disputes.last_disputed_at is not null
            and (disputes.last_resolved_at is null or disputes.last_resolved_at < disputes.last_disputed_at)
            as is_disputed,
        disputes.last_disputed_at is not null as has_been_disputed
    from invoices
    cross join as_of
    left join item_movements
        on invoices.invoice_no = item_movements.ar_item_no
    left join balance_at_exit
        on invoices.invoice_no = balance_at_exit.ar_item_no
    left join disputes
        on invoices.invoice_no = disputes.invoice_no

),

measured as (

    select
        positioned.*,
        case when is_in_ar then balance_amount else 0 end as open_amount,
        -- settled: in AR terms fully paid or credited by the as-of date
        case
            when not is_applied_credit_note and not has_left_ar and issue_date <= as_of_date
                and not is_draft and balance_amount = 0 and gross_amount > 0
                then last_movement_date
        end as settled_date
    from positioned

)

select
    measured.as_of_date,
    measured.invoice_no,
    measured.document_type as invoice_type,
    measured.customer_id,
    measured.project_id,
    measured.contract_id,
    measured.milestone_id,
    measured.salesperson_id,
    measured.region,
    measured.original_invoice_no,
    measured.ar_item_no,
    measured.issue_date,
    measured.due_date,
    cast({{ days_between('measured.issue_date', 'measured.due_date') }} as integer) as payment_terms_days,
    measured.currency,
    {{ reporting_currency() }} as reporting_currency,
    measured.net_amount,
    measured.tax_amount,
    measured.gross_amount,
    measured.tax_rate,
    cast(fx_issue.rate as decimal(18, 6)) as fx_rate_issue,
    {{ to_reporting_rounded('measured.gross_amount', 'fx_issue.rate') }} as gross_amount_rpt,
    cast(measured.credit_note_amount as decimal(18, 4)) as credit_note_amount,
    cast(measured.gross_amount + measured.credit_note_amount as decimal(18, 4)) as adjusted_amount,
    cast(measured.paid_amount as decimal(18, 4)) as paid_amount,
    cast(measured.adjustment_amount as decimal(18, 4)) as short_payment_written_off_amount,
    cast(measured.open_amount as decimal(18, 4)) as open_amount,
    cast(fx_as_of.rate as decimal(18, 6)) as fx_rate_as_of,
    {{ to_reporting_rounded('measured.open_amount', 'fx_as_of.rate') }} as open_amount_rpt,
    cast(
        case when measured.ar_exit_reason = 'written_off' and measured.has_left_ar
            then coalesce(measured.balance_at_exit, 0) else 0 end
        as decimal(18, 4)
    ) as written_off_amount,
    measured.first_payment_date,
    measured.last_payment_date,
    measured.settled_date,
    cast({{ days_between('measured.issue_date', 'measured.settled_date') }} as integer) as days_to_pay,
    cast({{ days_between('measured.due_date', 'measured.settled_date') }} as integer) as payment_delay_days,
    cast(case
        when measured.settled_date is not null then
            case when measured.settled_date > measured.due_date
                then {{ days_between('measured.due_date', 'measured.settled_date') }} else 0 end
        when measured.is_in_ar and measured.open_amount > 0 then
            case when measured.as_of_date > measured.due_date
                then {{ days_between('measured.due_date', 'measured.as_of_date') }} else 0 end
    end as integer) as days_late,
    cast(case
        when measured.is_in_ar and measured.open_amount <> 0
            then {{ days_between('measured.due_date', 'measured.as_of_date') }}
    end as integer) as days_overdue,
    measured.is_in_ar and measured.open_amount > 0 and measured.as_of_date > measured.due_date as is_overdue,
    case
        when measured.issue_date > measured.as_of_date then 'not_yet_issued'
        when measured.is_draft then 'draft'
        when measured.is_applied_credit_note then 'applied_to_original'
        when measured.has_left_ar and measured.ar_exit_reason = 'cancelled' then 'cancelled'
        when measured.has_left_ar then 'written_off'
        when measured.open_amount = 0 then 'paid'
        when measured.gross_amount < 0 and measured.open_amount < 0 then 'unapplied_credit'
        when measured.open_amount < 0 then 'overpaid'
        when measured.paid_amount <> 0 or measured.credit_note_amount <> 0 then 'partially_paid'
        else 'open'
    end as status,
    measured.source_status,
    measured.is_in_ar,
    measured.document_type = 'credit_note' as is_credit_note,
    measured.is_disputed,
    measured.has_been_disputed,
    measured.cancelled_date,
    measured.written_off_date,
    measured.source_file,
    measured.source_row
from measured
left join {{ ref('int_fx_rates_monthly') }} as fx_issue
    on {{ fx_rate_valid_on('fx_issue', 'measured.currency', 'measured.issue_date') }}
left join {{ ref('int_fx_rates_monthly') }} as fx_as_of
    on {{ fx_rate_valid_on('fx_as_of', 'measured.currency', 'measured.as_of_date') }}
