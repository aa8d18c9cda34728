-- Contract payment plan (收款计划). Renamed, cast and trimmed; one row per milestone_id:
-- when later extracts re-deliver a key, the most recently loaded version wins.
{{ staging_config('erp', 'payment_milestones', 'milestone_id') }}
with source as (

    select * from {{ source('erp', 'payment_milestones') }}
    {{ staging_new_loads() }}

),

renamed as (

    select
        nullif(trim(milestone_id), '') as milestone_id,
        nullif(trim(contract_id), '') as contract_id,
        cast(seq as {{ dbt.type_bigint() }}) as seq,
        nullif(lower(trim(milestone_type)), '') as milestone_type,
        cast(pct as decimal(18, 4)) as pct,
        cast(amount as decimal(18, 4)) as amount,
        cast(planned_date as date) as planned_date,
        nullif(trim(invoice_no), '') as invoice_no,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('milestone_id') }} as version_rank
    from renamed

)

select
    milestone_id,
    contract_id,
    seq,
    milestone_type,
    pct,
    amount,
    planned_date,
    invoice_no,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
