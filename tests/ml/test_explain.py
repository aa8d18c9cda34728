"""Per-invoice explanations are real: they move with the features the model uses, in the right direction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.explain import (
    contributions,
    explain,
    explain_open_invoices,
    model_feature_set,
    reference_values,
)
from models_ml.features import point_in_time_features
from models_ml.forecast import open_invoice_features, open_invoices


@pytest.fixture(scope="module")
def scored(synth_load, synth_report):
    model = synth_report.backtest.model
    h = synth_load.history
    a = synth_load.observed_until
    op = open_invoices(h, a)
    feats = point_in_time_features(h, pd.Series(a + pd.Timedelta(days=1), index=op.index))
    return model, feats


def test_open_invoices_get_three_signed_factors_per_target(synth_load, synth_report):
    model = synth_report.backtest.model
    ex = explain_open_invoices(model, synth_load.history, synth_load.observed_until)
    op = open_invoices(synth_load.history, synth_load.observed_until)
    assert sorted(ex["invoice_no"]) == sorted(op["invoice_no"])
    names = set(model["feature_columns"])
    for prefix, unit in (("delay_factor", "days"), ("risk_factor", "pp")):
        for i in (1, 2, 3):
            assert ex[f"{prefix}_{i}"].dropna().isin(names).all()
        # ranked by absolute effect
        a1, a2, a3 = (ex[f"{prefix}_{i}_{unit}"].abs() for i in (1, 2, 3))
        assert ((a1 >= a2) | a2.isna()).all() and ((a2 >= a3) | a3.isna()).all()
    # in the synthetic data the customer type drives the delay: it leads for many invoices
    assert ex["delay_factor_1"].value_counts().index[0] in {"customer_type", "amount_log"}
    # daily scoring hands over the features it computed: the same explanations
    feats = open_invoice_features(synth_load.history, synth_load.observed_until)
    again = explain_open_invoices(model, synth_load.history, synth_load.observed_until, features=feats.iloc[::-1])
    pd.testing.assert_frame_equal(again, ex)


def test_contributions_add_the_prediction_gap_and_vanish_at_the_reference(scored):
    model, feats = scored
    ref = reference_values(feats, model_feature_set(model))
    row = feats.iloc[[0]].copy()
    row["amount_log"] = ref["amount_log"]
    c = contributions(model, row, "delay", ref)
    assert c.loc[row.index[0], "amount_log"] == 0.0
    # a feature the prediction does not depend on here has no effect either way
    assert np.isfinite(c.to_numpy()).all()


def _with_amount(feats: pd.DataFrame, value: float) -> pd.DataFrame:
    f = feats.copy()
    f.iloc[0, f.columns.get_loc("amount_log")] = value
    return f


def test_raising_a_used_feature_makes_it_a_top_factor_pushing_delay_up(scored):
    """The synthetic invoices pay 6 days later per unit of log amount: an invoice made much larger
    than the portfolio's gets amount as a top delay factor with a positive effect, made much
    smaller a negative one; between the two the effect grows with the amount."""
    model, feats = scored
    ref = np.nanmedian(feats["amount_log"])
    effects = []
    for delta in (-3.0, 0.0, 3.0):
        f = _with_amount(feats, ref + delta)
        ex = explain(model, f).iloc[0]
        factors = {ex[f"delay_factor_{i}"]: ex[f"delay_factor_{i}_days"] for i in (1, 2, 3)}
        effects.append(contributions(model, f, "delay").iloc[0]["amount_log"])
        if delta > 0:
            assert factors.get("amount_log", 0) > 3, factors
        elif delta < 0:
            assert factors.get("amount_log", 0) < -3, factors
        else:
            assert "amount_log" not in factors
    assert effects[0] < effects[1] < effects[2]


def test_customer_history_of_lateness_pushes_delay_up(scored):
    model, feats = scored
    cols = ["cust_mean_days_late", "cust_median_days_late", "cust_ewm_days_late", "cust_median5_days_late",
            "cust_last_days_late"]
    base = contributions(model, feats.iloc[[0]], "delay", reference_values(feats, model_feature_set(model)))
    late = feats.iloc[[0]].copy()
    late[cols] = 80.0  # a customer who has paid 80 days late
    after = contributions(model, late, "delay", reference_values(feats, model_feature_set(model)))
    assert after[cols].sum(axis=1).iloc[0] > base[cols].sum(axis=1).iloc[0] + 5


def test_unknown_target_is_refused(scored):
    model, feats = scored
    with pytest.raises(ValueError, match="target"):
        contributions(model, feats, "churn")
