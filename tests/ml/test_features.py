"""Point-in-time features: no feature may use anything that happened on or after the decision date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.features import outcome_labels, point_in_time_features, text_objects, validate_history


def _perturb_future(h: pd.DataFrame, cut: pd.Timestamp, seed: int) -> pd.DataFrame:
    """Change every fact that becomes known on or after `cut`: later payments (moved or removed),
    later disputes, and everything about invoices issued from `cut` on."""
    rng = np.random.default_rng(seed)
    p = h.copy()
    later_paid = p["paid_date"] >= cut
    shift = pd.to_timedelta(rng.integers(0, 200, len(p)), unit="D")
    p.loc[later_paid, "paid_date"] = (cut + shift)[later_paid.to_numpy()]
    drop = later_paid & (rng.random(len(p)) < 0.3)
    p.loc[drop, "paid_date"] = pd.NaT
    later_dispute = p["first_dispute_date"] >= cut
    p.loc[later_dispute, "first_dispute_date"] = pd.NaT
    # a never-disputed future invoice becomes disputed after the cut
    fresh = p.index[(p["issue_date"] >= cut) & p["first_dispute_date"].isna()][:20]
    p.loc[fresh, "first_dispute_date"] = p.loc[fresh, "issue_date"] + pd.Timedelta(days=3)
    future = p["issue_date"] >= cut
    p.loc[future, "amount"] = p.loc[future, "amount"] * rng.uniform(0.1, 10, int(future.sum()))
    p.loc[future, "due_date"] = p.loc[future, "due_date"] + pd.to_timedelta(rng.integers(-20, 60, int(future.sum())), unit="D")
    p.loc[future, "paid_date"] = p.loc[future, "paid_date"].where(rng.random(int(future.sum())) < 0.5)
    return p


@pytest.mark.parametrize("cut", ["2024-09-01", "2025-03-15", "2025-11-20"])
def test_features_ignore_every_future_outcome(synth_load, cut):
    h = validate_history(synth_load.history)
    cut = pd.Timestamp(cut)
    perturbed = _perturb_future(h, cut, seed=cut.day)
    assert not perturbed["paid_date"].equals(h["paid_date"])  # the perturbation really changed outcomes
    before = h.index[h["issue_date"] < cut]
    a = point_in_time_features(h).loc[before]
    b = point_in_time_features(perturbed).loc[before]
    pd.testing.assert_frame_equal(a, b)
    # and the features of later decisions do change: the test can see a leak when there is one
    after = h.index[h["issue_date"] > cut + pd.Timedelta(days=200)]
    assert not point_in_time_features(h).loc[after].equals(point_in_time_features(perturbed).loc[after])


def _known_at(h: pd.DataFrame, t: pd.Timestamp, keep: int) -> pd.DataFrame:
    """The history as it stood on the morning of day `t`: nothing issued later, no later payment
    or dispute (row `keep`, the invoice being decided, is kept)."""
    k = h[(h["issue_date"] < t) | (h.index == keep)].copy()
    k["paid_date"] = k["paid_date"].where(k["paid_date"] < t)
    k["first_dispute_date"] = k["first_dispute_date"].where(k["first_dispute_date"] < t)
    return k


def test_features_equal_those_computed_from_what_was_known(synth_load):
    h = validate_history(synth_load.history)
    full = point_in_time_features(h)
    rows = h.index[np.linspace(len(h) // 4, len(h) - 1, 12).astype(int)]
    for i in rows:
        t = h.at[i, "issue_date"]
        known = _known_at(h, t, i)
        f = point_in_time_features(known, pd.Series(t, index=[i]))
        pd.testing.assert_frame_equal(full.loc[[i]], f, check_dtype=False)


def test_scoring_date_features_use_history_up_to_that_date(synth_load):
    h = validate_history(synth_load.history)
    open_row = h.index[h["paid_date"].isna()][0]
    t = h.at[open_row, "issue_date"] + pd.Timedelta(days=120)
    at_issue = point_in_time_features(h, pd.Series(h.at[open_row, "issue_date"], index=[open_row]))
    later = point_in_time_features(h, pd.Series(t, index=[open_row]))
    assert later.at[open_row, "cust_n_issued"] >= at_issue.at[open_row, "cust_n_issued"]
    known = _known_at(h, t, open_row)
    pd.testing.assert_frame_equal(later, point_in_time_features(known, pd.Series(t, index=[open_row])), check_dtype=False)


def test_customer_history_by_hand():
    d = pd.Timestamp
    h = pd.DataFrame(
        {
            "invoice_no": ["A", "B", "C", "D"],
            "customer_id": ["c1", "c1", "c1", "c1"],
            "issue_date": [d("2025-01-01"), d("2025-01-10"), d("2025-02-01"), d("2025-03-01")],
            "due_date": [d("2025-01-31"), d("2025-02-09"), d("2025-03-03"), d("2025-03-31")],
            "amount": [100.0, 200.0, 300.0, 400.0],
            # A 10 days late, B early by 4 days, C paid on 2025-03-01: same day as D's decision
            "paid_date": [d("2025-02-10"), d("2025-02-05"), d("2025-03-01"), pd.NaT],
        }
    )
    f = point_in_time_features(h)
    assert f.at[0, "cust_n_settled"] == 0 and np.isnan(f.at[0, "cust_mean_days_late"])
    # at D (2025-03-01): A and B settled before; C settled that same day does not count yet
    assert f.at[3, "cust_n_settled"] == 2
    assert f.at[3, "cust_mean_days_late"] == pytest.approx((10 - 4) / 2)
    assert f.at[3, "cust_late_share"] == pytest.approx(0.5)
    assert f.at[3, "cust_last_days_late"] == 10  # last settled by date: A on 02-10
    assert f.at[3, "cust_n_issued"] == 3
    assert np.expm1(f.at[3, "cust_open_amount_log"]) == pytest.approx(300.0)  # C still open that morning
    assert f.at[3, "cust_n_overdue"] == 0  # C is due 03-03
    assert f.at[3, "terms_days"] == 30


def test_outcome_labels_treat_open_invoices_as_censored():
    d = pd.Timestamp
    h = pd.DataFrame(
        {
            "invoice_no": ["paid", "open_recent", "open_old", "paid_after_obs", "paid_very_late"],
            "customer_id": ["c"] * 5,
            "issue_date": [d("2025-01-01"), d("2025-05-15"), d("2024-10-01"), d("2025-01-01"), d("2024-09-01")],
            "due_date": [d("2025-01-31"), d("2025-06-15"), d("2024-10-31"), d("2025-01-31"), d("2024-10-01")],
            "amount": [1.0] * 5,
            "paid_date": [d("2025-02-05"), pd.NaT, pd.NaT, d("2025-07-01"), d("2025-02-01")],
        }
    )
    lab = outcome_labels(h, d("2025-06-01")).set_index(h["invoice_no"])
    assert lab.at["paid", "days_late"] == 5 and lab.at["paid", "is_default"] == 0
    assert np.isnan(lab.at["open_recent", "is_default"]) and not lab.at["open_recent", "window_closed"]
    assert np.isnan(lab.at["open_recent", "is_late"])  # not due yet, unpaid: unknown
    assert lab.at["open_old", "is_default"] == 1 and lab.at["open_old", "is_late"] == 1
    # a payment after the observation date is not known yet; its 90-day window closed unpaid
    assert np.isnan(lab.at["paid_after_obs", "days_to_pay"]) and lab.at["paid_after_obs", "is_default"] == 1
    assert lab.at["paid_very_late", "is_default"] == 1  # paid 123 days after due


def test_history_validation_names_the_problem():
    h = pd.DataFrame({"invoice_no": ["a"], "customer_id": ["c"], "issue_date": ["2025-01-01"], "amount": [1.0]})
    with pytest.raises(ValueError, match="due_date"):
        point_in_time_features(h)


def test_features_a_group_of_salespeople_at_a_time_equal_one_pass(synth_load):
    """A long history is featurised in chunks of whole salespeople (memory); the figures must be
    the same as in one pass, for issue-date decisions and for a later scoring date."""
    from models_ml.features import _feature_chunks

    h = validate_history(synth_load.history)
    assert h["salesperson_id"].nunique() >= 4
    chunks = _feature_chunks(h, chunk_rows=len(h) // 3)
    assert chunks is not None and len(chunks) >= 3
    assert sorted(np.concatenate([c.to_numpy() for c in chunks]).tolist()) == h.index.tolist()
    one = point_in_time_features(h)
    chunked = point_in_time_features(h, chunk_rows=len(h) // 3)
    pd.testing.assert_frame_equal(chunked, one)
    later = pd.Series(h["issue_date"].max() + pd.Timedelta(days=30), index=h.index[h["paid_date"].isna()][::-1])
    pd.testing.assert_frame_equal(
        point_in_time_features(h, later, chunk_rows=len(h) // 3), point_in_time_features(h, later)
    )
    # a project whose invoices have two salespeople: one pass
    moved = h.copy()
    p = moved["project_id"].dropna().iloc[0]
    other = moved.loc[moved["salesperson_id"] != moved.loc[moved["project_id"] == p, "salesperson_id"].iloc[0]].index[0]
    moved.loc[other, "project_id"] = p
    assert _feature_chunks(moved, chunk_rows=len(h) // 3) is None


def test_text_objects_hold_one_string_per_distinct_value():
    s = text_objects(pd.Series(["a", None, "b", "a", float("nan")], dtype=object))
    assert s.tolist() == ["a", None, "b", "a", None] and s.iloc[0] is s.iloc[3]
    assert text_objects(pd.Series([7, 7])).tolist() == ["7", "7"]
