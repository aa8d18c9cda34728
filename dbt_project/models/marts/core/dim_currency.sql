-- One row per currency seen in invoices, bank lines or the FX seed, with its latest rate into the
-- reporting currency.
with seen as (

    select currency from {{ ref('stg_invoicing__invoices') }}
    union
    select currency from {{ ref('stg_bank__transactions') }}
    union
    select currency from {{ ref('int_fx_rates_monthly') }}

),

latest as (

    select currency, rate, valid_from
    from {{ ref('int_fx_rates_monthly') }}
    where valid_to is null

)

select
    seen.currency,
    seen.currency = {{ reporting_currency() }} as is_reporting_currency,
    cast(latest.rate as decimal(18, 6)) as latest_rate,
    latest.valid_from as latest_rate_month
from seen
left join latest
    on seen.currency = latest.currency
where seen.currency is not null
