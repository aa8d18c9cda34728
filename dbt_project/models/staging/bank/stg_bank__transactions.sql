-- Bank statement lines from camt, MT940, BAI2 and bank CSV/XLSX exports. Renamed, cast and trimmed; one row per bank_txn_key:
-- when later extracts re-deliver a key, the most recently loaded version wins.
{{ staging_config('bank', 'bank_transactions', 'bank_txn_key') }}
with source as (

    select * from {{ source('bank', 'bank_transactions') }}
    {{ staging_new_loads() }}

),

renamed as (

    select
        nullif(trim(account_id), '') as account_id,
        nullif(trim(statement_id), '') as statement_id,
        nullif(trim(bank_txn_key), '') as bank_txn_key,
        cast(booking_date as date) as booking_date,
        cast(value_date as date) as value_date,
        cast(amount as decimal(18, 4)) as amount,
        nullif(upper(trim(currency)), '') as currency,
        nullif(trim(counterparty_name), '') as counterparty_name,
        nullif(trim(counterparty_account), '') as counterparty_account,
        nullif(trim(remittance_text), '') as remittance_text,
        nullif(trim(end_to_end_id), '') as end_to_end_id,
        nullif(trim(structured_reference), '') as structured_reference,
        nullif(trim(bank_tx_code), '') as bank_tx_code,
        cast(is_reversal as {{ dbt.type_boolean() }}) as is_reversal,
        nullif(trim(source_position), '') as source_position,
        source_file,
        source_row,
        file_hash,
        loaded_at
    from source

),

ranked as (

    select
        *,
        {{ latest_version_rank('bank_txn_key') }} as version_rank
    from renamed

)

select
    account_id,
    statement_id,
    bank_txn_key,
    booking_date,
    value_date,
    amount,
    currency,
    counterparty_name,
    counterparty_account,
    remittance_text,
    end_to_end_id,
    structured_reference,
    bank_tx_code,
    is_reversal,
    source_position,
    source_file,
    source_row,
    file_hash,
    loaded_at
from ranked
where version_rank = 1
