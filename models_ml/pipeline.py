"""The end-to-end ML steps the product schedules: backtest, train, register/promote, score, forecast.

Thin compositions of the pure pieces, so the CLI, the benchmark and the orchestration layer run
the same code: `backtest_report` (rolling-origin model backtest + cash-forecast backtest),
`train_and_register` (final model on everything known, saved, promoted only if it beats the
current model on the same backtest rows), `score_and_forecast` (open-item predictions and the
13-week / 12-month forecast, each row naming the model version).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from models_ml.backtest import MODEL_NAME, BacktestResult, decision_dates, rolling_origin_backtest
from models_ml.data import HistoryLoad
from models_ml.evaluate import evaluate
from models_ml.features import feature_set, outcome_labels
from models_ml.forecast import Forecast, cash_forecast, forecast_backtest, score_open_invoices
from models_ml.models import DEFAULT_CONFIG, TrainConfig, fit_payment_models
from models_ml.registry import (
    RegisteredModel,
    compare_on_backtest,
    current_training_cutoff,
    load_model,
    promote_if_better,
    save_model,
)


@dataclass
class BacktestReport:
    backtest: BacktestResult
    forecast: dict  # weekly / monthly WAPE of the model and the naive baselines

    def to_dict(self) -> dict:
        return {**self.backtest.summary(), "forecast": self.forecast}


def backtest_report(
    load: HistoryLoad,
    *,
    n_folds: int = 4,
    horizon_days: int = 91,
    cfg: TrainConfig = DEFAULT_CONFIG,
    forecast_step_days: int = 28,
) -> BacktestReport:
    """Model backtest over rolling origins, then the cash forecast backtested with the same models."""
    bt = rolling_origin_backtest(load.history, observed_until=load.observed_until, n_folds=n_folds,
                                 horizon_days=horizon_days, cfg=cfg)  # fmt: skip
    fc = forecast_backtest(load.history, load.milestones, bt.models, load.observed_until, step_days=forecast_step_days)
    return BacktestReport(bt, fc)


def train_and_register(
    load: HistoryLoad, models_dir: Path, report: BacktestReport, cfg: TrainConfig = DEFAULT_CONFIG
) -> tuple[RegisteredModel, bool, str]:
    """Train on everything known at the data end, save with the backtest, promote if it beats the
    current model on the last backtest fold's rows (the current model is scored on the same rows)."""
    h = load.history
    labels = outcome_labels(h, load.observed_until)
    feats = report.backtest.features
    started = time.perf_counter()
    model = fit_payment_models(feats, labels, decision_dates(h), feature_set(h), cfg)
    train_seconds = time.perf_counter() - started
    model["forecast_interval_scale"] = {
        freq: max(1.0, (report.forecast.get(label) or {}).get("interval_scale_for_80pct", 1.0))
        for freq, label in (("W", "weekly"), ("M", "monthly"))
    }
    bt = report.backtest
    summary = bt.summary() | {"train_seconds_final": round(train_seconds, 2)}
    reg = save_model(
        model,
        models_dir,
        training_window=(h["issue_date"].min(), load.observed_until),
        metrics=bt.metrics,
        backtest=summary,
        forecast_backtest=report.forecast,
    )
    last = bt.predictions[bt.predictions[f"{MODEL_NAME}:origin"] == bt.origins[-1]]
    candidate = last[[c for c in last.columns if c.startswith(f"{MODEL_NAME}:")]]
    candidate = candidate.rename(columns=lambda c: c.split(":", 1)[1])
    # Both models are judged on the last fold's rows that neither learned from: the candidate's
    # fold model was trained before all of them, the current model before those whose outcome
    # window was still open at its training cutoff. (Scored on rows it trained on, the current
    # model would look better than it is, and a retrained model would seldom replace it.)
    cutoff = current_training_cutoff(models_dir)
    rows = candidate.index
    if cutoff is not None:
        rows = rows[~outcome_labels(h.loc[rows], cutoff)["window_closed"].to_numpy(dtype=bool)]
        if len(rows) == 0:
            return reg, False, (f"kept the current model: no outcome on the last backtest fold became known "
                                f"after its training cutoff {cutoff.date()}")
    candidate_metrics = evaluate(candidate.loc[rows], MODEL_NAME) | {"model": reg.version}
    frame = candidate.loc[rows, ["days_late", "is_late", "is_default", "terms_days"]]
    current_metrics = compare_on_backtest(models_dir, feats.loc[rows], frame)
    promoted, why = promote_if_better(models_dir, reg.version, candidate_metrics, current_metrics)
    if current_metrics is not None:
        why += f" (on the {len(rows):,} last-fold invoices neither model trained on)"
    return reg, promoted, why


def score_and_forecast(
    load: HistoryLoad, models_dir: Path, as_of: pd.Timestamp | None = None, *, features: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, Forecast]:
    """Open-item predictions and the cash forecast from the promoted model, at `as_of` (default data
    end). `features`: the open items' `open_invoice_features`, when already computed."""
    model, meta = load_model(models_dir)
    a = pd.Timestamp(as_of or load.observed_until)
    scored = score_open_invoices(model, load.history, a, meta["version"], features=features)
    return scored, cash_forecast(model, load.history, load.milestones, a, meta["version"], scored=scored)
