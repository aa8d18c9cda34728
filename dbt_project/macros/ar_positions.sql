{#- Open AR items on each date of `dates_relation` (a relation or CTE name with an `as_of_date`
    column): one row per (as_of_date, ar_item_no) with a non-zero open amount in the document
    currency. An item is open on D when it was issued on or before D, is not a draft, had not left
    AR (cancelled / written off) by D, and the sum of its ledger movements dated <= D is not zero.
    Payments and credit notes dated after D are not applied. The join only visits dates inside an
    item's possible open window, so month-end snapshots stay cheap. -#}
{% macro open_ar_items(dates_relation) -%}
    select
        dates.as_of_date,
        items.ar_item_no,
        sum(movements.amount) as open_amount
    from {{ dates_relation }} as dates
    inner join {{ ref('int_ar_items') }} as items
        on items.issue_date <= dates.as_of_date
        and not items.is_draft
        and (items.ar_exit_date is null or items.ar_exit_date > dates.as_of_date)
        and (items.settled_date is null or items.settled_date > dates.as_of_date)
    inner join {{ ref('int_ar_movements') }} as movements
        on movements.ar_item_no = items.ar_item_no
        and movements.movement_date <= dates.as_of_date
    group by dates.as_of_date, items.ar_item_no
    having sum(movements.amount) <> 0
{%- endmacro %}


{#- Left-join condition picking the exchange rate valid on `date_expr` for `currency_expr` from
    int_fx_rates_monthly aliased `fx_alias`. -#}
{% macro fx_rate_valid_on(fx_alias, currency_expr, date_expr) -%}
    {{ fx_alias }}.currency = {{ currency_expr }}
    and {{ date_expr }} >= {{ fx_alias }}.valid_from
    and ({{ fx_alias }}.valid_to is null or {{ date_expr }} < {{ fx_alias }}.valid_to)
{%- endmacro %}


{#- Aging rows for open items (`open_items_relation`: as_of_date, ar_item_no, open_amount) on each
    basis in `bases_relation` (column basis: due_date / invoice_date), with bucket, owner and
    reporting-currency amount revalued at the as-of date's rate. Shared by ar_aging and
    ar_aging_monthly so both compute exactly the same thing. -#}
{% macro ar_aging_rows(open_items_relation, bases_relation) -%}
, aged as (

    select
        open_items.as_of_date,
        bases.basis,
        items.ar_item_no as invoice_no,
        items.document_type as invoice_type,
        items.customer_id,
        items.project_id,
        items.contract_id,
        items.salesperson_id,
        items.region,
        items.currency,
        items.issue_date,
        items.due_date,
        case
            when bases.basis = 'invoice_date'
                then {{ days_between('items.issue_date', 'open_items.as_of_date') }}
            else {{ days_between('items.due_date', 'open_items.as_of_date') }}
        end as age_days,
        {{ days_between('items.due_date', 'open_items.as_of_date') }} as days_past_due,
        open_items.open_amount
    from {{ open_items_relation }} as open_items
    inner join {{ ref('int_ar_items') }} as items
        on open_items.ar_item_no = items.ar_item_no
    cross join {{ bases_relation }} as bases

)

select
    aged.as_of_date,
    aged.basis,
    aged.invoice_no,
    aged.invoice_type,
    aged.customer_id,
    customers.customer_name,
    customers.parent_customer_id,
    aged.project_id,
    aged.contract_id,
    aged.salesperson_id,
    aged.region,
    aged.currency,
    aged.issue_date,
    aged.due_date,
    buckets.bucket_key,
    buckets.label_en as bucket_label_en,
    buckets.label_zh as bucket_label_zh,
    cast(buckets.sort_order as integer) as bucket_order,
    cast(aged.age_days as integer) as age_days,
    aged.days_past_due > 0 as is_overdue,
    cast(aged.open_amount as decimal(18, 4)) as open_amount,
    {{ reporting_currency() }} as reporting_currency,
    cast(fx.rate as decimal(18, 6)) as fx_rate,
    {{ to_reporting_rounded('aged.open_amount', 'fx.rate') }} as open_amount_rpt
from aged
inner join {{ ref('aging_buckets') }} as buckets
    on {{ aging_bucket_condition('aged.age_days', 'buckets') }}
left join {{ ref('stg_erp__customers') }} as customers
    on aged.customer_id = customers.customer_id
left join {{ ref('int_fx_rates_monthly') }} as fx
    on {{ fx_rate_valid_on('fx', 'aged.currency', 'aged.as_of_date') }}
{%- endmacro %}
