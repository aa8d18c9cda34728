-- Invoice register (standard invoices, credit and debit notes). Renamed, cast and trimmed; one row per invoice_no:
-- when later extracts re-deliver a key, the most recently loaded version wins.
{{ staging_config('invoicing', 'invoices', 'invoice_no') }}
with source as (

    select * from {{ source('invoicing', 'invoices') }}
    {{ staging_new_loads() }}

),

renamed as (

    select
        nullif(trim(invoice_no), '') as invoice_no,
        nullif(lower(trim(invoice_type)), '') as invoice_type,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(project_id), '') as project_id,
        nullif(trim(contract_id), '') as contract_id,
        nullif(trim(milestone_id), '') as milestone_id,
        cast(issue_date as date) as issue_date,
        cast(due_date as date) as due_date,
        nullif(upper(trim(currency)), '') as currency,
        cast(net_amount as decimal(18, 4)) as net_amount,
        cast(tax_amount as decimal(18, 4)) as tax_amount,
        cast(gross_amount as decimal(18, 4)) as gross_amount,
        cast(tax_rate as decimal(18, 4)) as tax_rate,
        nullif(trim(original_invoice_no), '') as original_invoice_no,
        nullif(lower(trim(status)), '') as status,
        cast(cleared_date as date) as cleared_date,
        cast(cleared_amount as decimal(18, 4)) as cleared_amount,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('invoice_no') }} as version_rank
    from renamed

)

select
    invoice_no,
    invoice_type,
    customer_id,
    project_id,
    contract_id,
    milestone_id,
    issue_date,
    due_date,
    currency,
    net_amount,
    tax_amount,
    gross_amount,
    tax_rate,
    original_invoice_no,
    status,
    cleared_date,
    cleared_amount,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
