-- Sales staff who own customers. Renamed, cast and trimmed; one row per salesperson_id:
-- when later extracts re-deliver a key, the most recently loaded version wins.
with source as (

    select * from {{ source('erp', 'salespeople') }}

),

renamed as (

    select
        nullif(trim(salesperson_id), '') as salesperson_id,
        nullif(trim(name), '') as name,
        nullif(trim(team), '') as team,
        nullif(trim(region), '') as region,
        nullif(trim(email), '') as email,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('salesperson_id') }} as version_rank
    from renamed

)

select
    salesperson_id,
    name,
    team,
    region,
    email,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
