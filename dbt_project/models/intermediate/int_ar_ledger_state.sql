-- Fingerprint of everything the incremental month-end and daily marts (fct_ar_daily,
-- ar_aging_monthly, int_kpi_monthly_inputs, kpi_monthly) are computed from, one row per kind of fact and date
-- from which the facts matter: invoice attributes from the issue date, ledger movements from their date,
-- exits from AR from the exit date, the FX rate of a month from its first day; customer attributes,
-- aging buckets and the KPI variables from the start of time. Each date and kind of fact carries
-- the number of facts and the sum of their row hashes. An incremental build compares this table
-- with the copy it saved last time (macros/ledger_state.sql): the earliest date whose fingerprint
-- appeared, disappeared or changed, among the kinds the mart reads, is the first day whose figures
-- can have changed, so a payment loaded today for an old invoice reopens history from its payment
-- date on and nothing earlier. A customer's first invoice adds its KPI rows from that invoice's
-- month on (int_kpi_monthly_inputs), so it is dated by the invoice, not at the start of time.
{{ config(materialized="table") }}
{%- set start_of_time = "cast('1900-01-01' as date)" %}
with invoices as (

    select * from {{ ref('int_invoices_classified') }}

),

state as (

    select
        'invoice' as state_kind,
        invoice_no as state_key,
        issue_date as state_date,
        ar_item_no as text_1,
        document_type as text_2,
        customer_id as text_3,
        project_id as text_4,
        contract_id as text_5,
        currency as text_6,
        case when is_draft then 'draft' else 'issued' end as text_7,
        due_date as date_1,
        cast(gross_amount as decimal(38, 6)) as amount
    from invoices

    union all

    select 'cancelled', invoice_no, cancelled_date, null, null, null, null, null, null, null, null, null
    from invoices
    where cancelled_date is not null

    union all

    select 'written_off', invoice_no, written_off_date, null, null, null, null, null, null, null, null, null
    from invoices
    where written_off_date is not null

    union all

    select 'movement', ar_item_no, movement_date, movement_type, document_no, bank_txn_key,
        application_method, null, null, null, null, cast(amount as decimal(38, 6))
    from {{ ref('int_ar_movements') }}

    union all

    select 'customer', customer_id, {{ start_of_time }}, customer_name, parent_customer_id, salesperson_id,
        region, null, null, null, null, null
    from {{ ref('stg_erp__customers') }}

    union all

    select 'fx_rate', currency, valid_from, null, null, null, null, null, null, null, null,
        cast(rate as decimal(38, 6))
    from {{ ref('int_fx_rates_monthly') }}

    union all

    select 'aging_bucket', bucket_key, {{ start_of_time }}, label_en, label_zh,
        cast(lower_bound_days as {{ dbt.type_string() }}), cast(upper_bound_days as {{ dbt.type_string() }}),
        cast(sort_order as {{ dbt.type_string() }}), null, null, null, null
    from {{ ref('aging_buckets') }}

    union all

    select 'vars', 'kpi', {{ start_of_time }}, {{ reporting_currency() }},
        '{{ var("dso_period_months", 3) }}', '{{ var("countback_max_months", 12) }}',
        '{{ var("calendar_start", "2020-01-01") }}', null, null, null, null, null

),

facts as (

    select
        coalesce(state_date, {{ start_of_time }}) as state_date,
        state_kind,
        {{ huikuan_row_hash([
            'state_kind', 'state_key', 'state_date', 'text_1', 'text_2', 'text_3', 'text_4', 'text_5',
            'text_6', 'text_7', 'date_1', 'amount']) }} as row_hash
    from state

)

select
    state_date,
    state_kind,
    count(*) as facts,
    sum(cast(row_hash as decimal(38, 0))) as fingerprint
from facts
group by state_date, state_kind
