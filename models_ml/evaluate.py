"""One `evaluate()` for every payment model and baseline, and the baselines themselves.

A prediction frame has, per invoice, the observed outcome (`days_late` when paid inside the
window, `is_late`, `is_default`) and whatever the predictor provides (`pred_days_late`, and
optionally `p_late`, `p_default`, `interval_lo`/`interval_hi` in days to pay with `terms_days`).
Metrics a predictor cannot provide are reported as None, never invented.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score

BUCKETS = ("on_time", "1-30", "31-60", "61-90", "90+")
BUCKET_EDGES = (0, 30, 60, 90)  # days late upper bounds of the first four buckets


def late_bucket(days_late: np.ndarray | pd.Series) -> np.ndarray:
    """Bucket index 0..4: on time (≤ 0 days late), 1–30, 31–60, 61–90, 90+."""
    d = np.asarray(days_late, dtype=float)
    return np.searchsorted(np.array(BUCKET_EDGES, dtype=float), np.ceil(d), side="left")


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Reliability table: quantile bins of the predicted probability, mean prediction vs observed rate."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(y) == 0:
        return []
    edges = np.unique(np.quantile(p, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows = []
    for b in np.unique(idx):
        m = idx == b
        rows.append(
            {
                "bin": int(b),
                "n": int(m.sum()),
                "mean_predicted": round(float(p[m].mean()), 4),
                "observed_rate": round(float(y[m].mean()), 4),
            }
        )
    return rows


def _binary_metrics(y: pd.Series, p: pd.Series | None, prefix: str) -> dict:
    out: dict = {f"auc_{prefix}": None, f"brier_{prefix}": None, f"calibration_{prefix}": []}
    if p is None:
        return out
    m = y.notna() & p.notna()
    yy, pp = y[m].to_numpy(dtype=float), p[m].to_numpy(dtype=float)
    if len(yy) == 0:
        return out
    if len(np.unique(yy)) == 2:
        out[f"auc_{prefix}"] = round(float(roc_auc_score(yy, pp)), 4)
    out[f"brier_{prefix}"] = round(float(brier_score_loss(yy, pp)), 5)
    out[f"calibration_{prefix}"] = calibration_table(yy, pp)
    return out


def evaluate(frame: pd.DataFrame, name: str) -> dict:
    """Metrics for one predictor on one prediction frame.

    Point metrics (MAE, median AE, interval coverage and width) use invoices paid inside the
    default window; 5-bucket accuracy uses every invoice with a closed window (an unpaid one is in
    the 90+ bucket, and a predictor with `p_default` ≥ 0.5 predicts 90+); AUC, Brier and the
    calibration table use the label each probability predicts.
    """
    f = frame
    paid = f["is_default"].eq(0) & f["days_late"].notna()
    err = (f.loc[paid, "pred_days_late"] - f.loc[paid, "days_late"]).abs()
    out: dict = {
        "model": name,
        "n_invoices": len(f),
        "n_paid": int(paid.sum()),
        "mae_days": round(float(err.mean()), 3) if len(err) else None,
        "median_ae_days": round(float(err.median()), 3) if len(err) else None,
    }
    closed = f["is_default"].notna()
    actual = np.where(f.loc[closed, "is_default"].to_numpy() == 1, 4, late_bucket(f.loc[closed, "days_late"].fillna(0)))
    pred = late_bucket(f.loc[closed, "pred_days_late"])
    if "p_default" in f.columns and f["p_default"].notna().all():
        pred = np.where(f.loc[closed, "p_default"].to_numpy() >= 0.5, 4, pred)
    out["bucket_accuracy"] = round(float((actual == pred).mean()), 4) if closed.any() else None
    out.update(_binary_metrics(f["is_late"], f.get("p_late"), "late"))
    out.update(_binary_metrics(f["is_default"], f.get("p_default"), "default"))
    if "interval_lo" in f.columns and f["interval_lo"].notna().any():
        dtp = f.loc[paid, "days_late"] + f.loc[paid, "terms_days"]
        lo, hi = f.loc[paid, "interval_lo"], f.loc[paid, "interval_hi"]
        out["interval_coverage"] = round(float(((dtp >= lo) & (dtp <= hi)).mean()), 4)
        out["interval_width_days"] = round(float((hi - lo).mean()), 2)
    else:
        out["interval_coverage"] = None
        out["interval_width_days"] = None
    return out


def baseline_predictions(features: pd.DataFrame, train_labels: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The three baselines (DESIGN.md §7), as prediction frames over `features`' rows.

    - due_date: pays on the due date (0 days late);
    - customer_median: the customer's median days late over invoices settled before the decision
      date (point in time, from the features), else the training median; P(late) = the customer's
      late share, P(default) = the customer's share of invoices that went 90+ days past due;
    - global_median: the training median days late; P(late) and P(default) the training rates.
    """
    closed = train_labels[train_labels["window_closed"].astype(bool)]
    paid_late_days = closed.loc[closed["is_default"] == 0, "days_late"].dropna()
    global_median = float(paid_late_days.median()) if len(paid_late_days) else 0.0
    late_rate = float(closed["is_late"].mean()) if len(closed) else 0.0
    default_rate = float(closed["is_default"].mean()) if len(closed) else 0.0
    idx = features.index
    n_issued = features["cust_n_issued"].where(features["cust_n_issued"] > 0)
    return {
        "baseline_due_date": pd.DataFrame({"pred_days_late": 0.0}, index=idx),
        "baseline_customer_median": pd.DataFrame(
            {
                "pred_days_late": features["cust_median_days_late"].fillna(global_median),
                "p_late": features["cust_late_share"].fillna(late_rate),
                "p_default": (features["cust_n_90plus"] / n_issued).fillna(default_rate),
            },
            index=idx,
        ),
        "baseline_global_median": pd.DataFrame(
            {"pred_days_late": global_median, "p_late": late_rate, "p_default": default_rate}, index=idx
        ),
    }


def metrics_table(results: list[dict]) -> str:
    """A fixed-width table of the headline metrics, one row per predictor."""
    cols = [
        ("model", "model", 34),
        ("mae_days", "MAE d", 7),
        ("median_ae_days", "MedAE", 7),
        ("bucket_accuracy", "bucket", 7),
        ("auc_late", "AUC lt", 7),
        ("auc_default", "AUC df", 7),
        ("brier_default", "Brier", 8),
        ("interval_coverage", "cover", 7),
        ("interval_width_days", "width", 7),
        ("n_paid", "n paid", 8),
    ]

    def fmt(v, w):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-".rjust(w)
        return (f"{v:.4g}" if isinstance(v, float) else str(v)).rjust(w)

    lines = [" ".join(h.ljust(w) if k == "model" else h.rjust(w) for k, h, w in cols)]
    for r in results:
        lines.append(" ".join(str(r.get(k)).ljust(w) if k == "model" else fmt(r.get(k), w) for k, _, w in cols))
    return "\n".join(lines)
