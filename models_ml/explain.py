"""Per-invoice explanations: the features that push an invoice's predicted delay and default risk
above or below the portfolio's.

Method (model-agnostic, scikit-learn only): for each feature, the invoice's prediction is compared
with its prediction after that one feature is set to the portfolio's reference value (the median of
a numeric feature, the most frequent value of a categorical one, over the invoices being scored).
The difference is the feature's contribution: + days late or + percentage points of default
probability that this invoice's value of the feature causes, all else equal. An invoice whose value
equals the reference gets exactly 0 for that feature. The three largest absolute contributions are
the invoice's top factors, kept with their sign.

Cost: one prediction per (invoice, feature) and model, batched by chunks of invoices so memory
stays bounded (~50 features x 2,000 invoices per batch).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.features import FeatureSet

TOP_K = 3
# target -> (model key in the payment model, column prefix, unit of the effect column)
TARGETS = {"delay": ("days_model", "delay_factor", "days"), "default": ("default_model", "risk_factor", "pp")}


def model_feature_set(model: dict) -> FeatureSet:
    """The features a trained payment model takes, numeric and categorical."""
    cat = tuple(model["categorical"])
    return FeatureSet(tuple(c for c in model["feature_columns"] if c not in cat), cat)


def reference_values(features: pd.DataFrame, fs: FeatureSet) -> dict[str, object]:
    """The portfolio's reference per feature: median (numeric, missing ignored) or mode (categorical).

    A numeric feature missing everywhere keeps NaN as its reference (the models accept missing)."""
    ref: dict[str, object] = {}
    for c in fs.numeric:
        v = pd.to_numeric(features[c], errors="coerce")
        ref[c] = float(v.median()) if v.notna().any() else np.nan
    for c in fs.categorical:
        mode = features[c].astype(object).where(features[c].notna(), "__missing__").astype(str).mode()
        ref[c] = mode.iloc[0] if len(mode) else "__missing__"
    return ref


def _model_frame(features: pd.DataFrame, fs: FeatureSet) -> pd.DataFrame:
    """The feature columns as the trained pipelines take them (categoricals as strings)."""
    x = features[fs.columns].copy()
    for c in fs.categorical:
        x[c] = x[c].astype(object).where(x[c].notna(), "__missing__").astype(str)
    return x


def _score(model: dict, key: str, x: pd.DataFrame) -> np.ndarray:
    est = model[key]
    if key == "days_model":
        return np.asarray(est.predict(x), dtype=float)
    proba = est.predict_proba(x)
    classes = list(getattr(est, "classes_", [0, 1]))
    positive = proba[:, classes.index(1)] if 1 in classes else np.zeros(len(x))
    return positive * 100.0  # percentage points


def contributions(
    model: dict,
    features: pd.DataFrame,
    target: str = "delay",
    reference: dict | None = None,
    chunk: int = 2000,
) -> pd.DataFrame:
    """Per invoice (rows) and feature (columns): prediction minus the prediction with that feature
    set to its reference value. Units: days late (`delay`) or percentage points of P(default)."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {sorted(TARGETS)}, not {target!r}")
    key = TARGETS[target][0]
    fs = model_feature_set(model)
    x = _model_frame(features, fs).reset_index(drop=True)
    ref = reference if reference is not None else reference_values(features, fs)
    cols = fs.columns
    out = np.empty((len(x), len(cols)))
    for start in range(0, len(x), chunk):
        part = x.iloc[start : start + chunk].reset_index(drop=True)
        n = len(part)
        base = _score(model, key, part)
        # one batch per chunk: its rows repeated once per feature, that feature at its reference
        batch = pd.concat([part] * len(cols), ignore_index=True)
        for j, c in enumerate(cols):
            batch.iloc[j * n : (j + 1) * n, batch.columns.get_loc(c)] = ref[c]
        out[start : start + n] = base[:, None] - _score(model, key, batch).reshape(len(cols), n).T
    return pd.DataFrame(out, index=features.index, columns=cols)


def top_factors(contrib: pd.DataFrame, prefix: str, unit: str, k: int = TOP_K) -> pd.DataFrame:
    """The `k` largest absolute contributions per row: `{prefix}_{i}` (feature name) and
    `{prefix}_{i}_{unit}` (signed effect), i = 1..k; a factor with no effect (|c| < 1e-9) is null."""
    values = contrib.to_numpy(dtype=float)
    out = pd.DataFrame(index=contrib.index)
    if values.size == 0:
        for i in range(1, k + 1):
            out[f"{prefix}_{i}"] = pd.Series(dtype=object)
            out[f"{prefix}_{i}_{unit}"] = pd.Series(dtype=float)
        return out
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :k]
    names = np.asarray(contrib.columns, dtype=object)
    for i in range(k):
        idx = order[:, i] if i < values.shape[1] else None
        effect = values[np.arange(len(values)), idx] if idx is not None else np.full(len(values), np.nan)
        name = names[idx] if idx is not None else np.full(len(values), None, dtype=object)
        none = ~(np.abs(effect) >= 1e-9)
        out[f"{prefix}_{i + 1}"] = np.where(none, None, name)
        out[f"{prefix}_{i + 1}_{unit}"] = np.where(none, np.nan, np.round(effect, 4))
    return out


def explain(model: dict, features: pd.DataFrame, k: int = TOP_K) -> pd.DataFrame:
    """Top-k factors of the predicted delay and of the default probability for each invoice, against
    the reference values of these same invoices (the portfolio being scored)."""
    fs = model_feature_set(model)
    ref = reference_values(features, fs)
    parts = []
    for target, (_, prefix, unit) in TARGETS.items():
        parts.append(top_factors(contributions(model, features, target, ref), prefix, unit, k))
    return pd.concat(parts, axis=1)


def explain_open_invoices(
    model: dict, history: pd.DataFrame, as_of: pd.Timestamp, k: int = TOP_K, *, features: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Top factors for the invoices open at `as_of`, with the features scoring uses (decided the day
    after `as_of`, so everything dated up to `as_of` is known; `features`: those features, when
    scoring already computed them). One row per open invoice, keyed by `invoice_no`."""
    from models_ml.features import validate_history
    from models_ml.forecast import open_invoice_features, open_invoices

    h = validate_history(history)
    a = pd.Timestamp(as_of).normalize()
    op = open_invoices(h, a)
    feats = open_invoice_features(h, a) if features is None else features.loc[op.index]
    out = explain(model, feats, k)
    out.insert(0, "invoice_no", op["invoice_no"].to_numpy())
    return out.reset_index(drop=True)
