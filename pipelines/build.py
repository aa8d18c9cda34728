"""Assemble the Definitions: assets by layer, the daily job, its schedule and the landing sensor."""

from __future__ import annotations

import dagster as dg

from huikuan.settings import load_settings
from pipelines.collections.assets import dunning_reminders
from pipelines.dbt.assets import build_dbt_assets, dbt_resource
from pipelines.ingest.assets import raw_extracts
from pipelines.reconciliation.assets import reconciliation_results
from pipelines.history.assets import month_end_history
from pipelines.ml.assets import invoice_predictions, payment_model
from pipelines.publish.assets import build_publish_asset
from pipelines.resources import HuikuanResource
from pipelines.sensors import landing_sensor, ops_store_sensor, run_failure_alert_sensor

PAYMENT_MODEL = dg.AssetKey(["ml", "payment_model"])

daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(PAYMENT_MODEL),
    description="Ingest new files, reconcile, build the warehouse, score open items, publish, remind.",
)
retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.assets(PAYMENT_MODEL),
    description="Backtest and train the payment models; promote only if better than the current one.",
)


month_end_job = dg.define_asset_job(
    "month_end_job",
    selection=(
        dg.AssetSelection.assets(dg.AssetKey(["history", "month_end_history"])).upstream()
        | dg.AssetSelection.assets("published_warehouse")
    ).required_multi_asset_neighbors(),
    description="Build the marts, freeze the closed month's aging and KPIs for good, publish.",
)


def build_definitions() -> dg.Definitions:
    settings = load_settings()
    warehouse_models, ml_enriched_marts = build_dbt_assets()
    published = build_publish_asset(
        [warehouse_models, reconciliation_results, month_end_history, invoice_predictions, ml_enriched_marts]
    )
    daily_schedule = dg.ScheduleDefinition(
        name="daily_schedule",
        job=daily_job,
        cron_schedule="0 6 * * *",
        execution_timezone=settings.timezone,
        description="Daily build at 06:00 in the configured time zone.",
    )
    weekly_retrain_schedule = dg.ScheduleDefinition(
        name="weekly_retrain_schedule",
        job=retrain_job,
        cron_schedule="0 3 * * 0",
        execution_timezone=settings.timezone,
        description="Sunday 03:00: retrain and backtest; the new model is promoted only if it is better.",
    )
    month_end_schedule = dg.ScheduleDefinition(
        name="month_end_schedule",
        job=month_end_job,
        cron_schedule="30 1 1 * *",
        execution_timezone=settings.timezone,
        description="On the 1st, freeze the month that just closed (aging and KPIs) and publish.",
    )
    return dg.Definitions(
        assets=[raw_extracts, reconciliation_results, warehouse_models, payment_model, invoice_predictions,
                ml_enriched_marts,
                month_end_history, published, dunning_reminders],
        jobs=[daily_job, month_end_job, retrain_job],
        schedules=[daily_schedule, month_end_schedule, weekly_retrain_schedule],
        sensors=[landing_sensor, ops_store_sensor, run_failure_alert_sensor],
        resources={"huikuan": HuikuanResource(), "dbt": dbt_resource()},
    )
