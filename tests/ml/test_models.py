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
