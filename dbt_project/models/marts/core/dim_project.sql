-- One row per project with its customer, manager, dates, value and status.
select
    projects.project_id,
    projects.project_name,
    projects.customer_id,
    customers.customer_name,
    projects.project_manager,
    projects.start_date,
    projects.planned_end_date,
    projects.contract_value,
    projects.currency,
    projects.status as project_status,
    projects.source_file,
    projects.source_row
from {{ ref('stg_erp__projects') }} as projects
left join {{ ref('stg_erp__customers') }} as customers
    on projects.customer_id = customers.customer_id
