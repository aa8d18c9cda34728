"""Payment models: days to pay with a split-conformal interval, calibrated P(late) and P(default).

All three are scikit-learn `Pipeline`s (`ColumnTransformer` → `HistGradientBoosting*`) over the
point-in-time features of `models_ml.features`. Training uses only invoices whose outcome window
has closed at the training cutoff (see `training_rows`): selection is on issue and due dates alone,
never on the outcome, so the still-open (right-censored) invoices bias nothing. The most recent
slice of those rows, by decision date, is held out to calibrate: conformal residual quantiles for
the interval and an isotonic map for the two probabilities.

A trained model is a plain dict of scikit-learn objects and numpy arrays (`PaymentModel`), so it
persists with skops without trusting any project type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, VotingRegressor
from sklearn.frozen import FrozenEstimator
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from models_ml.features import FeatureSet, settled_mix_feature

PaymentModel = dict  # keys documented in `fit_payment_models`

INTERVAL_LEVEL = 0.80
RESIDUAL_GRID = np.linspace(0.0, 1.0, 101)  # residual quantiles kept for pay-date distributions


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; defaults are tuned to train on 1 M invoices in minutes on two cores."""

    max_iter: int = 300
    learning_rate: float = 0.08
    max_leaf_nodes: int = 31
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    calibration_fraction: float = 0.2  # latest share of training rows kept for calibration
    interval_level: float = INTERVAL_LEVEL
    calibration_method: str = "isotonic"
    regression_loss: str = "absolute_error"  # the conditional median: what minimises the MAE
    # the default model sees few events (~3 % of invoices): smaller trees, a slower rate, and the
    # days model's prediction as an input (`make_pipeline`)
    default_learning_rate: float = 0.05
    default_max_leaf_nodes: int = 8
    default_min_samples_leaf: int = 100
    default_uses_days_model: bool = True
    # every model also takes the customer's mean days late net of its settled invoice mix
    # (`fit_record_adjuster`)
    adjust_record: bool = True
    # fit on at most this many of the latest invoices with a closed outcome window: it bounds the
    # fit's time and memory on large histories. A 1 M-invoice history (~800k closed) fits whole: on
    # its backtest fold the latest 300k rows gave MAE 1.20x the noise floor and 77 % interval
    # coverage, all rows 1.14x and 79 % (docs/ml.md)
    max_train_rows: int | None = 1_000_000
    random_state: int = 0


DEFAULT_CONFIG = TrainConfig()


# The invoice-level terms of a customer's settled mix (features.settled_invoice_mix): the invoice's
# own column and the feature holding the customer's settled mean of it.
MIX_COLUMNS = ("amount_log", "terms_days", "share_advance", "share_acceptance", "share_final", "share_retention")
ADJUSTED_FEATURE = "cust_adjusted_days_late"


def _invoice_mix(x: pd.DataFrame, fs: FeatureSet) -> pd.DataFrame:
    """The invoice's own mix columns (those with a settled-mean feature in `fs`)."""
    out = pd.DataFrame(index=x.index)
    for c in MIX_COLUMNS:
        if settled_mix_feature(c) not in fs.numeric:
            continue
        if c.startswith("share_"):
            out[c] = (x["milestone_type"].astype(str) == c.removeprefix("share_")).astype(float)
        else:
            out[c] = x[c].astype(float)
    return out


def fit_record_adjuster(x: pd.DataFrame, y: np.ndarray, fs: FeatureSet) -> Pipeline | None:
    """A linear map giving a customer's mean days late net of its settled invoice mix.

    The invoice-level effects (amount, terms, milestone type) are estimated by least squares of
    days late on the invoice's own mix columns, with the customer type as a fixed effect so that
    type differences are not taken for invoice effects. Because the fit is linear, the mean over a
    customer's settled invoices of (days late - effects) is the mean days late minus the effects at
    the settled means: cust_mean_days_late - sum(beta * cust_settled_*), a linear function of
    features the mart already holds (point in time). Returned as imputer (no record: 0) + a
    `LinearRegression` carrying those weights, so it persists as scikit-learn parts. None when
    the feature set has no settled-mix feature.
    """
    z = _invoice_mix(x, fs)
    if z.empty or "cust_mean_days_late" not in fs.numeric:
        return None
    design = z
    if "customer_type" in x.columns:
        design = pd.concat([z, pd.get_dummies(x["customer_type"].astype(str), prefix="type", dtype=float)], axis=1)
    beta = LinearRegression().fit(design.to_numpy(), y).coef_[: z.shape[1]]
    columns = ["cust_mean_days_late", *(settled_mix_feature(c) for c in z.columns)]
    linear = LinearRegression()
    # weights set, not fitted: 1 on the mean days late, -beta on the settled means
    linear.coef_ = np.concatenate([[1.0], -beta])
    linear.intercept_ = 0.0
    linear.n_features_in_ = len(columns)
    imputer = SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True)
    imputer.fit(x[columns].astype(float))
    return Pipeline([("impute", imputer), ("linear", linear)])


def make_pipeline(
    fs: FeatureSet,
    kind: str,
    cfg: TrainConfig = DEFAULT_CONFIG,
    days_model: Pipeline | None = None,
    adjuster: Pipeline | None = None,
) -> Pipeline:
    """Preprocessing + gradient boosting. Categoricals are ordinal-coded and declared categorical.

    kind "regressor", "classifier", or "rare_classifier" (a classifier for rare events: the
    `default_*` tree settings). A classifier given a fitted `days_model` also takes that model's
    predicted days late as an input (column `pred_days_late`): lateness and default share the
    customer's hidden propensity, which the regressor learns from every payment while a default
    model sees only a few hundred events. The regressor is frozen inside the pipeline, so the
    classifier still takes the plain feature frame (explanations and scoring need nothing else)
    and persists as scikit-learn parts. An `adjuster` (`fit_record_adjuster`) adds the
    customer's record net of its invoice mix (column `cust_adjusted_days_late`) the same way.
    """
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=np.nan,
        encoded_missing_value=np.nan,
        max_categories=250,  # HistGradientBoosting handles at most 255 categories
    )
    transformers = [("cat", encoder, list(fs.categorical)), ("num", "passthrough", list(fs.numeric))]
    if adjuster is not None:
        adjusted = VotingRegressor([(ADJUSTED_FEATURE, FrozenEstimator(adjuster))])
        transformers.append(("adjusted", adjusted, list(adjuster[0].feature_names_in_)))
    if days_model is not None:
        if kind == "regressor":
            raise ValueError("only a classifier takes the days model's prediction as an input")
        # VotingRegressor.transform returns its (frozen) member's predictions: one prediction pass
        # per transform, none at fit
        stack = VotingRegressor([("pred_days_late", FrozenEstimator(days_model))])
        transformers.append(("stack", stack, list(fs.columns)))
    pre = ColumnTransformer(transformers, verbose_feature_names_out=False).set_output(transform="pandas")
    common = dict(
        learning_rate=cfg.learning_rate,
        max_iter=cfg.max_iter,
        max_leaf_nodes=cfg.max_leaf_nodes,
        min_samples_leaf=cfg.min_samples_leaf,
        l2_regularization=cfg.l2_regularization,
        categorical_features=list(fs.categorical) or None,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=15,
        random_state=cfg.random_state,
    )
    if kind == "regressor":
        model = HistGradientBoostingRegressor(loss=cfg.regression_loss, **common)
    elif kind in ("classifier", "rare_classifier"):
        if kind == "rare_classifier":
            common.update(
                learning_rate=cfg.default_learning_rate,
                max_leaf_nodes=cfg.default_max_leaf_nodes,
                min_samples_leaf=cfg.default_min_samples_leaf,
            )
        model = HistGradientBoostingClassifier(**common)
    else:
        raise ValueError(f"kind must be 'regressor', 'classifier' or 'rare_classifier', not {kind!r}")
    return Pipeline([("features", pre), ("model", model)])


def _categorical_frame(x: pd.DataFrame, fs: FeatureSet) -> pd.DataFrame:
    """The feature columns, with categoricals as strings (the encoder needs one type per column)."""
    x = x[fs.columns].copy()
    for c in fs.categorical:
        x[c] = x[c].astype(object).where(x[c].notna(), "__missing__").astype(str)
    return x


def time_split(decision_dates: pd.Series, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (fit, calibrate): the latest `fraction` of rows by decision date calibrate."""
    order = np.argsort(decision_dates.to_numpy(), kind="stable")
    n_cal = int(round(len(order) * fraction))
    cal = np.zeros(len(order), dtype=bool)
    if n_cal:
        cal[order[-n_cal:]] = True
    return ~cal, cal


def conformal_bounds(residuals: np.ndarray, level: float) -> tuple[float, float]:
    """Split-conformal residual quantiles (lower, upper) with the finite-sample correction."""
    r = np.sort(np.asarray(residuals, dtype=float))
    n = len(r)
    if n == 0:
        raise ValueError("no calibration residuals: the calibration slice has no settled invoices")
    alpha = 1.0 - level
    lo_k = int(np.floor((n + 1) * alpha / 2)) - 1
    hi_k = int(np.ceil((n + 1) * (1 - alpha / 2))) - 1
    return float(r[max(lo_k, 0)]), float(r[min(hi_k, n - 1)])


def _fit_classifier(
    x_fit, y_fit, x_cal, y_cal, fs: FeatureSet, cfg: TrainConfig, days_model=None, kind: str = "classifier",
    adjuster=None,
):
    """Gradient boosting for a binary outcome, calibrated on the later slice when it has both classes."""
    if len(np.unique(y_fit)) < 2:
        # one class only in the training window: predict its observed rate, say so in the model
        from sklearn.dummy import DummyClassifier

        return DummyClassifier(strategy="prior").fit(x_fit, y_fit), "constant (one class in training)"
    pipe = make_pipeline(fs, kind, cfg, days_model, adjuster).fit(x_fit, y_fit)
    if len(y_cal) >= 50 and min(int(y_cal.sum()), int(len(y_cal) - y_cal.sum())) >= 10:
        method = cfg.calibration_method if len(y_cal) >= 1000 else "sigmoid"
        cal = CalibratedClassifierCV(FrozenEstimator(pipe), method=method).fit(x_cal, y_cal)
        return cal, method
    return pipe, "uncalibrated (calibration slice too small)"


def fit_payment_models(
    features: pd.DataFrame,
    labels: pd.DataFrame,
    decision_dates: pd.Series,
    fs: FeatureSet,
    cfg: TrainConfig = DEFAULT_CONFIG,
) -> PaymentModel:
    """Train the three models on rows whose outcome is known (`labels.window_closed`).

    `labels` comes from `features.outcome_labels` at the training cutoff. Returns a dict with
    `days_model` (predicts days late), `late_model`, `default_model`, `interval` (residual bounds),
    `residual_quantiles`, `feature_columns`, `categorical`, `n_train`, `n_calibration`, `config`.
    """
    rows = labels.index[labels["window_closed"].astype(bool)]
    if len(rows) < 50:
        raise ValueError(f"only {len(rows)} invoices have a closed outcome window: too few to train")
    n_available = len(rows)
    if cfg.max_train_rows and len(rows) > cfg.max_train_rows:
        order = np.argsort(decision_dates.loc[rows].to_numpy(), kind="stable")
        rows = rows[np.sort(order[-cfg.max_train_rows :])]
    x_all = _categorical_frame(features.loc[rows], fs)
    fit_mask, cal_mask = time_split(decision_dates.loc[rows], cfg.calibration_fraction)
    lab = labels.loc[rows]

    paid = lab["is_default"].to_numpy() == 0  # paid within the window: days late observed
    fit_r, cal_r = fit_mask & paid, cal_mask & paid
    y_late_days = lab["days_late"].to_numpy()
    adjuster = fit_record_adjuster(x_all[fit_r], y_late_days[fit_r], fs) if cfg.adjust_record else None
    days_model = make_pipeline(fs, "regressor", cfg, adjuster=adjuster).fit(x_all[fit_r], y_late_days[fit_r])
    resid = y_late_days[cal_r] - days_model.predict(x_all[cal_r])
    lo, hi = conformal_bounds(resid, cfg.interval_level)

    y_late = lab["is_late"].to_numpy().astype(int)
    late_model, late_cal = _fit_classifier(
        x_all[fit_mask], y_late[fit_mask], x_all[cal_mask], y_late[cal_mask], fs, cfg, adjuster=adjuster
    )
    y_def = lab["is_default"].to_numpy().astype(int)
    stacked = days_model if cfg.default_uses_days_model else None
    default_model, default_cal = _fit_classifier(
        x_all[fit_mask],
        y_def[fit_mask],
        x_all[cal_mask],
        y_def[cal_mask],
        fs,
        cfg,
        stacked,
        "rare_classifier",
        adjuster,
    )
    return {
        "days_model": days_model,
        "late_model": late_model,
        "default_model": default_model,
        "interval": np.array([lo, hi]),
        "interval_level": cfg.interval_level,
        "residual_quantiles": np.quantile(resid, RESIDUAL_GRID),
        "feature_columns": list(fs.columns),
        "categorical": list(fs.categorical),
        "calibration": {"late": late_cal, "default": default_cal},
        # the weights of the customer's record net of its invoice mix (column -> weight)
        "record_adjustment": (
            dict(zip(adjuster[0].feature_names_in_, adjuster[1].coef_.round(4).tolist())) if adjuster else {}
        ),
        "n_available": int(n_available),
        "n_train": int(fit_mask.sum()),
        "n_calibration": int(cal_mask.sum()),
        "default_rate": float(y_def.mean()),
        "late_rate": float(y_late.mean()),
        "median_days_late": float(np.median(y_late_days[paid])) if paid.any() else 0.0,
    }


def _positive_proba(model, x: pd.DataFrame) -> np.ndarray:
    proba = model.predict_proba(x)
    classes = list(getattr(model, "classes_", [0, 1]))
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(x))


def predict(model: PaymentModel, features: pd.DataFrame) -> pd.DataFrame:
    """Per invoice: predicted days late and days to pay, the interval in days to pay, P(late), P(default)."""
    fs = FeatureSet(
        tuple(c for c in model["feature_columns"] if c not in model["categorical"]),
        tuple(model["categorical"]),
    )
    x = _categorical_frame(features, fs)
    late_days = model["days_model"].predict(x)
    terms = features["terms_days"].to_numpy(dtype=float)
    lo, hi = model["interval"]
    out = pd.DataFrame(index=features.index)
    out["pred_days_late"] = late_days
    out["pred_days_to_pay"] = terms + late_days
    out["interval_lo"] = terms + late_days + lo
    out["interval_hi"] = terms + late_days + hi
    out["p_late"] = _positive_proba(model["late_model"], x)
    out["p_default"] = _positive_proba(model["default_model"], x)
    return out


def feature_importance(model: PaymentModel, features: pd.DataFrame, labels: pd.Series, top: int = 10) -> dict:
    """Permutation importance of the days-to-pay model on (a sample of) the given rows, in days of MAE."""
    from sklearn.inspection import permutation_importance

    fs = FeatureSet(
        tuple(c for c in model["feature_columns"] if c not in model["categorical"]),
        tuple(model["categorical"]),
    )
    x = _categorical_frame(features, fs)
    r = permutation_importance(
        model["days_model"], x, labels, scoring="neg_mean_absolute_error", n_repeats=3, random_state=0
    )
    order = np.argsort(-r.importances_mean)[:top]
    return {x.columns[i]: round(float(r.importances_mean[i]), 3) for i in order}
