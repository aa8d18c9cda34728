{#- Helpers of the point-in-time feature mart (models/ml). Each mirrors a piece of
    models_ml/features.py; tests/ml/test_feature_mart.py proves the two give the same values. -#}

{#- Median of a window frame or group. Not portable SQL: DuckDB and Postgres name it differently
    from Spark (percentile, which interpolates like pandas' median of an even count). -#}
{% macro ml_median(expr) -%}
    {{ return(adapter.dispatch('ml_median', 'huikuan')(expr)) }}
{%- endmacro %}

{% macro default__ml_median(expr) -%}
    median({{ expr }})
{%- endmacro %}

{% macro spark__ml_median(expr) -%}
    percentile({{ expr }}, 0.5)
{%- endmacro %}


{#- sign(x) * ln(1 + |x|): amounts on a log scale, defined for zero and negatives (features._log). -#}
{% macro ml_signed_log(expr) -%}
    (case when {{ expr }} < 0 then -ln(1 + abs({{ expr }})) else ln(1 + abs({{ expr }})) end)
{%- endmacro %}


{#- Spring Festival (Chinese New Year's day) 2008-2035, as rows (festival_date); the same list as
    models_ml.features.SPRING_FESTIVAL. -#}
{% macro ml_spring_festival_dates() -%}
    {%- set dates = ['2008-02-07', '2009-01-26', '2010-02-14', '2011-02-03', '2012-01-23', '2013-02-10', '2014-01-31', '2015-02-19', '2016-02-08', '2017-01-28', '2018-02-16', '2019-02-05', '2020-01-25', '2021-02-12', '2022-02-01', '2023-01-22', '2024-02-10', '2025-01-29', '2026-02-17', '2027-02-06', '2028-01-26', '2029-02-13', '2030-02-03', '2031-01-23', '2032-02-11', '2033-01-31', '2034-02-19', '2035-02-08'] -%}
    {%- for d in dates %}
    select cast('{{ d }}' as date) as festival_date{% if not loop.last %} union all{% endif %}
    {%- endfor %}
{%- endmacro %}


{#- Rows 0..n-1 (column n), portable (no generate_series / range / sequence). n <= 1000. -#}
{% macro ml_numbers(n) -%}
    select hundreds.d * 100 + tens.d * 10 + ones.d as n
    from ({% for i in range(10) %}select {{ i }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as hundreds
    cross join ({% for i in range(10) %}select {{ i }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as tens
    cross join ({% for i in range(10) %}select {{ i }} as d{% if not loop.last %} union all {% endif %}{% endfor %}) as ones
    where hundreds.d * 100 + tens.d * 10 + ones.d < {{ n }}
{%- endmacro %}
