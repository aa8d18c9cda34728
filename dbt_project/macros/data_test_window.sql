{#- Data tests of the daily run on the rows it can have changed, whole tables everywhere else.

    The tests that read a whole history table (daily balances, month-end snapshots, every lifecycle
    event) cost as much every day as on the first. A test whose `where` config names a window
    placeholder checks, when var('data_test_window_days') is set (the daily job and the warehouse
    benchmark's daily run set it: pipelines/dbt/assets.py DAILY_VARS), only the rows inside the
    window; without the var (full builds, CI, `dbt build` by hand) it checks every row:
      __data_test_window_start__  the first day of the window ending on the as-of date: for dated
                                  rows (`balance_date >= __data_test_window_start__`);
      __recent_loads_start__      the newest loaded_at of the tested model minus the window: for
                                  staging rows, by when they were loaded
                                  (`loaded_at > __recent_loads_start__`).
    Singular tests call `data_test_window_start()` / `recent_loads_start(relation)` themselves. -#}

{% macro data_test_window_days() -%}
    {%- set days = var('data_test_window_days', none) -%}
    {{- return(none if days in (none, '', 'none') else days | int) -}}
{%- endmacro %}


{% macro data_test_window_start() -%}
    {%- set days = data_test_window_days() -%}
    {%- if days is none -%}
        cast('1900-01-01' as date)
    {%- else -%}
        cast({{ dbt.dateadd('day', 1 - days, as_of_date()) }} as date)
    {%- endif -%}
{%- endmacro %}


{% macro recent_loads_start(relation, loaded_at='loaded_at') -%}
    {%- set days = data_test_window_days() -%}
    {%- if days is none -%}
        cast('1900-01-01' as {{ dbt.type_timestamp() }})
    {%- else -%}
        (select {{ dbt.dateadd('day', -days, 'max(' ~ loaded_at ~ ')') }} from {{ relation }})
    {%- endif -%}
{%- endmacro %}


{#- dbt's `where` config for generic tests, with the window placeholders above filled in. -#}
{% macro default__get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- set where = where
            | replace('__data_test_window_start__', data_test_window_start())
            | replace('__recent_loads_start__', recent_loads_start(relation)) -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
