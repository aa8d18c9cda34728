{#- Integers 0 .. 10^digits - 1 as column `n`, from cross-joined digit lists: portable (no
    generate_series), so the same date spine builds on DuckDB and Spark. -#}
{% macro integer_spine(digits=4) -%}
    {%- for i in range(digits) %}
    {%- if loop.first %}
    select {% for j in range(digits) %}d{{ j }}.n * {{ 10 ** j }}{% if not loop.last %} + {% endif %}{% endfor %} as n
    from {% endif -%}
    (select 0 as n union all select 1 union all select 2 union all select 3 union all select 4
     union all select 5 union all select 6 union all select 7 union all select 8 union all select 9) as d{{ i }}
    {%- if not loop.last %} cross join {% endif %}
    {%- endfor %}
{%- endmacro %}


{#- Months since year 0 (year * 12 + month - 1): consecutive months differ by 1, for lags. -#}
{% macro month_index(date_expr) -%}
    (extract(year from {{ date_expr }}) * 12 + extract(month from {{ date_expr }}) - 1)
{%- endmacro %}


{#- Last day of the month of a date, via the cross-database macros. -#}
{% macro month_end(date_expr) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, dbt.date_trunc('month', date_expr))) }} as date)
{%- endmacro %}
