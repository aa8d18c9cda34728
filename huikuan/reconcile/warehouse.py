"""Warehouse side of reconciliation: read bank lines, open items and decisions; write schema `reconciliation`."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from huikuan import opstore
from huikuan.reconcile.config import ReconcileConfig
from huikuan.reconcile.engine import (
    MATCH_COLUMNS,
    PROPOSAL_COLUMNS,
    UNAPPLIED_COLUMNS,
    UNMATCHED_COLUMNS,
    ReconcileResult,
    reconcile,
)

BANK_COLUMNS = (
    "bank_txn_key", "account_id", "booking_date", "value_date", "amount", "currency", "counterparty_name",
    "counterparty_account", "remittance_text", "end_to_end_id", "structured_reference", "bank_tx_code", "is_reversal",
)

DDL = {
    "matches": """bank_txn_key VARCHAR, invoice_no VARCHAR, customer_id VARCHAR, booking_date DATE,
        applied_amount DECIMAL(18,2), currency VARCHAR, rule VARCHAR, confidence DOUBLE, evidence VARCHAR,
        status VARCHAR, written_off_amount DECIMAL(18,2), write_off_reason VARCHAR""",
    "proposals": """bank_txn_key VARCHAR, invoice_no VARCHAR, customer_id VARCHAR, amount DECIMAL(18,2),
        currency VARCHAR, rule VARCHAR, score DOUBLE, evidence VARCHAR, rank INTEGER""",
    "unmatched": """bank_txn_key VARCHAR, booking_date DATE, amount DECIMAL(18,2), currency VARCHAR,
        counterparty_name VARCHAR, reason VARCHAR, detail VARCHAR, suggestions VARCHAR""",
    "unapplied": """bank_txn_key VARCHAR, customer_id VARCHAR, booking_date DATE, amount DECIMAL(18,2),
        currency VARCHAR, reason VARCHAR""",
}
COLUMNS = {"matches": MATCH_COLUMNS, "proposals": PROPOSAL_COLUMNS, "unmatched": UNMATCHED_COLUMNS,
           "unapplied": UNAPPLIED_COLUMNS}


@contextmanager
def _connection(con_or_path, read_only: bool = False):
    if isinstance(con_or_path, (str, Path)):
        con = duckdb.connect(str(con_or_path), read_only=read_only)
        try:
            yield con
        finally:
            con.close()
    else:
        yield con_or_path


def _table_exists(con, schema: str, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?", [schema, table]
    ).fetchone()[0])


def _bank_source(con) -> str:
    """Bank lines come from staging when it exists (deduplicated, typed), else from raw."""
    if _table_exists(con, "staging", "stg_bank__transactions"):
        return "staging.stg_bank__transactions"
    if _table_exists(con, "raw", "bank_transactions"):
        return "raw.bank_transactions"
    raise ValueError("no bank transactions: neither staging.stg_bank__transactions nor raw.bank_transactions exists")


def load_inputs(con, ops_path=None, since: date | None = None) -> dict[str, pd.DataFrame]:
    """Bank lines, open items, customers, decisions and aliases as the engine takes them.

    Open amounts: an ERP clearing dated before the bank history starts is trusted (those payments are
    not in the bank files); later clearings are the very payments in the bank files, so their invoices
    are offered at their gross amount and the engine applies the bank lines itself.

    `since`: only bank lines booked on or after it. The window's start then plays the part of the
    history's start, and what earlier runs matched before it counts as paid too (an item's earlier
    clearing and earlier bank match are the same payment seen from two sides, so the larger counts);
    items with nothing open are left out.
    """
    source = _bank_source(con)
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema || '.' || table_name = ?", [source]
    ).fetchall()}
    cols = ", ".join(f'"{c}"' if c in have else f'NULL AS "{c}"' for c in BANK_COLUMNS)
    window = "WHERE booking_date >= ?::DATE" if since is not None else ""
    bank = con.execute(f"SELECT {cols} FROM {source} {window} ORDER BY booking_date, bank_txn_key",
                       [since] if since is not None else []).df()
    for t in ("invoices", "customers"):
        if not _table_exists(con, "raw", t):
            raise ValueError(f"raw.{t} does not exist: load the ERP and invoicing extracts first")
    start = since if since is not None else (bank["booking_date"].min() if len(bank) else None)
    inv_cols = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'invoices'"
    ).fetchall()}
    # Contract, project and milestone tell interchangeable items apart from look-alikes and carry the
    # milestone type a remittance text may name (进度款, 验收款 ...); older extracts may lack them.
    links = ", ".join(f"i.{c}" if c in inv_cols else f"NULL AS {c}"
                      for c in ("contract_id", "project_id", "milestone_id"))
    milestones = _table_exists(con, "raw", "payment_milestones") and "milestone_id" in inv_cols
    mtype = "m.milestone_type" if milestones else "NULL AS milestone_type"
    mjoin = ("LEFT JOIN (SELECT milestone_id, any_value(milestone_type) AS milestone_type FROM raw.payment_milestones"
             " GROUP BY milestone_id) m ON m.milestone_id = i.milestone_id") if milestones else ""
    # The project's name: remittance texts name projects (三期道路改造工程进度款), see clues.py.
    projects = _table_exists(con, "raw", "projects") and "project_id" in inv_cols
    pname = "p.project_name" if projects else "NULL AS project_name"
    pjoin = ("LEFT JOIN (SELECT project_id, any_value(project_name) AS project_name FROM raw.projects"
             " GROUP BY project_id) p ON p.project_id = i.project_id") if projects else ""
    cleared = "CASE WHEN i.cleared_date < $start::DATE THEN coalesce(i.cleared_amount, 0) ELSE 0 END"
    params = {"start": start}
    mjoin_before = ""
    if since is not None and _table_exists(con, "reconciliation", "matches"):
        mjoin_before = ("LEFT JOIN (SELECT invoice_no, sum(applied_amount + coalesce(written_off_amount, 0)) AS paid"
                        " FROM reconciliation.matches WHERE booking_date < $start::DATE GROUP BY invoice_no) b"
                        " ON b.invoice_no = i.invoice_no")
        cleared = f"greatest({cleared}, coalesce(b.paid, 0))"
    open_amount = f"i.gross_amount - {cleared}"
    open_items = con.execute(
        f"""
        SELECT i.invoice_no, i.customer_id, upper(i.currency) AS currency, i.issue_date, i.due_date, i.gross_amount,
               i.original_invoice_no, {links}, {mtype}, {pname},
               coalesce(i.cleared_amount, 0) AS cleared_amount, i.cleared_date, {open_amount} AS open_amount
        FROM raw.invoices i {mjoin} {pjoin} {mjoin_before}
        WHERE coalesce(i.status, 'issued') NOT IN ('draft', 'cancelled', 'written_off')
          {"AND " + open_amount + " <> 0" if since is not None else ""}
        ORDER BY i.issue_date, i.invoice_no
        """,
        params,
    ).df()
    customers = con.execute(
        "SELECT customer_id, customer_name, parent_customer_id, tax_id, customer_type FROM raw.customers"
        " ORDER BY customer_id"
    ).df()
    decisions = aliases = None
    if ops_path is not None and Path(ops_path).exists():
        decisions = opstore.read_table(ops_path, "reconciliation_decisions")
        aliases = opstore.read_table(ops_path, "payer_aliases")
    return {"bank": bank, "open_items": open_items, "customers": customers, "decisions": decisions,
            "aliases": aliases, "source": source}


def reconcile_warehouse(con_or_path, ops_path=None, *, config: ReconcileConfig | None = None,
                        write: bool = False, learn: bool = False, since: date | None = None) -> ReconcileResult:
    """Run the engine on the warehouse (and the operational store); optionally write the results.

    `since`: work on the bank lines booked on or after this date only (see `load_inputs`); the results
    for earlier lines stand. With `learn`, payer aliases are first learned from people's confirmed matches, so they apply to
    this very run (`stats["aliases_learned"]` counts them). The inputs are read once either way."""
    from huikuan.reconcile.learning import learn_aliases

    with _connection(con_or_path, read_only=not write) as con:
        inputs = load_inputs(con, ops_path, since)
        learned: list[int] = []
        if learn and ops_path is not None:
            learned = learn_aliases(ops_path, inputs["bank"], inputs["open_items"], inputs["customers"])
            if learned:
                inputs["aliases"] = opstore.read_table(ops_path, "payer_aliases")
        result = reconcile(inputs["bank"], inputs["open_items"], inputs["customers"], inputs["decisions"],
                           inputs["aliases"], config=config)
        result.stats["bank_source"] = inputs["source"]
        result.stats["aliases_learned"] = len(learned)
        if write:
            write_results(con, result, since)
    return result


def _record_coverage(con, since: date | None) -> None:
    """Keep `reconciliation.coverage.covered_from`: the first booking date of the bank lines the
    engine has reconciled (NULL: from the start of the bank history). The warehouse counts ERP
    clearings dated before it, since the engine never saw those payments' bank lines. A window run
    widens it to its window start; results written before this record existed were whole-history.
    Runs before the results are replaced."""
    row = None
    if _table_exists(con, "reconciliation", "coverage"):
        row = con.execute("SELECT covered_from FROM reconciliation.coverage").fetchone()
    else:
        con.execute("CREATE TABLE reconciliation.coverage (covered_from DATE, updated_at TIMESTAMP)")
    if row is None:
        earlier = _table_exists(con, "reconciliation", "matches") and con.execute(
            "SELECT count(*) > 0 FROM (SELECT 1 FROM reconciliation.matches LIMIT 1)").fetchone()[0]
        row = (None,) if earlier else (since,)
    covered = None if since is None or row[0] is None else min(row[0], since)
    con.execute("DELETE FROM reconciliation.coverage")
    con.execute("INSERT INTO reconciliation.coverage VALUES (?, now())", [covered])


def write_results(con_or_path, result: ReconcileResult, since: date | None = None) -> None:
    """Replace schema `reconciliation` tables with this result (delete-then-insert: reruns are idempotent).

    With `since`, only the rows of bank lines booked on or after it are replaced."""
    with _connection(con_or_path) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS reconciliation")
        window, params = "", []
        if since is not None:
            window = (f"WHERE bank_txn_key IN (SELECT bank_txn_key FROM {_bank_source(con)}"
                      " WHERE booking_date >= ?::DATE)")
            params = [since]
        con.execute("BEGIN TRANSACTION")
        try:
            _record_coverage(con, since)
            for table, ddl in DDL.items():
                con.execute(f"CREATE TABLE IF NOT EXISTS reconciliation.{table} ({ddl})")
                con.execute(f"DELETE FROM reconciliation.{table} {window}", params)
                df = getattr(result, table)[COLUMNS[table]]
                if len(df):
                    con.register("_reconcile_rows", df)
                    cols = ", ".join(f'"{c}"' for c in COLUMNS[table])
                    con.execute(f"INSERT INTO reconciliation.{table} ({cols}) SELECT {cols} FROM _reconcile_rows")
                    con.unregister("_reconcile_rows")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
