"""evaluate(): hand-checked metrics, buckets and calibration table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.evaluate import calibration_table, evaluate, late_bucket, metrics_table


def test_late_buckets_boundaries():
    assert list(late_bucket([-5, 0, 1, 30, 31, 60, 61, 90, 91, 400])) == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]


def test_evaluate_by_hand():
    f = pd.DataFrame(
        {
            "days_late": [0.0, 10.0, 40.0, np.nan],
            "is_late": [0.0, 1.0, 1.0, 1.0],
            "is_default": [0.0, 0.0, 0.0, 1.0],
            "terms_days": [30.0, 30.0, 30.0, 30.0],
            "pred_days_late": [2.0, 10.0, 20.0, 5.0],
            "p_late": [0.1, 0.8, 0.9, 0.7],
            "p_default": [0.0, 0.1, 0.2, 0.9],
            "interval_lo": [25.0, 35.0, 45.0, 30.0],  # days to pay
            "interval_hi": [35.0, 45.0, 65.0, 40.0],
        }
    )
    m = evaluate(f, "m")
    assert m["n_paid"] == 3
    assert m["mae_days"] == pytest.approx((2 + 0 + 20) / 3, abs=1e-3)
    assert m["median_ae_days"] == 2
    # buckets: actual 0,1,2,4 ; predicted 1,1,1,4 (p_default 0.9 -> 90+)
    assert m["bucket_accuracy"] == pytest.approx(0.5)
    assert m["auc_late"] == 1.0 and m["auc_default"] == 1.0
    assert m["brier_default"] == pytest.approx((0 + 0.01 + 0.04 + 0.01) / 4, abs=1e-5)
    # days to pay 30, 40, 70: inside, inside, outside
    assert m["interval_coverage"] == pytest.approx(2 / 3, abs=1e-3)
    assert m["interval_width_days"] == pytest.approx((10 + 10 + 20) / 3, abs=0.01)
    assert "m" in metrics_table([m])


def test_evaluate_reports_missing_capabilities_as_none():
    f = pd.DataFrame({"days_late": [1.0], "is_late": [1.0], "is_default": [0.0], "terms_days": [30.0],
                      "pred_days_late": [0.0]})  # fmt: skip
    m = evaluate(f, "due_date")
    assert m["auc_default"] is None and m["interval_coverage"] is None and m["mae_days"] == 1


def test_calibration_table_bins():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 5000)
    y = (rng.uniform(0, 1, 5000) < p).astype(float)
    table = calibration_table(y, p, bins=5)
    assert len(table) == 5 and sum(r["n"] for r in table) == 5000
    for r in table:
        assert abs(r["mean_predicted"] - r["observed_rate"]) < 0.05
