-- Invoice lifecycle events. Renamed, cast and trimmed; one row per invoice_no + event_type + event_at:
-- when later extracts re-deliver a key, the most recently loaded version wins.
{{ staging_config('invoicing', 'invoice_events', ['invoice_no', 'event_type', 'event_at']) }}
with source as (

    select * from {{ source('invoicing', 'invoice_events') }}
    {{ staging_new_loads() }}

),

renamed as (

    select
        nullif(trim(invoice_no), '') as invoice_no,
        nullif(lower(trim(event_type)), '') as event_type,
        cast(event_at as {{ dbt.type_timestamp() }}) as event_at,
        nullif(trim(actor), '') as actor,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('invoice_no, event_type, event_at') }} as version_rank
    from renamed

)

select
    invoice_no,
    event_type,
    event_at,
    actor,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
