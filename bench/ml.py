"""Benchmark: payment models and cash forecast on generated data, against the ground-truth noise floor.

Generates a dataset of `invoices` invoices, reads its ERP and invoicing extracts (the models'
input; ingestion and dbt are benchmarked elsewhere), runs the rolling-origin backtest of the models
and the cash forecast, and trains the final model on everything known, timing it. The noise floor is
the MAE of the generator's true expected delay on exactly the invoices the model was tested on
(and, for reference, the manifest's floor over all paid invoices). Baselines are measured in the
same run through the same `evaluate()`.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

AS_OF = dt.date(2026, 6, 30)
SEED = 7


def noise_floor_on(test: pd.DataFrame, history: pd.DataFrame, truth: pd.DataFrame) -> float:
    """MAE of the true expected days late against actual days late, on the tested paid invoices.

    The truth's `expected_days_late` is the median of each invoice's days late given what held at
    its issue date (the customer's hidden state included, a dispute raised later not): the best
    point prediction any model deciding at issue could make.
    """
    t = truth.set_index("invoice_no")
    rows = history.loc[test.index]
    expected = rows["invoice_no"].map(t["expected_days_late"].astype(float))
    actual_late = test["days_late"]
    m = expected.notna() & actual_late.notna() & test["is_default"].eq(0)
    return float(np.abs(actual_late[m] - expected[m]).mean())


LARGE = 300_000  # above this, one backtest origin and a forecast every 13 weeks keep the run short


def run(invoices: int, workdir: Path, folds: int | None = None) -> dict:
    from huikuan.generate import generate
    from models_ml.backtest import MODEL_NAME, decision_dates
    from models_ml.data import history_from_extracts
    from models_ml.features import feature_set, outcome_labels
    from models_ml.models import fit_payment_models
    from models_ml.pipeline import backtest_report

    out = Path(workdir) / "generated"
    started = time.perf_counter()
    stats = generate(out, invoices, SEED, AS_OF)
    generate_seconds = time.perf_counter() - started
    load = history_from_extracts(out / "landing")
    truth = pd.read_csv(out / "truth" / "invoice_outcomes.csv", dtype=str)

    large = invoices > LARGE
    folds = folds or (1 if large else 4)
    started = time.perf_counter()
    report = backtest_report(load, n_folds=folds, forecast_step_days=91 if large else 28)
    backtest_seconds = time.perf_counter() - started
    bt = report.backtest
    preds = bt.predictions
    model_rows = preds[[c for c in preds.columns if c.startswith(f"{MODEL_NAME}:")]]
    model_rows = model_rows.rename(columns=lambda c: c.split(":", 1)[1])
    floor_tested = noise_floor_on(model_rows, load.history, truth)

    h = load.history
    started, cpu = time.perf_counter(), time.process_time()
    final = fit_payment_models(bt.features, outcome_labels(h, load.observed_until), decision_dates(h), feature_set(h))
    train_seconds, train_cpu = time.perf_counter() - started, time.process_time() - cpu

    m = {r["model"]: r for r in bt.metrics}
    gb = m[MODEL_NAME]
    weekly, monthly = report.forecast.get("weekly") or {}, report.forecast.get("monthly") or {}
    best_baseline_mae = min(r["mae_days"] for name, r in m.items() if name != MODEL_NAME)
    result = {
        "invoices": invoices,
        "invoices_modelled": len(h),
        "mae_days": gb["mae_days"],
        "noise_floor_mae_days": round(floor_tested, 3),
        "noise_floor_mae_days_manifest": stats.get("noise_floor_mae_days"),
        "mae_vs_floor": round(gb["mae_days"] / floor_tested, 3),
        "median_ae_days": gb["median_ae_days"],
        "bucket_accuracy": gb["bucket_accuracy"],
        "auc_default": gb["auc_default"],
        "brier_default": gb["brier_default"],
        "auc_late": gb["auc_late"],
        "interval_coverage": gb["interval_coverage"],
        "interval_width_days": gb["interval_width_days"],
        "calibration_default": gb["calibration_default"],
        "wape": weekly.get("wape_model"),
        "wape_best_naive": weekly.get("wape_best_naive"),
        "wape_ratio": round(weekly["wape_model"] / weekly["wape_best_naive"], 3) if weekly else None,
        "forecast_weekly": weekly,
        "forecast_monthly": monthly,
        "baseline": {name: {k: r[k] for k in ("mae_days", "median_ae_days", "bucket_accuracy", "auc_late",
                                              "auc_default", "brier_default")}
                     for name, r in m.items() if name != MODEL_NAME},
        "baseline_best_mae_days": best_baseline_mae,
        "ratio_mae_to_best_baseline": round(gb["mae_days"] / best_baseline_mae, 3),
        "train_seconds": round(train_seconds, 2),
        "train_cpu_seconds": round(train_cpu, 2),
        "train_rows_available": final["n_available"],
        "train_rows_fit": final["n_train"],
        "train_rows_calibration": final["n_calibration"],
        "folds": folds,
        "backtest_seconds": round(backtest_seconds, 2),
        "fold_train_seconds": bt.train_seconds,
        "generate_seconds": round(generate_seconds, 2),
        "origins": [str(o.date()) for o in bt.origins],
    }
    return json.loads(json.dumps(result, default=str))
