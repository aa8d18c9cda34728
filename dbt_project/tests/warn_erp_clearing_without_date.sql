{{ config(severity='warn') }}
-- ERP clearings with an amount but no clearing date cannot be placed in time, so they are not
-- applied (the invoice stays open). Listed so the extract can be fixed (warning, not an error).
select invoice_no, cleared_amount
from {{ ref('stg_invoicing__invoices') }}
where cleared_amount is not null and cleared_amount <> 0 and cleared_date is null
