"""Cash forecast: amounts add up, intervals bracket, it beats the naive baselines in its backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml import forecast
from models_ml.forecast import (
    actual_receipts,
    cash_forecast,
    invoice_receipts,
    known_plan,
    naive_forecasts,
    new_business_receipts,
    period_edges,
    score_open_invoices,
    wape,
)


def test_period_edges_and_actuals():
    edges = period_edges(pd.Timestamp("2025-01-31"), "M")
    assert edges[1] == pd.Timestamp("2025-02-28") and len(edges) == 13
    h = pd.DataFrame({"paid_date": pd.to_datetime(["2025-01-31", "2025-02-01", "2025-02-28", "2025-03-01", None]),
                      "amount": [1.0, 2.0, 4.0, 8.0, 16.0]})  # fmt: skip
    got = actual_receipts(h, edges)
    assert got[0] == 6.0 and got[1] == 8.0 and got.sum() == 14.0  # the as-of day itself is not ahead
    assert wape(np.array([10.0, 10.0]), np.array([5.0, 15.0])) == 0.5


def test_forecast_adds_up_and_names_the_model(synth_load, synth_report):
    model = synth_report.backtest.model
    a = synth_load.observed_until - pd.Timedelta(days=200)
    scored = score_open_invoices(model, synth_load.history, a, "v-test")
    assert len(scored) > 0 and (scored["model_version"] == "v-test").all()
    assert (scored["expected_pay_date"] > a).all()
    # surviving unpaid can only raise the default risk
    assert (scored["p_default"] >= scored["p_default_at_issue"] - 1e-12).all()
    fc = cash_forecast(model, synth_load.history, synth_load.milestones, a, "v-test", scored=scored)
    for table in (fc.weekly, fc.monthly):
        assert (table["lo"] <= table["expected"]).all() and (table["expected"] <= table["hi"]).all()
        assert (table["model_version"] == "v-test").all()
        np.testing.assert_allclose(table["expected"], table["from_invoices"] + table["from_milestones"])
    assert len(fc.weekly) == 13 and len(fc.monthly) == 12
    assert fc.weekly["from_invoices"].sum() <= scored["open_amount"].sum() + 1e-6
    unbilled = synth_load.milestones
    unbilled = unbilled[unbilled["billed_date"].isna() | (unbilled["billed_date"] > a)]
    assert fc.monthly["from_milestones"].sum() <= unbilled["amount"].sum() + 1e-6


def test_receipts_of_many_dates_a_group_at_a_time_equal_scoring_each_date(synth_load, synth_report, monkeypatch):
    """The forecast backtest scores the open items of every as-of date from feature streams built
    once per group of salespeople, sampling pay dates a slice of items at a time: the receipts must
    be those of scoring each date on its own in one pass."""
    model = synth_report.backtest.model
    h = synth_load.history
    dates = [synth_load.observed_until - pd.Timedelta(days=d) for d in (300, 200, 120)]
    one_pass = {a: score_open_invoices(model, h, a) for a in dates}
    monkeypatch.setattr(forecast, "SAMPLE_SLICE", 7)
    grouped = invoice_receipts(h, dict.fromkeys(dates, model), chunk_rows=len(h) // 3)
    for a in dates:
        assert len(one_pass[a]) > 7
        for freq in ("W", "M"):
            expected, variance = one_pass[a].attrs["receipts"][freq]
            assert expected.sum() > 0
            np.testing.assert_allclose(grouped[a][freq][0], expected, rtol=1e-9)
            np.testing.assert_allclose(grouped[a][freq][1], variance, rtol=1e-9)
        sliced = score_open_invoices(model, h, a)  # the frame too, sampled in slices of 7 items
        pd.testing.assert_frame_equal(sliced, one_pass[a])


def test_forecast_backtest_beats_due_date_schedule(synth_report):
    weekly, monthly = synth_report.forecast["weekly"], synth_report.forecast["monthly"]
    assert weekly["n_origins"] >= 3
    assert weekly["wape_model"] < weekly["wape_naive_due_date_schedule"]
    assert monthly is None or monthly["wape_model"] < monthly["wape_naive_due_date_schedule"]


def test_interval_widening_factor_from_the_backtest(synth_load, synth_report):
    model = dict(synth_report.backtest.model)
    a = synth_load.observed_until - pd.Timedelta(days=200)
    scored = score_open_invoices(model, synth_load.history, a)
    base = cash_forecast(model, synth_load.history, synth_load.milestones, a, scored=scored).weekly
    model["forecast_interval_scale"] = {"W": 2.0, "M": 1.0}
    wide = cash_forecast(model, synth_load.history, synth_load.milestones, a, scored=scored).weekly
    np.testing.assert_allclose(wide["hi"] - wide["expected"], 2 * (base["hi"] - base["expected"]))
    assert synth_report.forecast["weekly"]["interval_scale_for_80pct"] > 0


def _plan_and_history():
    """Contracts signed every Friday from 2024-01-05, each billed 20 days after signing and paid 60
    days after that (100 per contract)."""
    signed = pd.date_range("2024-01-05", "2025-06-27", freq="7D")
    plan = pd.DataFrame(
        {
            "milestone_id": [f"C{i}-M01" for i in range(len(signed))],
            "customer_id": "K1",
            "amount": 100.0,
            "planned_date": signed + pd.Timedelta(days=20),
            "billed_date": signed + pd.Timedelta(days=20),
            "terms_days": 60.0,
            "signed_date": signed,
        }
    )
    issue = plan["billed_date"]
    history = pd.DataFrame(
        {
            "invoice_no": [f"I{i}" for i in range(len(plan))],
            "customer_id": "K1",
            "issue_date": issue,
            "due_date": issue + pd.Timedelta(days=60),
            "amount": 100.0,
            "paid_date": issue + pd.Timedelta(days=60),
            "milestone_id": plan["milestone_id"],
        }
    )
    return plan, history


def test_plan_is_cut_at_the_as_of_date_and_new_contracts_come_from_the_past():
    plan, history = _plan_and_history()
    a = pd.Timestamp("2025-03-07")
    cut = known_plan(plan, a)
    assert (cut["signed_date"] <= a).all() and len(cut) == int((plan["signed_date"] <= a).sum())
    assert known_plan(plan.drop(columns="signed_date"), a) is not None  # nothing to cut on: kept whole
    # the due-date schedule must not see the milestones of contracts signed later either
    naive = naive_forecasts(history[history["issue_date"] <= a], plan, a, "W")["naive_due_date_schedule"]
    unpaid_known = cut[cut["billed_date"] > a]["amount"].sum() + 100.0 * int(
        ((history["issue_date"] <= a) & (history["paid_date"] > a)).sum()
    )
    assert naive.sum() <= unpaid_known + 1e-9
    # a contract signed after a' (a Friday) pays 80 days after signing: none of them in weeks 1-12,
    # in week 13 (days 85-91) the one signed a week after a', every week alike
    mean, var = new_business_receipts(history[history["issue_date"] <= a], plan, a, "W")
    assert mean[:12].sum() == 0.0
    assert mean[12] == 100.0 and var[12] == 0.0
    zero, _ = new_business_receipts(history, plan.drop(columns="signed_date"), a, "W")
    assert not zero.any()
