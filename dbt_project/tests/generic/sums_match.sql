{#- Fails for every group where the sum of `column_name` in this model differs from the sum of
    `compare_column` in `compare_model` (both grouped by `group_by`) by more than `tolerance`. -#}
{% test sums_match(model, column_name, compare_model, compare_column, group_by=[], tolerance=0) %}
{%- set keys = group_by | join(', ') -%}
with left_side as (
    select {% if keys %}{{ keys }}, {% endif %}sum({{ column_name }}) as left_total
    from {{ model }}
    {% if keys %}group by {{ keys }}{% endif %}
),
right_side as (
    select {% if keys %}{{ keys }}, {% endif %}sum({{ compare_column }}) as right_total
    from {{ compare_model }}
    {% if keys %}group by {{ keys }}{% endif %}
)
select *
from left_side
full outer join right_side
    {% if keys %}using ({{ keys }}){% else %}on 1 = 1{% endif %}
where abs(coalesce(left_total, 0) - coalesce(right_total, 0)) > {{ tolerance }}
{% endtest %}
