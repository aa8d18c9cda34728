"""History from contract-shaped tables: what counts as open, paid and written off, and when."""

import pandas as pd

from models_ml.data import history_from_tables
from models_ml.forecast import open_invoices


def _invoices():
    return pd.DataFrame({
        "invoice_no": ["A", "B", "C", "D"],
        "customer_id": ["C1"] * 4,
        "invoice_type": ["standard"] * 4,
        "status": ["issued", "written_off", "written_off", "issued"],
        "issue_date": ["2026-01-05"] * 4,
        "due_date": ["2026-02-04"] * 4,
        "gross_amount": [100.0, 200.0, 300.0, 400.0],
        "cleared_amount": [None, None, None, 400.0],
        "cleared_date": [None, None, None, "2026-02-20"],
    })


def test_written_off_items_leave_the_open_items_from_their_write_off_date():
    events = pd.DataFrame({"invoice_no": ["B"], "event_type": ["written_off"], "event_at": ["2026-05-10 09:00"]})
    load = history_from_tables(_invoices(), events=events, observed_until=pd.Timestamp("2026-06-30"))
    h = load.history.set_index("invoice_no")
    assert h.loc["B", "written_off_date"] == pd.Timestamp("2026-05-10")
    # Written off by status alone: no date is known, so it counts from the extract's date, never earlier.
    assert h.loc["C", "written_off_date"] == pd.Timestamp("2026-06-30")
    assert pd.isna(h.loc["A", "written_off_date"])
    assert set(open_invoices(load.history, pd.Timestamp("2026-03-31"))["invoice_no"]) == {"A", "B", "C"}
    assert set(open_invoices(load.history, pd.Timestamp("2026-05-31"))["invoice_no"]) == {"A", "C"}
    assert set(open_invoices(load.history, pd.Timestamp("2026-06-30"))["invoice_no"]) == {"A"}


def test_payment_plan_carries_the_contract_signing_date():
    from models_ml.data import milestone_plan

    milestones = pd.DataFrame({"milestone_id": ["M1", "M2"], "contract_id": ["K1", "K2"], "amount": ["10", "20"],
                               "planned_date": ["2026-03-01", "2026-09-01"], "invoice_no": [None, None]})
    contracts = pd.DataFrame({"contract_id": ["K1", "K2"], "customer_id": ["C1", "C2"],
                              "signed_date": ["2025-12-01", "2026-07-15"], "payment_terms_days": ["30", "60"]})
    plan = milestone_plan(milestones, _invoices().iloc[:0], contracts, None).set_index("milestone_id")
    assert plan.loc["M1", "signed_date"] == pd.Timestamp("2025-12-01")
    assert plan.loc["M2", "signed_date"] == pd.Timestamp("2026-07-15")
