"""Warehouse round trip on a real DuckDB file and a real operational store: read, reconcile, write, learn."""

from __future__ import annotations

import argparse
from datetime import date

import duckdb
import pandas as pd

from huikuan import opstore
from huikuan.contracts import create_raw_tables
from huikuan.reconcile import learn_aliases, load_inputs, reconcile_warehouse, write_results


def _insert(con, table: str, rows: list[dict]) -> None:
    df = pd.DataFrame(rows)
    con.register("_rows", df)
    cols = ", ".join(f'"{c}"' for c in df.columns)
    con.execute(f"INSERT INTO raw.{table} ({cols}) SELECT {cols} FROM _rows")
    con.unregister("_rows")


def make_warehouse(path):
    con = duckdb.connect(str(path))
    create_raw_tables(con)
    _insert(con, "customers", [
        {"customer_id": "C1", "customer_name": "北京华建工程有限公司"},
        {"customer_id": "C2", "customer_name": "上海申通物流有限公司"},
    ])
    _insert(con, "invoices", [
        # paid long before the bank history starts, cleared in the ERP: not a candidate any more
        {"invoice_no": "INV-2025-0000001", "customer_id": "C1", "currency": "CNY", "issue_date": date(2025, 3, 1),
             "gross_amount": 8000.0, "cleared_amount": 8000.0, "cleared_date": date(2025, 4, 1), "status": "paid"},
        {"invoice_no": "INV-2026-0000010", "customer_id": "C1", "currency": "CNY", "issue_date": date(2026, 1, 5),
             "gross_amount": 10000.0, "status": "issued"},
        # cleared by the ERP from a payment that is in the bank file: offered at its gross amount
        {"invoice_no": "INV-2026-0000011", "customer_id": "C2", "currency": "CNY", "issue_date": date(2026, 1, 6),
             "gross_amount": 4321.0, "cleared_amount": 4321.0, "cleared_date": date(2026, 2, 3), "status": "paid"},
        {"invoice_no": "INV-2026-0000012", "customer_id": "C2", "currency": "CNY", "issue_date": date(2026, 1, 7),
             "gross_amount": 999.0, "status": "cancelled"},
    ])
    _insert(con, "bank_transactions", [
        {"bank_txn_key": "K1", "booking_date": date(2026, 2, 1), "amount": 10000.0, "currency": "CNY",
             "counterparty_name": "北京华建工程有限公司", "remittance_text": "付INV-2026-0000010", "is_reversal": False},
        {"bank_txn_key": "K2", "booking_date": date(2026, 2, 3), "amount": 4321.0, "currency": "CNY",
             "counterparty_name": "申通物流", "counterparty_account": "6222-0001", "remittance_text": "货款",
             "is_reversal": False},
        {"bank_txn_key": "K3", "booking_date": date(2026, 2, 4), "amount": 8000.0, "currency": "CNY",
             "counterparty_name": "某未知单位", "is_reversal": False},
        {"bank_txn_key": "K4", "booking_date": date(2026, 2, 5), "amount": -50.0, "currency": "CNY", "is_reversal": False},
    ])
    return con


def test_reconcile_warehouse_reads_raw_and_writes_idempotently(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    make_warehouse(wh).close()
    ops = tmp_path / "ops.sqlite"
    r1 = reconcile_warehouse(wh, ops, write=True)
    assert r1.stats["bank_source"] == "raw.bank_transactions"
    assert sorted(zip(r1.matches.bank_txn_key, r1.matches.invoice_no)) == [
        ("K1", "INV-2026-0000010"), ("K2", "INV-2026-0000011")]
    assert dict(zip(r1.unmatched.bank_txn_key, r1.unmatched.reason)) == {"K3": "no_candidate", "K4": "debit"}
    reconcile_warehouse(wh, ops, write=True)  # a rerun replaces, never duplicates
    con = duckdb.connect(str(wh), read_only=True)
    counts = {t: con.execute(f"SELECT count(*) FROM reconciliation.{t}").fetchone()[0]
              for t in ("matches", "proposals", "unmatched", "unapplied")}
    conf = con.execute("SELECT min(confidence) FROM reconciliation.matches").fetchone()[0]
    con.close()
    assert counts == {"matches": 2, "proposals": 0, "unmatched": 2, "unapplied": 0}
    assert conf >= 0.9


def test_staging_is_preferred_when_it_exists(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    con = make_warehouse(wh)
    con.execute("CREATE SCHEMA staging")
    con.execute("CREATE TABLE staging.stg_bank__transactions AS SELECT * FROM raw.bank_transactions WHERE bank_txn_key = 'K1'")
    inputs = load_inputs(con)
    con.close()
    assert inputs["source"] == "staging.stg_bank__transactions"
    assert inputs["bank"].bank_txn_key.tolist() == ["K1"]
    assert "INV-2025-0000001" not in set(inputs["open_items"].query("open_amount > 0").invoice_no)
    assert "INV-2026-0000012" not in set(inputs["open_items"].invoice_no)


def test_people_decide_and_teach_aliases(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    make_warehouse(wh).close()
    ops = tmp_path / "ops.sqlite"
    # A person applies the unknown payer's receipt by hand and rejects the automatic match of K1.
    opstore.record_decision(ops, bank_txn_key="K3", invoice_no="INV-2026-0000010", amount=8000.0,
                            decision="manual_match", decided_by="li")
    opstore.record_decision(ops, bank_txn_key="K1", invoice_no="INV-2026-0000010", decision="reject",
                            decided_by="li", reason="paid by another line")
    r = reconcile_warehouse(wh, ops)
    manual = r.matches[r.matches.status == "manual"]
    assert list(zip(manual.bank_txn_key, manual.invoice_no, manual.applied_amount)) == [
        ("K3", "INV-2026-0000010", 8000.0)]
    assert "K1" not in set(r.matches.bank_txn_key)
    assert not ((r.proposals.bank_txn_key == "K1") & (r.proposals.invoice_no == "INV-2026-0000010")).any()

    con = duckdb.connect(str(wh), read_only=True)
    inputs = load_inputs(con, ops)
    con.close()
    added = learn_aliases(ops, inputs["bank"], inputs["open_items"], inputs["customers"])
    aliases = opstore.read_table(ops, "payer_aliases")
    assert len(added) == 1 and aliases.payer_name.tolist() == ["某未知单位"]
    assert aliases.customer_id.tolist() == ["C1"] and aliases.learned_from.iloc[0].startswith("decision:")
    assert learn_aliases(ops, inputs["bank"], inputs["open_items"], inputs["customers"]) == []  # learned once

    # The learned alias now identifies that payer on a new line, automatically.
    con = duckdb.connect(str(wh))
    _insert(con, "bank_transactions", [{"bank_txn_key": "K5", "booking_date": date(2026, 2, 9), "amount": 2000.0,
                                            "currency": "CNY", "counterparty_name": "某未知单位", "is_reversal": False}])
    con.close()
    r = reconcile_warehouse(wh, ops)
    k5 = r.matches[r.matches.bank_txn_key == "K5"]
    assert k5.invoice_no.tolist() == ["INV-2026-0000010"] and k5.rule.iloc[0] == "payer_exact"  # 10000 - 8000 left open


def test_learn_applies_new_aliases_in_the_same_run(tmp_path):
    wh = tmp_path / "warehouse.duckdb"
    con = make_warehouse(wh)
    _insert(con, "bank_transactions", [{"bank_txn_key": "K5", "booking_date": date(2026, 2, 9), "amount": 2000.0,
                                            "currency": "CNY", "counterparty_name": "某未知单位", "is_reversal": False}])
    con.close()
    ops = tmp_path / "ops.sqlite"
    opstore.record_decision(ops, bank_txn_key="K3", invoice_no="INV-2026-0000010", amount=8000.0,
                            decision="manual_match", decided_by="li")
    opstore.record_decision(ops, bank_txn_key="K1", invoice_no="INV-2026-0000010", decision="reject",
                            decided_by="li", reason="paid by another line")
    without = reconcile_warehouse(wh, ops)  # no alias yet: the unknown payer's second receipt stays open
    assert "K5" not in set(without.matches.bank_txn_key) and without.stats["aliases_learned"] == 0
    r = reconcile_warehouse(wh, ops, learn=True)
    assert r.stats["aliases_learned"] == 1
    k5 = r.matches[r.matches.bank_txn_key == "K5"]
    assert k5.invoice_no.tolist() == ["INV-2026-0000010"] and k5.rule.iloc[0] == "payer_exact"
    assert reconcile_warehouse(wh, ops, learn=True).stats["aliases_learned"] == 0  # learned once


def test_cli_prints_the_summary(home, capsys):
    from huikuan.reconcile import cli
    from huikuan.settings import load_settings

    s = load_settings().ensure_dirs()
    make_warehouse(s.warehouse_path).close()
    assert cli.run(argparse.Namespace(dry_run=False, learn=True, threshold=None, json=False)) == 0
    out = capsys.readouterr().out
    assert "applied automatically" in out and "learned 0 payer aliases" in out
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    assert con.execute("SELECT count(*) FROM reconciliation.matches").fetchone()[0] == 2
    con.close()


def test_write_results_accepts_a_connection(tmp_path):
    wh = tmp_path / "w.duckdb"
    con = make_warehouse(wh)
    result = reconcile_warehouse(con)
    write_results(con, result)
    write_results(con, result)
    assert con.execute("SELECT count(*) FROM reconciliation.unmatched").fetchone()[0] == len(result.unmatched)
    con.close()


def test_open_items_carry_contract_and_milestone_type(tmp_path):
    con = make_warehouse(tmp_path / "w.duckdb")
    con.execute("UPDATE raw.invoices SET contract_id = 'HT1', project_id = 'P1', milestone_id = 'HT1-M02'"
                " WHERE invoice_no = 'INV-2026-0000010'")
    _insert(con, "payment_milestones", [
        {"milestone_id": "HT1-M02", "contract_id": "HT1", "seq": 2, "milestone_type": "progress",
         "invoice_no": "INV-2026-0000010"},
    ])
    items = load_inputs(con)["open_items"].set_index("invoice_no")
    con.close()
    assert items.loc["INV-2026-0000010", ["contract_id", "project_id", "milestone_type"]].tolist() == [
        "HT1", "P1", "progress"]
    # An invoice without a milestone keeps its row, with no type.
    assert pd.isna(items.loc["INV-2026-0000011", "milestone_type"])
    assert pd.isna(items.loc["INV-2026-0000011", "contract_id"])


def test_reconcile_days_sets_the_window(tmp_path, monkeypatch):
    from huikuan.settings import load_settings

    monkeypatch.setenv("HUIKUAN_AS_OF_DATE", "2026-06-30")
    assert load_settings(tmp_path).reconcile_since is None
    monkeypatch.setenv("HUIKUAN_RECONCILE_DAYS", "90")
    assert load_settings(tmp_path).reconcile_since == date(2026, 4, 1)


def test_coverage_records_the_first_day_reconciled(tmp_path):
    """`reconciliation.coverage`: a window run on a fresh warehouse covers from its window start, an
    earlier window widens it, a later one keeps it, a whole-history run covers everything; results
    written before the record existed count as whole-history."""
    def covered(wh):
        with duckdb.connect(str(wh), read_only=True) as con:
            return con.execute("SELECT covered_from FROM reconciliation.coverage").fetchall()

    wh = tmp_path / "w.duckdb"
    make_warehouse(wh)
    reconcile_warehouse(wh, write=True, since=date(2026, 2, 1))
    assert covered(wh) == [(date(2026, 2, 1),)]
    reconcile_warehouse(wh, write=True, since=date(2026, 1, 15))
    assert covered(wh) == [(date(2026, 1, 15),)]
    reconcile_warehouse(wh, write=True, since=date(2026, 3, 1))
    assert covered(wh) == [(date(2026, 1, 15),)]
    reconcile_warehouse(wh, write=True)
    assert covered(wh) == [(None,)]
    reconcile_warehouse(wh, write=True, since=date(2026, 3, 1))
    assert covered(wh) == [(None,)]

    legacy = tmp_path / "legacy.duckdb"
    make_warehouse(legacy)
    reconcile_warehouse(legacy, write=True)
    with duckdb.connect(str(legacy)) as con:
        con.execute("DROP TABLE reconciliation.coverage")
        assert con.execute("SELECT count(*) FROM reconciliation.matches").fetchone()[0] > 0
    reconcile_warehouse(legacy, write=True, since=date(2026, 3, 1))
    assert covered(legacy) == [(None,)]
