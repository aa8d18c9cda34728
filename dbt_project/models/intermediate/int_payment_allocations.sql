-- Cash applied to invoices, one row per application.
-- Without reconciliation results: the ERP's own clearing (cleared_amount on cleared_date).
-- Once the reconciliation engine has written reconciliation.matches: ERP clearings dated before
-- the bank lines it has covered (reconciliation.coverage.covered_from: a run limited to recent
-- lines leaves earlier payments to the ERP; without a date, the bank history's start: those
-- payments are not in the bank files) plus the engine's applied
-- matches (auto and manual); later ERP clearings are the same payments the matches apply, so they
-- are not counted twice. Short payments the engine wrote off (bank fees, rounding) are adjustments.
-- depends_on: {{ ref('stg_bank__transactions') }}
{%- set matches = none -%}
{%- set coverage = none -%}
{%- if execute -%}
    {%- set matches = adapter.get_relation(database=target.database, schema='reconciliation', identifier='matches') -%}
    {%- set coverage = adapter.get_relation(database=target.database, schema='reconciliation', identifier='coverage') -%}
{%- endif %}
with erp_cleared as (

    select
        invoice_no,
        cast(null as {{ dbt.type_string() }}) as bank_txn_key,
        cleared_date as applied_date,
        cleared_amount as applied_amount,
        'payment' as application_type,
        'erp' as application_method,
        cast(1 as double) as confidence
    from {{ ref('stg_invoicing__invoices') }}
    where cleared_amount is not null
        and cleared_amount <> 0
        and cleared_date is not null
    {%- if matches is not none %}
        and cleared_date < coalesce(
            {%- if coverage is not none %}
            (select max(covered_from) from {{ coverage }}),
            {%- endif %}
            (select min(booking_date) from {{ ref('stg_bank__transactions') }}),
            cast('9999-12-31' as date)
        )
    {%- endif %}

)
{%- if matches is not none %},

matched as (

    select
        invoice_no,
        bank_txn_key,
        booking_date as applied_date,
        cast(applied_amount as decimal(18, 4)) as applied_amount,
        'payment' as application_type,
        coalesce(rule, status) as application_method,
        cast(confidence as double) as confidence
    from {{ matches }}
    where status in ('auto', 'manual') and invoice_no is not null and coalesce(applied_amount, 0) <> 0

    union all

    select
        invoice_no,
        bank_txn_key,
        booking_date as applied_date,
        cast(written_off_amount as decimal(18, 4)) as applied_amount,
        'short_payment_write_off' as application_type,
        coalesce(rule, status) as application_method,
        cast(confidence as double) as confidence
    from {{ matches }}
    where status in ('auto', 'manual') and invoice_no is not null and coalesce(written_off_amount, 0) <> 0

)

select * from erp_cleared
union all
select * from matched
{%- else %}

select * from erp_cleared
{%- endif %}
