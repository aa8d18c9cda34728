-- Customer master from the ERP. Renamed, cast and trimmed; one row per customer_id:
-- when later extracts re-deliver a key, the most recently loaded version wins.
with source as (

    select * from {{ source('erp', 'customers') }}

),

renamed as (

    select
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(customer_name), '') as customer_name,
        nullif(trim(tax_id), '') as tax_id,
        nullif(trim(parent_customer_id), '') as parent_customer_id,
        nullif(trim(region), '') as region,
        nullif(trim(industry), '') as industry,
        nullif(lower(trim(customer_type)), '') as customer_type,
        nullif(trim(salesperson_id), '') as salesperson_id,
        cast(payment_terms_days as {{ dbt.type_bigint() }}) as payment_terms_days,
        cast(credit_limit as decimal(18, 4)) as credit_limit,
        nullif(upper(trim(currency)), '') as currency,
        cast(created_date as date) as created_date,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('customer_id') }} as version_rank
    from renamed

)

select
    customer_id,
    customer_name,
    tax_id,
    parent_customer_id,
    region,
    industry,
    customer_type,
    salesperson_id,
    payment_terms_days,
    credit_limit,
    currency,
    created_date,
    is_active,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
