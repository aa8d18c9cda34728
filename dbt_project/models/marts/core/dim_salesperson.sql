-- One row per salesperson with team and region.
select
    salesperson_id,
    name as salesperson_name,
    team as sales_team,
    region,
    email,
    source_file,
    source_row
from {{ ref('stg_erp__salespeople') }}
