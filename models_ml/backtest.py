"""Time-ordered backtests of the payment models: rolling origins, never a random split.

At each origin T the models train on what was known at T (invoices whose default window closed
before T, labelled with outcomes observed by T) and are tested on the invoices issued in
[T, T + horizon) whose outcome is known by the end of the data. Features are point in time, so
they are computed once for all invoices; only labels depend on the origin. Every model and
baseline goes through the same `evaluate()`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models_ml.evaluate import baseline_predictions, evaluate
from models_ml.features import (
    DEFAULT_AFTER_DUE_DAYS,
    feature_set,
    outcome_labels,
    point_in_time_features,
    validate_history,
)
from models_ml.models import DEFAULT_CONFIG, PaymentModel, TrainConfig, fit_payment_models, predict

MODEL_NAME = "gradient_boosting"


@dataclass
class BacktestResult:
    origins: list[pd.Timestamp]
    horizon_days: int
    observed_until: pd.Timestamp
    metrics: list[dict]  # pooled over folds: the model first, then the baselines
    folds: list[dict]  # per origin: the model's and baselines' metrics
    predictions: pd.DataFrame  # test rows of every fold: labels + model + baseline predictions
    model: PaymentModel | None = None  # trained at the last origin
    models: dict = field(default_factory=dict)  # origin -> model trained at that origin
    features: pd.DataFrame | None = None  # point-in-time features of every invoice (issue date)
    train_seconds: list[float] = field(default_factory=list)

    def metric(self, name: str, key: str):
        return next(m[key] for m in self.metrics if m["model"] == name)

    def summary(self) -> dict:
        return {
            "origins": [str(o.date()) for o in self.origins],
            "horizon_days": self.horizon_days,
            "observed_until": str(self.observed_until.date()),
            "metrics": self.metrics,
            "folds": self.folds,
            "train_seconds": self.train_seconds,
        }


def decision_dates(history: pd.DataFrame) -> pd.Series:
    """Issue date, or the entry date when the invoice was entered later (only then is it known)."""
    d = history["issue_date"]
    if "entry_date" in history.columns:
        e = history["entry_date"].dt.normalize()
        d = e.where(e.notna() & (e > d), d)
    return d


def default_origins(
    history: pd.DataFrame, observed_until: pd.Timestamp, n_folds: int, horizon_days: int, after_due_days: int
) -> list[pd.Timestamp]:
    """Origins so that the last test window's invoices have a closed outcome window at the data end."""
    terms = (history["due_date"] - history["issue_date"]).dt.days
    last_test_end = observed_until - pd.Timedelta(days=float(terms.quantile(0.5)) + after_due_days)
    origins = [last_test_end - pd.Timedelta(days=horizon_days * (n_folds - k)) for k in range(n_folds)]
    first = history["issue_date"].min()
    if origins[0] - first < pd.Timedelta(days=horizon_days + after_due_days):
        raise ValueError(
            f"history from {first.date()} to {observed_until.date()} is too short for {n_folds} folds of "
            f"{horizon_days} days after a training period: pass fewer folds or a shorter horizon"
        )
    return [o.normalize() for o in origins]


def prediction_frame(labels: pd.DataFrame, features: pd.DataFrame, preds: pd.DataFrame) -> pd.DataFrame:
    """Labels + terms + one predictor's outputs: what `evaluate()` reads."""
    f = labels[["days_late", "is_late", "is_default"]].join(features[["terms_days"]])
    return f.join(preds)


def rolling_origin_backtest(
    history: pd.DataFrame,
    *,
    observed_until: pd.Timestamp | None = None,
    n_folds: int = 3,
    horizon_days: int = 91,
    origins: list[pd.Timestamp] | None = None,
    cfg: TrainConfig = DEFAULT_CONFIG,
    after_due_days: int = DEFAULT_AFTER_DUE_DAYS,
    features: pd.DataFrame | None = None,
) -> BacktestResult:
    """Train at each origin, test on the next `horizon_days` of issued invoices, pool the metrics."""
    h = validate_history(history)
    obs = pd.Timestamp(observed_until) if observed_until is not None else h["paid_date"].max()
    fs = feature_set(h)
    feats = features if features is not None else point_in_time_features(h, after_due_days=after_due_days)
    dd = decision_dates(h)
    final_labels = outcome_labels(h, obs, after_due_days)
    origins = origins or default_origins(h, obs, n_folds, horizon_days, after_due_days)
    pooled: dict[str, list[pd.DataFrame]] = {}
    folds, secs, model, models = [], [], None, {}
    for origin in origins:
        train_labels = outcome_labels(h[dd < origin], origin, after_due_days)
        test_rows = h.index[(dd >= origin) & (dd < origin + pd.Timedelta(days=horizon_days))]
        test_rows = test_rows[final_labels.loc[test_rows, "window_closed"].to_numpy(dtype=bool)]
        if len(test_rows) == 0:
            continue
        started = time.perf_counter()
        # the whole frames: the rows are the labels' (a copy of every training row's features would
        # double a large history's features in memory before the fit takes its latest rows)
        model = fit_payment_models(feats, train_labels, dd, fs, cfg)
        secs.append(round(time.perf_counter() - started, 2))
        models[origin] = model
        test_feats = feats.loc[test_rows]
        predictors = {MODEL_NAME: predict(model, test_feats)}
        predictors.update(baseline_predictions(test_feats, train_labels))
        fold = {"origin": str(origin.date()), "n_train": model["n_train"], "n_test": len(test_rows)}
        fold["metrics"] = []
        for name, preds in predictors.items():
            frame = prediction_frame(final_labels.loc[test_rows], test_feats, preds)
            frame["origin"] = origin
            pooled.setdefault(name, []).append(frame)
            m = evaluate(frame, name)
            fold["metrics"].append({k: v for k, v in m.items() if not k.startswith("calibration_")})
        folds.append(fold)
    if not folds:
        raise ValueError("no test invoices with a closed outcome window after any origin")
    metrics = [evaluate(pd.concat(frames), name) for name, frames in pooled.items()]
    preds_all = pd.concat(
        [pd.concat(frames).add_prefix(f"{name}:") for name, frames in pooled.items()], axis=1
    )
    return BacktestResult(
        origins=list(origins),
        horizon_days=horizon_days,
        observed_until=obs,
        metrics=metrics,
        folds=folds,
        predictions=preds_all,
        model=model,
        models=models,
        features=feats,
        train_seconds=secs,
    )


def split_backtest(
    history: pd.DataFrame,
    train_mask: np.ndarray,
    test_mask: np.ndarray,
    *,
    cfg: TrainConfig = DEFAULT_CONFIG,
    after_due_days: int | None = DEFAULT_AFTER_DUE_DAYS,
    observed_until: pd.Timestamp | None = None,
) -> BacktestResult:
    """One fixed time split (a published protocol): train rows with their known outcomes, test rows after."""
    h = validate_history(history)
    obs = pd.Timestamp(observed_until) if observed_until is not None else h["paid_date"].max()
    fs = feature_set(h)
    feats = point_in_time_features(h, after_due_days=after_due_days or DEFAULT_AFTER_DUE_DAYS)
    dd = decision_dates(h)
    labels = outcome_labels(h, obs, after_due_days)
    train_idx, test_idx = h.index[train_mask], h.index[test_mask]
    started = time.perf_counter()
    model = fit_payment_models(feats.loc[train_idx], labels.loc[train_idx], dd.loc[train_idx], fs, cfg)
    secs = [round(time.perf_counter() - started, 2)]
    test_feats = feats.loc[test_idx]
    predictors = {MODEL_NAME: predict(model, test_feats)}
    predictors.update(baseline_predictions(test_feats, labels.loc[train_idx]))
    frames = {name: prediction_frame(labels.loc[test_idx], test_feats, p) for name, p in predictors.items()}
    metrics = [evaluate(f, name) for name, f in frames.items()]
    return BacktestResult(
        origins=[dd.loc[test_idx].min()],
        horizon_days=int((dd.loc[test_idx].max() - dd.loc[test_idx].min()).days) + 1,
        observed_until=obs,
        metrics=metrics,
        folds=[],
        predictions=pd.concat([f.add_prefix(f"{n}:") for n, f in frames.items()], axis=1),
        model=model,
        train_seconds=secs,
    )
