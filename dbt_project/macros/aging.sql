{#- Join condition placing an age (days) in its aging bucket from the aging_buckets seed
    (alias `bucket_alias`): buckets are contiguous, so "lower <= age <= upper" is the first bucket
    whose upper bound is >= the age (DESIGN.md §5). Open-ended bounds are empty in the seed. -#}
{% macro aging_bucket_condition(age_expr, bucket_alias='b') -%}
    ({{ age_expr }} >= coalesce({{ bucket_alias }}.lower_bound_days, -2147483647)
     and {{ age_expr }} <= coalesce({{ bucket_alias }}.upper_bound_days, 2147483647))
{%- endmacro %}
