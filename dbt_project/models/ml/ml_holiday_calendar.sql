-- Public-holiday days the payment features count (holidays within an invoice's terms): the official
-- calendar of seeds/holidays (day_type = holiday) and, for the years it does not cover (no Spring
-- Festival in it), the approximation of models_ml.features.default_holidays: Spring Festival eve
-- to its sixth day, 1-7 October, 1-5 May, 1 January. Years 2000-2099; the same rule as
-- models_ml.features.holiday_calendar.
{{ config(materialized='table', schema='marts') }}
with official as (

    select calendar_date, name_en
    from {{ ref('holidays') }}
    where day_type = 'holiday'

),

covered_years as (

    select distinct extract(year from calendar_date) as year_number
    from official
    where name_en = 'Spring Festival'

),

years as (

    select 2000 + n as year_number from ({{ ml_numbers(100) }}) as numbers

),

offsets as (

    select n as day_offset from ({{ ml_numbers(8) }}) as numbers

),

approximate as (

    select cast({{ dbt.dateadd('day', 'offsets.day_offset - 1', 'festivals.festival_date') }} as date) as calendar_date
    from ({{ ml_spring_festival_dates() }}) as festivals
    cross join offsets

    union all

    select cast({{ dbt.dateadd('day', 'offsets.day_offset', 'make_date(cast(years.year_number as integer), 10, 1)') }} as date)
    from years
    cross join offsets
    where offsets.day_offset < 7

    union all

    select cast({{ dbt.dateadd('day', 'offsets.day_offset', 'make_date(cast(years.year_number as integer), 5, 1)') }} as date)
    from years
    cross join offsets
    where offsets.day_offset < 5

    union all

    select make_date(cast(years.year_number as integer), 1, 1)
    from years

),

calendar as (

    select calendar_date, 'official' as source from official

    union all

    select approximate.calendar_date, 'approximate' as source
    from approximate
    left join covered_years
        on extract(year from approximate.calendar_date) = covered_years.year_number
    where covered_years.year_number is null

)

-- one row per day: an approximate day that is also official counts once
select calendar_date, min(source) as source
from calendar
group by calendar_date
