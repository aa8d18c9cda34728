-- Open receivables by aging bucket as of var('as_of_date'), on two bases: due date (the default
-- view: age = as-of date - due date) and invoice date (age = as-of date - issue date). One row per
-- basis and open AR item; the buckets of each basis sum to total open AR on that date.
with as_of as (

    select {{ as_of_date() }} as as_of_date

),

open_items as (

    {{ open_ar_items('as_of') }}

),

bases as (

    select 'due_date' as basis
    union all
    select 'invoice_date' as basis

)

{{ ar_aging_rows('open_items', 'bases') }}
