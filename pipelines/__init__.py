"""Dagster pipelines: ingest → dbt → (reconcile, ml) → publish, as one asset graph."""
