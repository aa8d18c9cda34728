"""Which job builds which dbt models: the ML feature mart is rebuilt weekly, never by the daily job."""

from __future__ import annotations

import dagster as dg
import pytest

pytestmark = pytest.mark.slow  # loading the definitions parses the dbt project

FEATURE_MART = dg.AssetKey(["marts", "ml_invoice_features"])


def test_feature_mart_is_built_by_the_weekly_job_only(home):
    from pipelines.build import build_definitions, daily_job, month_end_job, retrain_job

    defs = build_definitions()
    graph = defs.resolve_asset_graph()
    daily = daily_job.selection.resolve(graph)
    weekly = retrain_job.selection.resolve(graph)
    month_end = month_end_job.selection.resolve(graph)

    assert FEATURE_MART in graph.get_all_asset_keys()
    assert FEATURE_MART in weekly and dg.AssetKey(["ml", "payment_model"]) in weekly
    assert FEATURE_MART not in daily and FEATURE_MART not in month_end
    # the daily job still builds the rest of the warehouse, the ML-enriched marts included
    for key in (["marts", "fct_invoice"], ["marts", "fct_ar_daily"], ["marts", "collections_worklist"]):
        assert dg.AssetKey(key) in daily, key
    # everything except the weekly models and the model training is in the daily job
    assert graph.get_all_asset_keys() - daily == weekly
