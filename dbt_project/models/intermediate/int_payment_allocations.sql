-- Cash applied to invoices, one row per application: the ERP's own clearing (cleared_amount on
-- cleared_date) now; reconciliation matches join here when the engine's table exists.
with erp_cleared as (

    select
        invoice_no,
        cast(null as {{ dbt.type_string() }}) as bank_txn_key,
        cleared_date as applied_date,
        cleared_amount as applied_amount,
        'erp' as application_method,
        cast(1 as decimal(9, 4)) as confidence
    from {{ ref('stg_invoicing__invoices') }}
    where cleared_amount is not null
        and cleared_amount <> 0
        and cleared_date is not null

)

select * from erp_cleared
