-- Exchange rates into the reporting currency as validity ranges: a month's rate holds until the
-- next published month, so dates after the last seeded month use the latest rate. The reporting
-- currency itself is added with rate 1.
with seeded as (

    select
        cast(rate_month as date) as valid_from,
        upper(currency) as currency,
        cast(rate as decimal(18, 6)) as rate
    from {{ ref('fx_rates') }}
    where upper(quote_currency) = {{ reporting_currency() }}

),

identity as (

    select distinct
        valid_from,
        {{ reporting_currency() }} as currency,
        cast(1 as decimal(18, 6)) as rate
    from seeded

),

unioned as (

    select * from seeded
    union all
    select * from identity

)

select
    currency,
    valid_from,
    lead(valid_from) over (partition by currency order by valid_from) as valid_to,
    rate
from unioned
