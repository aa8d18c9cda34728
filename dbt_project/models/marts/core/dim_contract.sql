-- One row per sales contract with its milestone plan summarised: planned, billed and unbilled
-- amounts, and retention terms.
with milestones as (

    select
        contract_id,
        count(*) as milestones,
        sum(amount) as planned_amount,
        sum(case when invoice_no is not null then amount else 0 end) as billed_milestone_amount,
        sum(case when milestone_type = 'retention' then amount else 0 end) as retention_amount
    from {{ ref('stg_erp__payment_milestones') }}
    group by contract_id

)

select
    contracts.contract_id,
    contracts.project_id,
    contracts.customer_id,
    contracts.signed_date,
    contracts.contract_amount,
    contracts.currency,
    cast(contracts.payment_terms_days as integer) as payment_terms_days,
    contracts.retention_pct,
    cast(coalesce(milestones.milestones, 0) as integer) as milestones,
    coalesce(milestones.planned_amount, 0) as planned_milestone_amount,
    coalesce(milestones.billed_milestone_amount, 0) as billed_milestone_amount,
    coalesce(milestones.retention_amount, 0) as retention_amount,
    contracts.source_file,
    contracts.source_row
from {{ ref('stg_erp__contracts') }} as contracts
left join milestones
    on contracts.contract_id = milestones.contract_id
