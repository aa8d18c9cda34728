"""dbt asset group: staging, intermediate and mart models as Dagster assets."""
