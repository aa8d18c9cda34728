"""Assemble the Definitions: assets by layer, the daily job, its schedule and the landing sensor."""

from __future__ import annotations

import dagster as dg

from huikuan.settings import load_settings
from pipelines.collections.assets import dunning_reminders
from pipelines.dbt.assets import build_dbt_assets, dbt_resource
from pipelines.ingest.assets import raw_extracts
from pipelines.reconciliation.assets import reconciliation_results
from pipelines.publish.assets import build_publish_asset
from pipelines.resources import HuikuanResource
from pipelines.sensors import landing_sensor, run_failure_alert_sensor

daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all(),
    description="Ingest new landing files, build the warehouse with dbt, and publish a snapshot.",
)


def build_definitions() -> dg.Definitions:
    settings = load_settings()
    warehouse_models = build_dbt_assets()
    published = build_publish_asset([warehouse_models, reconciliation_results])
    daily_schedule = dg.ScheduleDefinition(
        name="daily_schedule",
        job=daily_job,
        cron_schedule="0 6 * * *",
        execution_timezone=settings.timezone,
        description="Daily build at 06:00 in the configured time zone.",
    )
    return dg.Definitions(
        assets=[raw_extracts, reconciliation_results, warehouse_models, published, dunning_reminders],
        jobs=[daily_job],
        schedules=[daily_schedule],
        sensors=[landing_sensor, run_failure_alert_sensor],
        resources={"huikuan": HuikuanResource(), "dbt": dbt_resource()},
    )
