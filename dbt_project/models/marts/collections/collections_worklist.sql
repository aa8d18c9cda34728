-- The AR clerk's worklist as of var('as_of_date'): every open invoice that is overdue or due within
-- the pre-reminder window, with its dunning stage, next action and owner from
-- seeds/dunning_policy, and its expected loss (open amount x the provision-matrix loss rate of its
-- bucket), ranked by expected loss, then days overdue. Predicted pay date and default probability
-- come from the ML scoring step (null until it has run); promises to pay live in the operational
-- store and are joined by the dashboard. The top three factors behind each predicted delay and
-- default risk (models_ml/explain.py: + days late / + percentage points against the portfolio's
-- reference values) come with the predictions, from the same model version.
{{ config(tags=['ml_enriched']) }}
{%- set predictions = ml_predictions_relation() %}
{%- set factor_columns = [] %}
{%- for prefix, unit in [('delay_factor', 'days'), ('risk_factor', 'pp')] %}
{%- for i in range(1, 4) %}
{%- do factor_columns.append((prefix ~ '_' ~ i, prefix ~ '_' ~ i ~ '_' ~ unit)) %}
{%- endfor %}
{%- endfor %}
{%- set prediction_columns = [] %}
{%- if predictions is not none %}
{%- for column in adapter.get_columns_in_relation(predictions) %}
{%- do prediction_columns.append(column.name | lower) %}
{%- endfor %}
{%- endif %}
with open_items as (

    select * from {{ ref('fct_invoice') }}
    where is_in_ar and open_amount > 0

),

policy as (

    select * from {{ ref('dunning_policy') }}

),

staged as (

    select
        open_items.*,
        policy.stage_key,
        policy.stage_order,
        policy.owner_role,
        policy.channel,
        policy.action_en,
        policy.action_zh
    from open_items
    inner join policy
        on open_items.days_overdue >= policy.min_days_overdue
        and (policy.max_days_overdue is null or open_items.days_overdue <= policy.max_days_overdue)

),

bucketed as (

    select
        staged.*,
        buckets.bucket_key,
        matrix.loss_rate
    from staged
    inner join {{ ref('aging_buckets') }} as buckets
        on {{ aging_bucket_condition('staged.days_overdue', 'buckets') }}
    left join {{ ref('provision_matrix') }} as matrix
        on buckets.bucket_key = matrix.bucket_key

)

select
    bucketed.as_of_date,
    cast(row_number() over (
        order by cast(bucketed.open_amount_rpt as decimal(38, 2)) * coalesce(bucketed.loss_rate, 0) desc,
            bucketed.days_overdue desc, bucketed.invoice_no
    ) as integer) as priority_rank,
    bucketed.invoice_no,
    bucketed.customer_id,
    customers.customer_name,
    bucketed.project_id,
    bucketed.salesperson_id,
    customers.salesperson_name,
    bucketed.region,
    bucketed.currency,
    bucketed.issue_date,
    bucketed.due_date,
    bucketed.days_overdue,
    bucketed.bucket_key,
    bucketed.open_amount,
    bucketed.open_amount_rpt,
    bucketed.stage_key as dunning_stage,
    cast(bucketed.stage_order as integer) as dunning_stage_order,
    bucketed.owner_role,
    case when bucketed.owner_role = 'salesperson' then bucketed.salesperson_id end as owner_id,
    bucketed.channel as contact_channel,
    bucketed.action_en as next_action_en,
    bucketed.action_zh as next_action_zh,
    bucketed.is_disputed,
    cast(bucketed.loss_rate as decimal(9, 4)) as loss_rate,
    cast(round(cast(bucketed.open_amount_rpt as decimal(38, 2)) * coalesce(bucketed.loss_rate, 0), 2) as decimal(18, 2)) as expected_loss_rpt,
{%- if predictions is not none %}
    cast(predictions.expected_pay_date as date) as predicted_pay_date,
    cast(predictions.p_default as double) as probability_of_default,
    cast(predictions.model_version as {{ dbt.type_string() }}) as model_version,
{%- else %}
    cast(null as date) as predicted_pay_date,
    cast(null as double) as probability_of_default,
    cast(null as {{ dbt.type_string() }}) as model_version,
{%- endif %}
{%- for name, effect in factor_columns %}
{%- if name in prediction_columns and effect in prediction_columns %}
    cast(predictions.{{ name }} as {{ dbt.type_string() }}) as {{ name }},
    cast(predictions.{{ effect }} as double) as {{ effect }}{{ ',' if not loop.last }}
{%- else %}
    cast(null as {{ dbt.type_string() }}) as {{ name }},
    cast(null as double) as {{ effect }}{{ ',' if not loop.last }}
{%- endif %}
{%- endfor %}
from bucketed
left join {{ ref('dim_customer') }} as customers
    on bucketed.customer_id = customers.customer_id
{%- if predictions is not none %}
left join {{ predictions }} as predictions
    on bucketed.invoice_no = predictions.invoice_no
    and cast(predictions.as_of as date) = bucketed.as_of_date
{%- endif %}
