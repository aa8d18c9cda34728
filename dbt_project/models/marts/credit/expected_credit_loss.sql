-- IFRS 9 simplified approach as of var('as_of_date'): per customer and aging bucket, the open
-- amount (due-date basis, reporting currency) times the bucket's historical loss rate from
-- seeds/provision_matrix. Net credits in a bucket carry no provision (floored at zero). The
-- model-based columns (PD x open amount) are filled by the ML scoring step; null until then.
with aging as (

    select
        as_of_date,
        customer_id,
        bucket_key,
        bucket_order,
        sum(open_amount_rpt) as open_amount_rpt
    from {{ ref('ar_aging') }}
    where basis = 'due_date'
    group by as_of_date, customer_id, bucket_key, bucket_order

)

select
    aging.as_of_date,
    aging.customer_id,
    aging.bucket_key,
    cast(aging.bucket_order as integer) as bucket_order,
    {{ reporting_currency() }} as reporting_currency,
    cast(aging.open_amount_rpt as decimal(18, 2)) as open_amount_rpt,
    cast(matrix.loss_rate as decimal(9, 4)) as loss_rate,
    cast(
        case when aging.open_amount_rpt > 0 then round(aging.open_amount_rpt * coalesce(matrix.loss_rate, 0), 2) else 0 end
        as decimal(18, 2)
    ) as ecl_provision_matrix_rpt,
    cast(null as double) as probability_of_default,
    cast(null as decimal(18, 2)) as ecl_model_rpt,
    cast(null as {{ dbt.type_string() }}) as model_version
from aging
left join {{ ref('provision_matrix') }} as matrix
    on aging.bucket_key = matrix.bucket_key
