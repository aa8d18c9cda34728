"""Assemble the Definitions: assets by layer, the jobs, their schedules, and the sensors."""

from __future__ import annotations

import dagster as dg

from huikuan.settings import load_settings
from pipelines.collections.assets import dunning_reminders
from pipelines.dbt.assets import WEEKLY, build_dbt_assets, dbt_resource
from pipelines.history.assets import month_end_history
from pipelines.ingest.assets import raw_extracts
from pipelines.ml.assets import invoice_predictions, payment_model
from pipelines.publish.assets import build_publish_asset
from pipelines.reconciliation.assets import reconciliation_results
from pipelines.resources import HuikuanResource
from pipelines.sensors import landing_sensor, ops_store_sensor, run_failure_alert_sensor

PAYMENT_MODEL = dg.AssetKey(["ml", "payment_model"])
# dbt models tagged `weekly` (pipelines/dbt/assets.py WEEKLY; dagster-dbt turns a dbt tag into an
# asset tag with an empty value): the ML feature mart, which only the weekly job rebuilds.
WEEKLY_MODELS = dg.AssetSelection.tag(WEEKLY.removeprefix("tag:"), "")

daily_job = dg.define_asset_job(
    "daily_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets(PAYMENT_MODEL) - WEEKLY_MODELS,
    description="Ingest new files, reconcile, build the warehouse, score open items, publish, remind.",
)
retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.assets(PAYMENT_MODEL) | WEEKLY_MODELS,
    description="Backtest and train the payment models (promoted only if better than the current one);"
    " rebuild the ML feature mart.",
)
month_end_job = dg.define_asset_job(
    "month_end_job",
    selection=(
        dg.AssetSelection.assets(dg.AssetKey(["history", "month_end_history"])).upstream()
        | dg.AssetSelection.assets("published_warehouse")
    ).required_multi_asset_neighbors(),
    description="Build the marts, freeze the closed month's aging and KPIs for good, publish.",
)

# (schedule name, job, cron in the configured time zone, description)
SCHEDULES = (
    ("daily_schedule", daily_job, "0 6 * * *", "Daily build at 06:00."),
    ("weekly_retrain_schedule", retrain_job, "0 3 * * 0",
     "Sunday 03:00: retrain and backtest; the new model is promoted only if it is better."),
    ("month_end_schedule", month_end_job, "30 1 1 * *",
     "On the 1st, freeze the month that just closed (aging and KPIs) and publish."),
)


def build_definitions() -> dg.Definitions:
    timezone = load_settings().timezone
    warehouse_models, ml_enriched_marts, weekly_models = build_dbt_assets()
    published = build_publish_asset(
        [warehouse_models, reconciliation_results, month_end_history, invoice_predictions, ml_enriched_marts]
    )
    return dg.Definitions(
        assets=[raw_extracts, reconciliation_results, warehouse_models, payment_model, invoice_predictions,
                ml_enriched_marts, weekly_models, month_end_history, published, dunning_reminders],
        jobs=[daily_job, month_end_job, retrain_job],
        schedules=[
            dg.ScheduleDefinition(name=name, job=job, cron_schedule=cron, execution_timezone=timezone,
                                  description=description)
            for name, job, cron, description in SCHEDULES
        ],
        sensors=[landing_sensor, ops_store_sensor, run_failure_alert_sensor],
        resources={"huikuan": HuikuanResource(), "dbt": dbt_resource()},
    )
