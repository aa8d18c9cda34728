-- Bank statement headers with balances where the format carries them. Renamed, cast and trimmed; one row per statement_id:
-- when later extracts re-deliver a key, the most recently loaded version wins.
with source as (

    select * from {{ source('bank', 'bank_statements') }}

),

renamed as (

    select
        nullif(trim(statement_id), '') as statement_id,
        nullif(trim(account_id), '') as account_id,
        nullif(upper(trim(currency)), '') as currency,
        cast(opening_date as date) as opening_date,
        cast(opening_balance as decimal(18, 4)) as opening_balance,
        cast(closing_date as date) as closing_date,
        cast(closing_balance as decimal(18, 4)) as closing_balance,
        cast(entry_count as {{ dbt.type_bigint() }}) as entry_count,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('statement_id') }} as version_rank
    from renamed

)

select
    statement_id,
    account_id,
    currency,
    opening_date,
    opening_balance,
    closing_date,
    closing_balance,
    entry_count,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
