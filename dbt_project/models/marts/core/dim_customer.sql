-- One row per customer with its parent group, owner and terms: the entity every AR figure rolls
-- up to. Customers whose parent is missing from the master are their own group.
with customers as (

    select * from {{ ref('stg_erp__customers') }}

),

salespeople as (

    select * from {{ ref('stg_erp__salespeople') }}

)

select
    customers.customer_id,
    customers.customer_name,
    customers.tax_id,
    customers.customer_type,
    customers.industry,
    customers.region,
    customers.parent_customer_id,
    parents.customer_name as parent_customer_name,
    coalesce(parents.customer_id, customers.customer_id) as group_customer_id,
    coalesce(parents.customer_name, customers.customer_name) as group_customer_name,
    customers.salesperson_id,
    salespeople.name as salesperson_name,
    salespeople.team as sales_team,
    cast(customers.payment_terms_days as integer) as payment_terms_days,
    customers.credit_limit,
    customers.currency,
    customers.created_date,
    coalesce(customers.is_active, true) as is_active,
    customers.source_file,
    customers.source_row
from customers
left join customers as parents
    on customers.parent_customer_id = parents.customer_id
    and customers.parent_customer_id <> customers.customer_id
left join salespeople
    on customers.salesperson_id = salespeople.salesperson_id
