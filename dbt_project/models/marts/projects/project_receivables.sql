-- Receivables per project as of var('as_of_date'): contract value, billed (net of credit notes),
-- collected, open, milestones planned by the as-of date but not yet billed, retention not yet
-- billed, and the collection rate. Amounts in the reporting currency: contract and milestone values
-- at the signing month's rate, billing and collection at the issue month's rate, open AR revalued
-- at the as-of rate (so billed - collected differs from open by FX revaluation and write-offs).
with projects as (

    select * from {{ ref('stg_erp__projects') }}

),

contracts as (

    select
        contracts.contract_id,
        contracts.project_id,
        contracts.currency,
        contracts.signed_date,
        {{ to_reporting('contracts.contract_amount', 'fx.rate') }} as contract_amount_rpt,
        fx.rate as signing_rate
    from {{ ref('stg_erp__contracts') }} as contracts
    left join {{ ref('int_fx_rates_monthly') }} as fx
        on {{ fx_rate_valid_on('fx', 'contracts.currency', 'contracts.signed_date') }}
    where contracts.signed_date <= {{ as_of_date() }}

),

milestones as (

    select
        contracts.project_id,
        sum(case when milestones.invoice_no is null and milestones.planned_date <= {{ as_of_date() }}
            then {{ to_reporting('milestones.amount', 'contracts.signing_rate') }} else 0 end) as unbilled_due_rpt,
        sum(case when milestones.invoice_no is null
            then {{ to_reporting('milestones.amount', 'contracts.signing_rate') }} else 0 end) as unbilled_total_rpt,
        sum(case when milestones.invoice_no is null and milestones.milestone_type = 'retention'
            then {{ to_reporting('milestones.amount', 'contracts.signing_rate') }} else 0 end) as retention_held_rpt,
        count(case when milestones.invoice_no is null and milestones.planned_date <= {{ as_of_date() }}
            then 1 end) as unbilled_due_milestones
    from {{ ref('stg_erp__payment_milestones') }} as milestones
    inner join contracts
        on milestones.contract_id = contracts.contract_id
    group by contracts.project_id

),

invoiced as (

    select
        project_id,
        sum(case when issue_date <= as_of_date and status not in ('draft', 'cancelled', 'not_yet_issued')
            then gross_amount_rpt else 0 end) as billed_rpt,
        sum({{ to_reporting('paid_amount', 'fx_rate_issue') }}) as collected_rpt,
        sum(case when is_in_ar then open_amount_rpt else 0 end) as open_ar_rpt,
        sum(case when is_in_ar and is_overdue then open_amount_rpt else 0 end) as overdue_ar_rpt
    from {{ ref('fct_invoice') }}
    where project_id is not null
    group by project_id

),

contract_totals as (

    select project_id, sum(contract_amount_rpt) as contract_value_rpt
    from contracts
    group by project_id

)

select
    {{ as_of_date() }} as as_of_date,
    projects.project_id,
    projects.project_name,
    projects.customer_id,
    customers.customer_name,
    customers.salesperson_id,
    customers.region,
    projects.project_manager,
    projects.status as project_status,
    projects.currency,
    {{ reporting_currency() }} as reporting_currency,
    cast(round(coalesce(contract_totals.contract_value_rpt, {{ to_reporting('projects.contract_value', 'fx.rate') }}), 2) as decimal(18, 2))
        as contract_value_rpt,
    cast(round(coalesce(invoiced.billed_rpt, 0), 2) as decimal(18, 2)) as billed_rpt,
    cast(round(coalesce(invoiced.collected_rpt, 0), 2) as decimal(18, 2)) as collected_rpt,
    cast(round(coalesce(invoiced.open_ar_rpt, 0), 2) as decimal(18, 2)) as open_ar_rpt,
    cast(round(coalesce(invoiced.overdue_ar_rpt, 0), 2) as decimal(18, 2)) as overdue_ar_rpt,
    cast(coalesce(milestones.unbilled_due_milestones, 0) as integer) as unbilled_due_milestones,
    cast(round(coalesce(milestones.unbilled_due_rpt, 0), 2) as decimal(18, 2)) as unbilled_due_rpt,
    cast(round(coalesce(milestones.unbilled_total_rpt, 0), 2) as decimal(18, 2)) as unbilled_total_rpt,
    cast(round(coalesce(milestones.retention_held_rpt, 0), 2) as decimal(18, 2)) as retention_held_rpt,
    case when invoiced.billed_rpt > 0
        then cast(round(invoiced.collected_rpt / invoiced.billed_rpt, 4) as decimal(9, 4)) end as collection_rate
from projects
left join contract_totals on projects.project_id = contract_totals.project_id
left join milestones on projects.project_id = milestones.project_id
left join invoiced on projects.project_id = invoiced.project_id
left join {{ ref('dim_customer') }} as customers on projects.customer_id = customers.customer_id
left join {{ ref('int_fx_rates_monthly') }} as fx
    on {{ fx_rate_valid_on('fx', 'projects.currency', 'coalesce(projects.start_date, ' ~ as_of_date() ~ ')') }}
