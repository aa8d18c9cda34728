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


def test_generated_texts_without_invoice_numbers_name_what_is_paid(generated_small):
    """Receipts without an invoice number often name the milestone, project or contract instead, and
    what they name is that of their true invoices (up to the generator's share of wrong words)."""
    from huikuan.ingest.load import ingest_paths
    from huikuan.reconcile.clues import parse_clues
    from huikuan.reconcile.remittance import RefIndex

    wh = generated_small.parent / "clues_warehouse.duckdb"
    if not wh.exists():
        ingest_paths([generated_small / "landing"], wh, landing_root=generated_small / "landing")
    con = duckdb.connect(str(wh), read_only=True)
    inputs = load_inputs(con)
    con.close()
    lines = pd.read_csv(generated_small / "truth" / "bank_lines.csv", dtype=str)
    links = pd.read_csv(generated_small / "truth" / "payment_links.csv", dtype=str)
    items = inputs["open_items"].set_index("invoice_no")
    noref = set(lines.loc[(lines.category == "receivable") & (lines.has_invoice_ref == "false"), "bank_txn_key"])
    bank = inputs["bank"].set_index("bank_txn_key")
    index = RefIndex.build(sorted(set(items.contract_id.dropna())), min_digits=99)
    named = contracts = contracts_right = types = types_right = 0
    for key, g in links[links.bank_txn_key.isin(noref)].groupby("bank_txn_key"):
        clues = parse_clues(bank.loc[key, "remittance_text"], index)
        true = items.loc[[no for no in g.invoice_no if no in items.index]]
        named += not clues.empty
        if clues.contracts:
            contracts += 1
            contracts_right += clues.contracts <= set(true.contract_id)
        if clues.milestone_types and not clues.contracts:
            types += 1
            types_right += clues.milestone_types <= set(true.milestone_type)
    assert len(noref) >= 0.2 * (lines.category == "receivable").sum()  # the required noise stays
    assert 0.35 <= named / len(noref) <= 0.75, named / len(noref)
    assert contracts > 10 and contracts_right == contracts  # contract numbers are the true invoices' own
    assert types > 10 and 0.75 <= types_right / types < 1.0, (types_right, types)


@pytest.mark.slow
def test_a_window_run_keeps_earlier_results_and_matches_the_window_as_well(generated_small, tmp_path):
    """`since`: the last 90 days' receipts are reconciled again; earlier results stand untouched, no
    invoice is paid twice across the two, and the window is matched as well as by a whole-history run."""
    import dataclasses
    from datetime import timedelta

    from huikuan.ingest.load import ingest_paths
    from huikuan.reconcile import reconcile_warehouse
    from tests.conftest import AS_OF

    wh = tmp_path / "warehouse.duckdb"
    ingest_paths([generated_small / "landing"], wh, landing_root=generated_small / "landing")
    full = reconcile_warehouse(wh, write=True)
    since = AS_OF - timedelta(days=90)

    def tables() -> dict[str, pd.DataFrame]:
        with duckdb.connect(str(wh), read_only=True) as con:
            return {t: con.execute(f"SELECT * FROM reconciliation.{t} ORDER BY ALL").df()
                    for t in ("matches", "proposals", "unmatched", "unapplied")}

    def before(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        return {t: df[~df.bank_txn_key.isin(window_keys)].reset_index(drop=True) for t, df in frames.items()}

    with duckdb.connect(str(wh), read_only=True) as con:
        window_lines = con.execute(
            "SELECT bank_txn_key, amount FROM raw.bank_transactions WHERE booking_date >= ?", [since]).df()
        gross = dict(con.execute("SELECT invoice_no, gross_amount FROM raw.invoices").fetchall())
    window_keys = set(window_lines.bank_txn_key)
    assert 0 < len(window_keys) < len(full.unmatched) + full.matches.bank_txn_key.nunique()
    first = tables()
    window = reconcile_warehouse(wh, write=True, since=since)
    second = tables()

    assert set(window.matches.bank_txn_key) | set(window.unmatched.bank_txn_key) == window_keys
    for t in first:  # what earlier runs decided for earlier lines is kept row for row
        pd.testing.assert_frame_equal(before(first)[t], before(second)[t])
    applied = second["matches"].groupby("invoice_no")["applied_amount"].sum()
    over = [no for no, a in applied.items() if gross[no] > 0 and a > gross[no]]
    assert not over, over[:5]

    truth = pd.read_csv(generated_small / "truth" / "payment_links.csv", dtype=str)
    truth = truth[truth.bank_txn_key.isin(window_keys)]
    credits = int((pd.to_numeric(window_lines.amount) > 0).sum())
    in_window = dataclasses.replace(full, matches=full.matches[full.matches.bank_txn_key.isin(window_keys)],
                                    unmatched=full.unmatched[full.unmatched.bank_txn_key.isin(window_keys)])
    s_window, s_full = score(window, truth, credits), score(in_window, truth, credits)
    assert s_window["precision"] >= 0.995, s_window
    assert s_window["payment_match_rate"] >= s_full["payment_match_rate"] - 0.02, (s_window, s_full)

    reconcile_warehouse(wh, write=True, since=since)  # a rerun changes nothing
    for t, df in tables().items():
        pd.testing.assert_frame_equal(df, second[t])


@pytest.mark.slow
def test_a_first_window_run_leaves_earlier_payments_to_the_erp(generated_small, tmp_path):
    """An instance whose first reconciliation covers only the last 90 days: invoices the ERP cleared
    before that window (and after the bank history starts) stay settled in the warehouse."""
    from datetime import timedelta

    from huikuan.dbt import run_dbt
    from huikuan.ingest.load import ingest_paths
    from huikuan.reconcile import reconcile_warehouse
    from tests.conftest import AS_OF

    wh = tmp_path / "warehouse.duckdb"
    ingest_paths([generated_small / "landing"], wh, landing_root=generated_small / "landing")
    since = AS_OF - timedelta(days=90)
    reconcile_warehouse(wh, write=True, since=since)
    run_dbt(["build", "--select", "+fct_invoice", "--resource-type", "model", "--resource-type", "seed"], wh,
            target_path=tmp_path / "target", vars={"as_of_date": AS_OF.isoformat()})
    with duckdb.connect(str(wh), read_only=True) as con:
        cleared_before = con.execute(
            """SELECT i.invoice_no, f.settled_date FROM raw.invoices i JOIN marts.fct_invoice f USING (invoice_no)
               WHERE i.cleared_date >= (SELECT min(booking_date) FROM raw.bank_transactions)
                 AND i.cleared_date < ? AND i.cleared_amount >= i.gross_amount AND i.gross_amount > 0""",
            [since]).df()
    assert len(cleared_before) > 100
    unsettled = cleared_before[cleared_before.settled_date.isna()]
    assert unsettled.empty, unsettled.head()
