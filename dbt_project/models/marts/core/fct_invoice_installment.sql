-- One row per installment (due date) of an AR item. The invoice register carries one due date per
-- invoice and milestones are billed as separate invoices, so each item is one installment here;
-- ar_aging ages installments through this grain.
select
    ar_item_no as invoice_no,
    1 as installment_no,
    customer_id,
    currency,
    issue_date,
    due_date,
    gross_amount as installment_amount
from {{ ref('int_ar_items') }}
where not is_draft
