-- Sales contracts. Renamed, cast and trimmed; one row per contract_id:
-- when later extracts re-deliver a key, the most recently loaded version wins.
{{ staging_config('erp', 'contracts', 'contract_id') }}
with source as (

    select * from {{ source('erp', 'contracts') }}
    {{ staging_new_loads() }}

),

renamed as (

    select
        nullif(trim(contract_id), '') as contract_id,
        nullif(trim(project_id), '') as project_id,
        nullif(trim(customer_id), '') as customer_id,
        cast(signed_date as date) as signed_date,
        cast(contract_amount as decimal(18, 4)) as contract_amount,
        nullif(upper(trim(currency)), '') as currency,
        cast(payment_terms_days as {{ dbt.type_bigint() }}) as payment_terms_days,
        cast(retention_pct as decimal(18, 4)) as retention_pct,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('contract_id') }} as version_rank
    from renamed

)

select
    contract_id,
    project_id,
    customer_id,
    signed_date,
    contract_amount,
    currency,
    payment_terms_days,
    retention_pct,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
