-- IFRS 9 simplified approach as of var('as_of_date'): per customer and aging bucket, the open
-- amount (due-date basis, reporting currency) times the bucket's historical loss rate from
-- seeds/provision_matrix. Net credits in a bucket carry no provision (floored at zero). The
-- model-based columns are the ML scoring step's probability of default (unpaid 90 days after due)
-- times each invoice's open amount (loss given default taken as 100 %), summed per customer and
-- bucket over the invoices it scored; null before any model has scored this as-of date.
{{ config(tags=['ml_enriched']) }}
{%- set predictions = ml_predictions_relation() %}
with aging as (

    select
        ar.as_of_date,
        ar.customer_id,
        ar.bucket_key,
        ar.bucket_order,
        sum(ar.open_amount_rpt) as open_amount_rpt,
{%- if predictions is not none %}
        sum(case when ar.open_amount_rpt > 0 then ar.open_amount_rpt * predictions.p_default end) as ecl_model_rpt,
        sum(case when ar.open_amount_rpt > 0 and predictions.p_default is not null then ar.open_amount_rpt end)
            as scored_amount_rpt,
        max(predictions.model_version) as model_version
{%- else %}
        cast(null as double) as ecl_model_rpt,
        cast(null as double) as scored_amount_rpt,
        cast(null as {{ dbt.type_string() }}) as model_version
{%- endif %}
    from {{ ref('ar_aging') }} as ar
{%- if predictions is not none %}
    left join {{ predictions }} as predictions
        on ar.invoice_no = predictions.invoice_no
        and cast(predictions.as_of as date) = ar.as_of_date
{%- endif %}
    where ar.basis = 'due_date'
    group by ar.as_of_date, ar.customer_id, ar.bucket_key, ar.bucket_order

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
    cast(aging.ecl_model_rpt / nullif(aging.scored_amount_rpt, 0) as double) as probability_of_default,
    cast(round(aging.ecl_model_rpt, 2) as decimal(18, 2)) as ecl_model_rpt,
    cast(aging.model_version as {{ dbt.type_string() }}) as model_version
from aging
left join {{ ref('provision_matrix') }} as matrix
    on aging.bucket_key = matrix.bucket_key
