"""ML assets: train weekly (promote only if better), score open items and forecast cash daily."""

import dagster as dg

from pipelines.resources import HuikuanResource

MARTS = [dg.AssetKey(["marts", "fct_invoice"])]


def _history(settings):
    import pandas as pd

    from models_ml.data import history_from_warehouse

    return history_from_warehouse(settings.warehouse_path, observed_until=pd.Timestamp(settings.as_of))


def train(settings, load=None) -> dict:
    """Backtest, train, register; promote only if the candidate beats the current model.

    `load`: the invoice history, when the caller has already read it."""
    import duckdb
    import pandas as pd

    from models_ml.pipeline import backtest_report, train_and_register
    from pipelines.ml.tables import backtest_rows, calibration_rows, drift_rows, replace_tables

    load = load if load is not None else _history(settings)
    report = backtest_report(load)
    reg, promoted, why = train_and_register(load, settings.models_dir, report)
    metrics = report.backtest.metrics
    # Drift: features of the last 90 days' invoices against those the model learned from.
    features = report.backtest.features
    issued = load.history.loc[features.index, "issue_date"]
    recent = issued > pd.Timestamp(settings.as_of) - pd.Timedelta(days=90)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        replace_tables(con, {
            "backtests": backtest_rows(metrics, reg.version),
            "calibration": calibration_rows(metrics, reg.version),
            "drift": drift_rows(features, recent, reg.version),
        })
    return {"version": reg.version, "promoted": promoted, "why": why}


@dg.asset(
    key=["ml", "payment_model"],
    group_name="ml",
    deps=MARTS,
    description="Days-to-pay, late and default models: rolling-origin backtest beside the baselines, "
    "saved with skops and a model card, promoted only if better on the same backtest.",
)
def payment_model(context: dg.AssetExecutionContext, huikuan: HuikuanResource):
    outcome = train(huikuan.settings())
    context.log.info(f"model {outcome['version']}: {outcome['why']}")
    return dg.MaterializeResult(metadata=outcome)


@dg.asset(
    key=["ml", "invoice_predictions"],
    group_name="ml",
    deps=MARTS + [dg.AssetKey(["ml", "payment_model"])],
    description="Predicted pay date (80 % interval), P(late), P(default) per open invoice with its top "
    "three factors for the delay and the default risk, and the 13-week / 12-month cash forecast; every "
    "row names its model version.",
)
def invoice_predictions(context: dg.AssetExecutionContext, huikuan: HuikuanResource):
    outcome = score(huikuan.settings(), log=context.log.info)
    return dg.MaterializeResult(metadata=outcome)


def score(settings, log=print) -> dict:
    """Score every open invoice and forecast cash with the promoted model (trained first if none)."""
    import duckdb
    import pandas as pd

    from models_ml.forecast import open_invoice_features
    from models_ml.pipeline import score_and_forecast
    from models_ml.registry import current_version
    from pipelines.ml.tables import append_forecast_history, forecast_rows, replace_tables, with_explanations

    load = _history(settings)
    if current_version(settings.models_dir) is None:  # first run of an instance: train once
        log(f"no promoted model yet: {train(settings, load)['why']}")
    as_of = pd.Timestamp(settings.as_of)
    features = open_invoice_features(load.history, as_of)  # once, for the scores and their explanations
    scored, forecast = score_and_forecast(load, settings.models_dir, as_of, features=features)
    version = current_version(settings.models_dir)
    scored = with_explanations(scored, load.history, settings.models_dir, as_of, features)
    del features
    tables = {
        "invoice_predictions": scored,
        "cash_forecast": forecast_rows(forecast, version),
    }
    with duckdb.connect(str(settings.warehouse_path)) as con:
        replace_tables(con, tables)
        append_forecast_history(con, tables["cash_forecast"])
    return {"model_version": version, "open_items_scored": len(scored),
            "weekly_expected": float(forecast.weekly["expected"].sum())}
