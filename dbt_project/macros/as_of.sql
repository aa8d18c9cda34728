{#- The date the as-of marts are computed for: var('as_of_date') (YYYY-MM-DD) or today. -#}
{% macro as_of_date() -%}
    {%- set value = var('as_of_date', none) -%}
    {%- if value is none or value == '' or value == 'none' -%}
        current_date
    {%- else -%}
        cast('{{ value }}' as date)
    {%- endif -%}
{%- endmacro %}


{#- Whole days from start_date to end_date (end - start), portable across adapters. -#}
{% macro days_between(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'day') }}
{%- endmacro %}


{#- Reporting currency code as a SQL literal. -#}
{% macro reporting_currency() -%}
    '{{ var("reporting_currency", "CNY") }}'
{%- endmacro %}


{#- An amount translated at `rate` into the reporting currency. The amount is widened first: large
    contract values times a 6-decimal rate overflow 18-digit decimal arithmetic. -#}
{% macro to_reporting(amount, rate) -%}
    (cast({{ amount }} as decimal(38, 4)) * {{ rate }})
{%- endmacro %}


{#- The same, rounded to cents as decimal(18, 2). -#}
{% macro to_reporting_rounded(amount, rate) -%}
    cast(round({{ to_reporting(amount, rate) }}, 2) as decimal(18, 2))
{%- endmacro %}
