-- Projects (engineering, construction, IT services) billed against contracts. Renamed, cast and trimmed; one row per project_id:
-- when later extracts re-deliver a key, the most recently loaded version wins.
{{ staging_config('erp', 'projects', 'project_id') }}
with source as (

    select * from {{ source('erp', 'projects') }}
    {{ staging_new_loads() }}

),

renamed as (

    select
        nullif(trim(project_id), '') as project_id,
        nullif(trim(project_name), '') as project_name,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(project_manager), '') as project_manager,
        cast(start_date as date) as start_date,
        cast(planned_end_date as date) as planned_end_date,
        cast(contract_value as decimal(18, 4)) as contract_value,
        nullif(upper(trim(currency)), '') as currency,
        nullif(lower(trim(status)), '') as status,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('project_id') }} as version_rank
    from renamed

)

select
    project_id,
    project_name,
    customer_id,
    project_manager,
    start_date,
    planned_end_date,
    contract_value,
    currency,
    status,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
