"""End to end on generated data: ingest the landing files, reconcile, score against the generator's truth."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from huikuan.reconcile import load_inputs, reconcile, write_results
from huikuan.reconcile.scoring import score, score_interchangeable


@pytest.mark.slow
def test_generated_data_meets_precision_and_match_rate(generated_small, tmp_path):
    from huikuan.ingest.load import ingest_paths

    wh = tmp_path / "warehouse.duckdb"
    results = ingest_paths([generated_small / "landing"], wh, landing_root=generated_small / "landing")
    assert not [r.file for r in results if r.status == "rejected"]
    con = duckdb.connect(str(wh))
    inputs = load_inputs(con)
    result = reconcile(inputs["bank"], inputs["open_items"], inputs["customers"])
    write_results(con, result)
    written = con.execute("SELECT count(*) FROM reconciliation.matches").fetchone()[0]
    con.close()
    truth = pd.read_csv(generated_small / "truth" / "payment_links.csv", dtype=str)
    lines = pd.read_csv(generated_small / "truth" / "bank_lines.csv", dtype=str)
    credits = int((pd.to_numeric(inputs["bank"]["amount"]) > 0).sum())
    s = score(result, truth, credits)
    print(s)
    assert written == len(result.matches)
    assert s["precision"] >= 0.995, s
    assert s["payment_match_rate"] >= 0.9, s
    assert s["invoice_match_rate"] >= 0.88, s
    # Counting interchangeable twins as right can only add right links, never lose one.
    twins = score_interchangeable(result, truth, inputs["open_items"], credits)
    assert inputs["open_items"]["contract_id"].notna().all()
    assert twins["auto_links"] == s["auto_links"] and twins["wrong_auto_links"] <= s["wrong_auto_links"]
    assert twins["invoice_match_rate"] >= s["invoice_match_rate"]
    # Every bank line is accounted for, and no non-receivable credit is applied to an invoice.
    assert set(result.matches.bank_txn_key) | set(result.unmatched.bank_txn_key) == set(inputs["bank"].bank_txn_key)
    non_receivable = set(lines.loc[lines.category == "non_receivable", "bank_txn_key"])
    assert not non_receivable & set(result.matches.loc[result.matches.status == "auto", "bank_txn_key"])
