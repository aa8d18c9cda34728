-- One row per calendar day from var('calendar_start') for 10,000 days, with the China working-day
-- calendar: weekends are off unless the holidays seed marks an adjusted working day (调休), and
-- public holidays are off.
with spine as (

    select
        cast({{ dbt.dateadd('day', 'n', "cast('" ~ var('calendar_start', '2020-01-01') ~ "' as date)") }} as date)
            as calendar_date
    from ({{ integer_spine(4) }}) as numbers

),

days as (

    select
        spine.calendar_date,
        {{ huikuan_day_of_week('spine.calendar_date') }} as iso_day_of_week,
        holidays.day_type,
        holidays.is_working_day as calendar_is_working_day,
        holidays.name_en as holiday_name_en,
        holidays.name_zh as holiday_name_zh
    from spine
    left join {{ ref('holidays') }} as holidays
        on spine.calendar_date = holidays.calendar_date

)

select
    calendar_date,
    cast(extract(year from calendar_date) as integer) as calendar_year,
    cast(extract(quarter from calendar_date) as integer) as calendar_quarter,
    cast(extract(month from calendar_date) as integer) as calendar_month,
    cast(extract(day from calendar_date) as integer) as day_of_month,
    cast(iso_day_of_week as integer) as iso_day_of_week,
    cast({{ dbt.date_trunc('month', 'calendar_date') }} as date) as month_start_date,
    {{ month_end('calendar_date') }} as month_end_date,
    calendar_date = {{ month_end('calendar_date') }} as is_month_end,
    cast({{ month_index('calendar_date') }} as integer) as month_index,
    iso_day_of_week >= 6 as is_weekend,
    coalesce(day_type = 'holiday', false) as is_holiday,
    coalesce(day_type = 'adjusted_workday', false) as is_adjusted_workday,
    coalesce(calendar_is_working_day, iso_day_of_week <= 5) as is_working_day,
    holiday_name_en,
    holiday_name_zh
from days
