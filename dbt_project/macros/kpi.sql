{#- KPI arithmetic (DESIGN.md §5), one macro per formula so kpi_monthly and its unit tests share it.
    Results are null when the denominator is zero or negative (no meaningful figure). -#}

{#- Simple DSO = ending AR / credit sales in the period * days in the period. -#}
{% macro simple_dso(ending_ar, credit_sales, days) -%}
    case when {{ credit_sales }} > 0
        then cast({{ ending_ar }} as double) / {{ credit_sales }} * {{ days }}
    end
{%- endmacro %}


{#- One month's contribution to countback DSO. Months are taken newest first; `cumulative_sales` is
    the sales of this and all newer months. A month whose sales the AR still covers adds all its
    days; the month where AR runs out adds (remaining AR / its sales) * its days; older months add
    nothing. Summing the contributions over the months gives countback DSO; with not-yet-due AR
    instead of total AR it gives best possible DSO. -#}
{% macro countback_contribution(ar, cumulative_sales, month_sales, month_days) -%}
    case
        when {{ ar }} is null or {{ ar }} <= 0 then 0
        when {{ cumulative_sales }} <= {{ ar }} then {{ month_days }}
        when {{ cumulative_sales }} - {{ month_sales }} < {{ ar }}
            then cast({{ ar }} - ({{ cumulative_sales }} - {{ month_sales }}) as double)
                / {{ month_sales }} * {{ month_days }}
        else 0
    end
{%- endmacro %}


{#- CEI = (opening AR + credit sales / N - ending total AR)
          / (opening AR + credit sales / N - ending current AR) * 100, N = months in the period. -#}
{% macro collection_effectiveness_index(opening_ar, credit_sales, n_months, ending_ar, ending_current_ar) -%}
    case
        when ({{ opening_ar }} + cast({{ credit_sales }} as double) / {{ n_months }} - {{ ending_current_ar }}) > 0
            then ({{ opening_ar }} + cast({{ credit_sales }} as double) / {{ n_months }} - {{ ending_ar }})
                / ({{ opening_ar }} + cast({{ credit_sales }} as double) / {{ n_months }} - {{ ending_current_ar }})
                * 100
    end
{%- endmacro %}


{#- A KPI rounded to one decimal, the precision finance reports it at. -#}
{% macro kpi_round(expr) -%}
    cast(round({{ expr }}, 1) as decimal(10, 1))
{%- endmacro %}
