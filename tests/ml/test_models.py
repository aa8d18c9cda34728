"""Models through the rolling-origin backtest: they beat the baselines, intervals and probabilities calibrate."""

from __future__ import annotations

import numpy as np
import pytest

from models_ml.backtest import MODEL_NAME
from models_ml.features import FeatureSet
from models_ml.models import conformal_bounds


def test_conformal_bounds_cover_nominal_share():
    rng = np.random.default_rng(1)
    resid = rng.laplace(0, 5, 2000)
    lo, hi = conformal_bounds(resid, 0.8)
    fresh = rng.laplace(0, 5, 20000)
    assert 0.78 <= ((fresh >= lo) & (fresh <= hi)).mean() <= 0.82
    with pytest.raises(ValueError, match="calibration"):
        conformal_bounds(np.array([]), 0.8)


def test_backtest_is_split_by_time(synth_report):
    bt = synth_report.backtest
    assert len(bt.origins) == 2 and bt.origins[0] < bt.origins[1]
    assert [f["origin"] for f in bt.folds] == [str(o.date()) for o in bt.origins]
    for fold in bt.folds:
        assert fold["n_train"] > 100 and fold["n_test"] > 50


def test_model_beats_every_baseline_and_is_calibrated(synth_report):
    m = {r["model"]: r for r in synth_report.backtest.metrics}
    gb = m[MODEL_NAME]
    assert set(m) == {MODEL_NAME, "baseline_due_date", "baseline_customer_median", "baseline_global_median"}
    for name, r in m.items():
        if name != MODEL_NAME:
            assert gb["mae_days"] < r["mae_days"], name
    assert gb["auc_late"] > m["baseline_global_median"]["auc_late"] + 0.2
    assert 0.70 <= gb["interval_coverage"] <= 0.90
    # calibrated: over the calibration table, predicted and observed late rates agree
    table = gb["calibration_late"]
    n = sum(r["n"] for r in table)
    gap = sum(r["n"] * abs(r["mean_predicted"] - r["observed_rate"]) for r in table) / n
    assert gap < 0.08


def test_predictions_keep_the_order_of_pay_date_interval(synth_report):
    preds = synth_report.backtest.predictions
    lo, mid, hi = (preds[f"{MODEL_NAME}:{c}"] for c in ("interval_lo", "pred_days_to_pay", "interval_hi"))
    assert (lo <= mid).all() and (mid <= hi).all()
    p = preds[f"{MODEL_NAME}:p_default"]
    assert p.between(0, 1).all()


def test_default_model_takes_the_days_model_prediction(synth_load, synth_report):
    """The default model reads the plain feature frame; the days model's prediction is computed
    inside its pipeline, so scoring and explanations need nothing else, and the persisted model
    holds scikit-learn parts only."""
    import skops.io as sio

    from models_ml.models import _categorical_frame, make_pipeline
    from models_ml.registry import TRUSTED_PREFIXES

    model = synth_report.backtest.model
    feats = synth_report.backtest.features.iloc[:200]
    fs = FeatureSet(
        tuple(c for c in model["feature_columns"] if c not in model["categorical"]),
        tuple(model["categorical"]),
    )
    x = _categorical_frame(feats, fs)
    est = model["default_model"]
    pipe = est
    while not hasattr(pipe, "named_steps"):  # calibrated: CalibratedClassifierCV → FrozenEstimator → Pipeline
        pipe = pipe.estimator
    inputs = pipe.named_steps["features"].transform(x)
    assert inputs.columns[-1].endswith("pred_days_late")
    stacked = inputs.iloc[:, -1].to_numpy()
    np.testing.assert_allclose(stacked, model["days_model"].predict(x))
    assert est.predict_proba(x).shape == (len(x), 2)
    untrusted = sio.get_untrusted_types(data=sio.dumps(model["default_model"]))
    assert all(t.startswith(TRUSTED_PREFIXES) for t in untrusted), untrusted
    with pytest.raises(ValueError, match="classifier"):
        make_pipeline(fs, "regressor", days_model=model["days_model"])


def test_record_adjuster_nets_the_invoice_mix_out_of_the_customer_record():
    """Days late driven by amount and milestone type alone: the adjuster's linear map gives back
    each customer's own lateness from its mean days late and settled mix."""
    import pandas as pd

    from models_ml.features import SETTLED_MILESTONE_SHARES, settled_mix_feature
    from models_ml.models import fit_record_adjuster

    rng = np.random.default_rng(5)
    n = 4000
    kinds = np.array(["progress", *SETTLED_MILESTONE_SHARES])
    x = pd.DataFrame(
        {
            "amount_log": rng.normal(13, 1.5, n),
            "terms_days": rng.choice([30.0, 60.0, 90.0], n),
            "milestone_type": rng.choice(kinds, n),
            "customer_type": rng.choice(["soe", "private"], n),
        }
    )
    y = 3.0 * x["amount_log"] - 0.1 * x["terms_days"] + 25.0 * (x["milestone_type"] == "retention") + rng.normal(0, 1, n)
    mix = [settled_mix_feature(c) for c in ("amount_log", "terms_days")]
    mix += [settled_mix_feature(f"share_{m}") for m in SETTLED_MILESTONE_SHARES]
    fs = FeatureSet(("cust_mean_days_late", *mix), ("milestone_type", "customer_type"))
    # three customers' records: own lateness u on top of what their settled mix explains
    u = np.array([-5.0, 0.0, 6.0])
    records = pd.DataFrame(
        {
            mix[0]: [12.0, 14.0, 13.0],
            mix[1]: [30.0, 90.0, 60.0],
            mix[2]: [0.5, 0.0, 0.1],
            mix[3]: [0.0, 0.2, 0.1],
            mix[4]: [0.0, 0.0, 0.1],
            mix[5]: [0.0, 0.6, 0.3],
        }
    )
    explained = 3.0 * records[mix[0]] - 0.1 * records[mix[1]] + 25.0 * records[mix[5]]
    records["cust_mean_days_late"] = explained + u
    for c in fs.columns:
        if c not in x.columns:
            x[c] = np.nan  # no record in the training frame: the imputer learns nothing from it
    adjuster = fit_record_adjuster(x, y.to_numpy(), fs)
    adjusted = adjuster.predict(records[list(adjuster[0].feature_names_in_)])
    np.testing.assert_allclose(adjusted, u, atol=0.3)
    # raw records would rank the customers differently: the retention-heavy one looks latest
    assert records["cust_mean_days_late"].idxmax() == 1 and adjusted.argmax() == 2
    # no record at all (new customer): 0, not NaN
    empty = records.iloc[:1].copy()
    empty[:] = np.nan
    assert adjuster.predict(empty[list(adjuster[0].feature_names_in_)])[0] == 0.0


def test_every_model_takes_the_adjusted_customer_record(synth_report):
    from models_ml.models import ADJUSTED_FEATURE, _categorical_frame

    model = synth_report.backtest.model
    assert model["record_adjustment"]["cust_mean_days_late"] == 1.0
    fs = FeatureSet(
        tuple(c for c in model["feature_columns"] if c not in model["categorical"]),
        tuple(model["categorical"]),
    )
    x = _categorical_frame(synth_report.backtest.features.iloc[:200], fs)
    inputs = model["days_model"].named_steps["features"].transform(x)
    adjusted = inputs[[c for c in inputs.columns if c.endswith(ADJUSTED_FEATURE)]].iloc[:, 0]
    weights = model["record_adjustment"]
    expected = sum(w * x[c].fillna(0.0) for c, w in weights.items())
    np.testing.assert_allclose(adjusted.to_numpy(), expected.to_numpy(), rtol=1e-4, atol=1e-2)  # weights kept to 4 places
    assert adjusted.std() > 0
