-- The AR ledger restated as changes of the open balance: the item enters AR on its issue date with
-- everything booked on it so far, then moves with each later movement, and leaves AR (balance back
-- to zero) on its cancellation / write-off date; movements from that date on no longer count.
-- Summing changes up to a date gives open AR on that date without visiting items one by one, which
-- is how fct_ar_daily is built and how the month-end aging snapshots are checked independently.
with items as (

    select * from {{ ref('int_ar_items') }}
    where not is_draft
        and (ar_exit_date is null or ar_exit_date > issue_date)

),

movements as (

    select
        items.ar_item_no,
        items.customer_id,
        items.currency,
        items.issue_date,
        items.ar_exit_date,
        movements.movement_date,
        movements.movement_type,
        movements.amount
    from {{ ref('int_ar_movements') }} as movements
    inner join items
        on movements.ar_item_no = items.ar_item_no
    where items.ar_exit_date is null or movements.movement_date < items.ar_exit_date

),

changes as (

    -- entering AR: everything dated on or before the issue date
    select ar_item_no, customer_id, currency, issue_date as change_date, 'enter' as change_type,
        sum(amount) as amount
    from movements
    where movement_date <= issue_date
    group by ar_item_no, customer_id, currency, issue_date

    union all

    select ar_item_no, customer_id, currency, movement_date as change_date, movement_type as change_type,
        amount
    from movements
    where movement_date > issue_date

    union all

    -- leaving AR: back to zero
    select ar_item_no, customer_id, currency, ar_exit_date as change_date, 'exit' as change_type,
        -sum(amount) as amount
    from movements
    where ar_exit_date is not null
    group by ar_item_no, customer_id, currency, ar_exit_date

)

select * from changes
where amount <> 0
