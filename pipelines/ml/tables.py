"""Turn model results into the `ml.*` tables the dashboard and analysts read (pure, plus one writer)."""

from __future__ import annotations

import numpy as np
import pandas as pd

MODEL = "gradient_boosting"


def backtest_rows(metrics: list[dict], version: str) -> pd.DataFrame:
    """Long table: one row per (method, metric) for the model and every baseline."""
    rows = [
        {"model_version": version, "method": m["model"], "metric": k, "value": float(v)}
        for m in metrics
        for k, v in m.items()
        if k != "model" and isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None
    ]
    return pd.DataFrame(rows, columns=["model_version", "method", "metric", "value"])


def calibration_rows(metrics: list[dict], version: str) -> pd.DataFrame:
    """Reliability table of the model's default probability (predicted vs observed per bin)."""
    table = next((m.get("calibration_default") for m in metrics if m.get("model") == MODEL), None) or []
    return pd.DataFrame(
        [{"model_version": version, "target": "default", "bin": r["bin"], "n": r["n"],
          "predicted": r["mean_predicted"], "observed": r["observed_rate"]} for r in table],
        columns=["model_version", "target", "bin", "n", "predicted", "observed"],
    )


def psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float | None:
    """Population stability index of a numeric feature (quantile bins of the reference)."""
    ref = pd.to_numeric(reference, errors="coerce").dropna().to_numpy(dtype=float)
    cur = pd.to_numeric(current, errors="coerce").dropna().to_numpy(dtype=float)
    if len(ref) < bins or len(cur) < bins:
        return None
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return None
    edges[0], edges[-1] = -np.inf, np.inf
    r = np.histogram(ref, edges)[0] / len(ref)
    c = np.histogram(cur, edges)[0] / len(cur)
    r, c = np.clip(r, 1e-4, None), np.clip(c, 1e-4, None)
    return float(np.sum((c - r) * np.log(c / r)))


def drift_rows(features: pd.DataFrame, recent: pd.Series, version: str) -> pd.DataFrame:
    """PSI per numeric feature between the invoices the model learned from and the `recent` ones
    (a mask over the rows of `features`). A column at a time: the features of a large history are
    not copied whole."""
    rows = []
    recent = np.asarray(recent, dtype=bool)
    for col in features.columns:
        if pd.api.types.is_numeric_dtype(features[col]):
            values = features[col].to_numpy()
            value = psi(pd.Series(values[~recent]), pd.Series(values[recent]))
            if value is not None:
                rows.append({"model_version": version, "feature": col, "psi": round(value, 4),
                             "status": "shifted" if value > 0.25 else "watch" if value > 0.1 else "stable"})
    return pd.DataFrame(rows, columns=["model_version", "feature", "psi", "status"])


def forecast_rows(forecast, version: str) -> pd.DataFrame:
    """Weekly and monthly expected receipts with intervals, in one table."""
    parts = []
    for granularity, df in (("week", forecast.weekly), ("month", forecast.monthly)):
        d = df.rename(columns={"start": "period_start", "end": "period_end"}).copy()
        d.insert(0, "granularity", granularity)
        d["as_of_date"] = pd.Timestamp(forecast.as_of).date()
        d["model_version"] = version
        parts.append(d)
    return pd.concat(parts, ignore_index=True)


def with_explanations(scored: pd.DataFrame, history: pd.DataFrame, models_dir, as_of: pd.Timestamp,
                      features: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """The scored open items with their top factors (models_ml.explain) from the model that scored
    them (the row's `model_version`): delay_factor_1..3 with `_days` (+ days late) and
    risk_factor_1..3 with `_pp` (+ percentage points of P(default)). `features`: the open items'
    features scoring used, when at hand."""
    from models_ml.explain import TARGETS, TOP_K, explain_open_invoices
    from models_ml.registry import load_model

    out = scored.reset_index(drop=True)
    if not len(out):
        for _, prefix, unit in TARGETS.values():
            for i in range(1, TOP_K + 1):
                out[f"{prefix}_{i}"] = pd.Series(dtype=object)
                out[f"{prefix}_{i}_{unit}"] = pd.Series(dtype=float)
        return out
    versions = out["model_version"].unique()
    if len(versions) != 1:
        raise ValueError(f"scored rows name several model versions {list(versions)}: explain one at a time")
    model, _ = load_model(models_dir, str(versions[0]))
    factors = explain_open_invoices(model, history, as_of, features=features)
    return out.merge(factors, on="invoice_no", how="left", validate="one_to_one")


def replace_tables(con, tables: dict[str, pd.DataFrame], schema: str = "ml") -> None:
    """Replace each `schema.name` with its frame in one transaction (reruns are idempotent)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    con.execute("BEGIN TRANSACTION")
    try:
        for name, df in tables.items():
            con.register("_frame", df)
            con.execute(f"CREATE OR REPLACE TABLE {schema}.{name} AS SELECT * FROM _frame")
            con.unregister("_frame")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def append_forecast_history(con, forecast: pd.DataFrame) -> int:
    """Keep every day's forecast (one as-of date replaces only itself), so actuals can later be set
    against what was forecast before they happened. Returns the rows kept for this as-of date."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ml")
    con.register("_forecast", forecast)
    try:
        con.execute("CREATE TABLE IF NOT EXISTS ml.cash_forecast_history AS SELECT * FROM _forecast WHERE false")
        con.execute("BEGIN TRANSACTION")
        con.execute(
            "DELETE FROM ml.cash_forecast_history WHERE as_of_date IN (SELECT DISTINCT as_of_date FROM _forecast)"
        )
        con.execute("INSERT INTO ml.cash_forecast_history BY NAME SELECT * FROM _forecast")
        con.execute("COMMIT")
    finally:
        con.unregister("_forecast")
    return len(forecast)
