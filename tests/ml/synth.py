"""Small synthetic contract-shaped tables with learnable payment behaviour, for fast model tests.

Customers differ in their typical delay and default risk (by customer type and an individual
propensity); large invoices and invoices due around Spring Festival pay later; disputes delay;
some invoices are never paid. Payments up to `as_of` - 15 days are cleared in the invoice register
(as an ERP open-item export would show), later ones are still open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TYPES = ("soe", "private", "government", "foreign")
TYPE_LATE = {"soe": 25.0, "private": 8.0, "government": 40.0, "foreign": 2.0}
TYPE_DEFAULT = {"soe": 0.02, "private": 0.06, "government": 0.01, "foreign": 0.03}


def synthetic_tables(n_invoices: int = 3000, seed: int = 0, as_of: str = "2026-06-30") -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    a = pd.Timestamp(as_of)
    start = a - pd.Timedelta(days=3 * 365)
    n_cust = max(20, n_invoices // 40)
    ctype = rng.choice(TYPES, n_cust)
    customers = pd.DataFrame(
        {
            "customer_id": [f"CU{i:04d}" for i in range(n_cust)],
            "customer_name": [f"客户{i}" for i in range(n_cust)],
            "region": rng.choice(["华东", "华北", "华南", "西南", "东北"], n_cust),
            "industry": rng.choice(["construction", "it", "energy", "manufacturing"], n_cust),
            "customer_type": ctype,
            "salesperson_id": [f"SP{i % 6}" for i in range(n_cust)],
            "payment_terms_days": rng.choice([30, 60, 90], n_cust).astype(str),
            "credit_limit": (rng.uniform(0.5, 5, n_cust) * 1e6).round(2).astype(str),
        }
    )
    salespeople = pd.DataFrame(
        {"salesperson_id": [f"SP{i}" for i in range(6)], "name": [f"S{i}" for i in range(6)], "team": ["A", "A", "B", "B", "C", "C"]}
    )
    propensity = rng.normal(0, 10, n_cust)
    risk = rng.uniform(0.3, 2.5, n_cust)
    n_proj = max(n_cust, n_invoices // 8)
    proj_cust = rng.integers(0, n_cust, n_proj)
    proj_start = start + pd.to_timedelta(rng.integers(-60, 3 * 365 - 30, n_proj), unit="D")
    projects = pd.DataFrame(
        {
            "project_id": [f"PR{i:05d}" for i in range(n_proj)],
            "project_name": [f"项目{i}" for i in range(n_proj)],
            "customer_id": customers["customer_id"].to_numpy()[proj_cust],
            "start_date": proj_start.strftime("%Y-%m-%d"),
            "contract_value": (rng.lognormal(13, 1, n_proj)).round(2).astype(str),
        }
    )
    contracts = pd.DataFrame(
        {
            "contract_id": [f"CT{i:05d}" for i in range(n_proj)],
            "project_id": projects["project_id"],
            "customer_id": projects["customer_id"],
            "signed_date": projects["start_date"],
            "contract_amount": projects["contract_value"],
            "payment_terms_days": customers["payment_terms_days"].to_numpy()[proj_cust],
        }
    )
    # milestones: about 10 per project spread over its life; billed ones become invoices
    n_ms = int(n_invoices * 1.25)
    ms_proj = rng.integers(0, n_proj, n_ms)
    planned = proj_start[ms_proj] + pd.to_timedelta(rng.integers(0, 400, n_ms), unit="D")
    amount = (rng.lognormal(11, 1.0, n_ms)).round(2)
    mtype = rng.choice(["advance", "progress", "acceptance", "final", "retention"], n_ms, p=[0.15, 0.45, 0.2, 0.1, 0.1])
    slip = np.maximum(0, rng.normal(5, 6, n_ms)).round()
    issue = pd.DatetimeIndex(planned) + pd.to_timedelta(slip, unit="D")
    billed = (issue <= a) & (issue >= start)
    ms = pd.DataFrame(
        {
            "milestone_id": [f"MS{i:06d}" for i in range(n_ms)],
            "contract_id": contracts["contract_id"].to_numpy()[ms_proj],
            "milestone_type": mtype,
            "amount": amount.astype(str),
            "planned_date": pd.DatetimeIndex(planned).strftime("%Y-%m-%d"),
        }
    )
    keep = np.flatnonzero(billed | (pd.DatetimeIndex(planned) > a - pd.Timedelta(days=30)))
    ms = ms.iloc[keep].reset_index(drop=True)
    b = billed[keep]
    idx = keep[b]
    cust_i = proj_cust[ms_proj[idx]]
    terms = customers["payment_terms_days"].astype(int).to_numpy()[cust_i]
    iss = issue[idx]
    due = iss + pd.to_timedelta(terms, unit="D")
    ct = ctype[cust_i]
    base = np.array([TYPE_LATE[t] for t in ct]) + propensity[cust_i]
    sf_near = np.zeros(len(idx))
    for sf in ("2024-02-10", "2025-01-29", "2026-02-17"):
        sf_near += (np.abs((due - pd.Timestamp(sf)).days) < 20).astype(float)
    disputed = rng.random(len(idx)) < 0.05
    late = base + 6 * (np.log(amount[idx]) - 11) + 15 * sf_near + 25 * disputed + rng.normal(0, 8, len(idx))
    late = np.maximum(late, -terms + 1)
    p_def = np.clip(np.array([TYPE_DEFAULT[t] for t in ct]) * risk[cust_i] * (1 + 2 * disputed), 0, 0.6)
    defaults = rng.random(len(idx)) < p_def
    paid = pd.DatetimeIndex(due) + pd.to_timedelta(np.round(late), unit="D")
    cleared = (~defaults) & (paid <= a - pd.Timedelta(days=15))
    inv_no = [f"INV{i:07d}" for i in range(len(idx))]
    gross = amount[idx]
    invoices = pd.DataFrame(
        {
            "invoice_no": inv_no,
            "invoice_type": "standard",
            "customer_id": customers["customer_id"].to_numpy()[cust_i],
            "project_id": projects["project_id"].to_numpy()[ms_proj[idx]],
            "contract_id": contracts["contract_id"].to_numpy()[ms_proj[idx]],
            "milestone_id": ms["milestone_id"].to_numpy()[b],
            "issue_date": iss.strftime("%Y-%m-%d"),
            "due_date": pd.DatetimeIndex(due).strftime("%Y-%m-%d"),
            "currency": "CNY",
            "gross_amount": gross.astype(str),
            "status": np.where(cleared, "paid", "issued"),
            "cleared_date": np.where(cleared, paid.strftime("%Y-%m-%d"), None),
            "cleared_amount": np.where(cleared, gross.astype(str), None),
        }
    )
    ms.loc[b, "invoice_no"] = inv_no
    # two credit notes: must be left out of the receivables and counted
    cn = invoices.iloc[:2].copy()
    cn["invoice_no"] = ["CN1", "CN2"]
    cn["invoice_type"] = "credit_note"
    cn["gross_amount"] = "-100.00"
    cn["status"] = "issued"
    cn["cleared_date"] = None
    cn["cleared_amount"] = None
    invoices = pd.concat([invoices, cn], ignore_index=True)
    dispute_at = iss[disputed] + pd.Timedelta(days=10)
    events = pd.DataFrame(
        {
            "invoice_no": np.array(inv_no)[disputed],
            "event_type": "disputed",
            "event_at": dispute_at.strftime("%Y-%m-%d 10:00:00"),
        }
    )
    truth = pd.DataFrame(
        {"invoice_no": inv_no, "paid_date": np.where(defaults, pd.NaT, paid), "is_default": defaults}
    )
    return {
        "customers": customers,
        "salespeople": salespeople,
        "projects": projects,
        "contracts": contracts,
        "payment_milestones": ms,
        "invoices": invoices,
        "invoice_events": events,
        "truth": truth,
    }


def write_landing(tables: dict[str, pd.DataFrame], landing) -> None:
    """Write the tables in the generated landing layout (ERP CSVs in UTF-8 with BOM)."""
    from models_ml.data import EXTRACT_FILES

    for name, rel in EXTRACT_FILES.items():
        path = landing / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        enc = "utf-8-sig" if rel.startswith("erp/") else "utf-8"
        tables[name].to_csv(path, index=False, encoding=enc)
