{#- ISO day of week (1 = Monday .. 7 = Sunday), dispatched per adapter. -#}
{% macro huikuan_day_of_week(date_expr) -%}
    {{ return(adapter.dispatch('huikuan_day_of_week', 'huikuan')(date_expr)) }}
{%- endmacro %}

{% macro default__huikuan_day_of_week(date_expr) -%}
    extract(isodow from {{ date_expr }})
{%- endmacro %}

{% macro spark__huikuan_day_of_week(date_expr) -%}
    (((dayofweek({{ date_expr }}) + 5) % 7) + 1)
{%- endmacro %}
