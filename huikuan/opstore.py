"""Operational store: the SQLite (WAL) file where people's actions live — never rebuilt, never overwritten.

The dashboard and the dunning sender write here; the pipeline reads it as a source on its next run.
Rows are append-only: a later row for the same subject supersedes an earlier one (latest wins), so
the history of who decided what, when and why is always kept.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd

SCHEMA = """
CREATE TABLE IF NOT EXISTS reconciliation_decisions (
  decision_id   INTEGER PRIMARY KEY AUTOINCREMENT,
  bank_txn_key  TEXT NOT NULL,
  invoice_no    TEXT,              -- NULL for decisions about the whole line (not_receivable, reject_all)
  amount        NUMERIC,           -- amount applied to invoice_no (confirm / manual); NULL otherwise
  decision      TEXT NOT NULL CHECK (decision IN
                  ('confirm', 'reject', 'manual_match', 'not_receivable', 'write_off')),
  decided_by    TEXT NOT NULL,
  decided_at    TEXT NOT NULL,
  reason        TEXT
);
CREATE INDEX IF NOT EXISTS ix_decisions_txn ON reconciliation_decisions (bank_txn_key);

CREATE TABLE IF NOT EXISTS payer_aliases (
  alias_id             INTEGER PRIMARY KEY AUTOINCREMENT,
  payer_name           TEXT,
  counterparty_account TEXT,
  customer_id          TEXT NOT NULL,
  learned_from         TEXT NOT NULL,   -- e.g. 'decision:<decision_id>' or 'manual'
  created_by           TEXT NOT NULL,
  created_at           TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS promises_to_pay (
  promise_id      INTEGER PRIMARY KEY AUTOINCREMENT,
  invoice_no      TEXT NOT NULL,
  customer_id     TEXT,
  promised_date   TEXT NOT NULL,
  promised_amount NUMERIC,
  note            TEXT,
  recorded_by     TEXT NOT NULL,
  recorded_at     TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS disputes (
  dispute_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  invoice_no  TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
  reason      TEXT,
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS collection_notes (
  note_id     INTEGER PRIMARY KEY AUTOINCREMENT,
  invoice_no  TEXT,
  customer_id TEXT,
  kind        TEXT NOT NULL CHECK (kind IN ('note', 'contact')),
  channel     TEXT,                 -- phone, email, visit, wechat ... for contacts
  text        TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS dunning_log (
  dunning_id  INTEGER PRIMARY KEY AUTOINCREMENT,
  invoice_no  TEXT NOT NULL,
  customer_id TEXT,
  stage       TEXT NOT NULL,
  channel     TEXT NOT NULL,         -- email, dry_run
  recipient   TEXT,
  message_id  TEXT,
  status      TEXT NOT NULL,          -- sent, failed, dry_run
  sent_at     TEXT NOT NULL,
  UNIQUE (invoice_no, stage, channel)
);
"""

TABLES = (
    "reconciliation_decisions",
    "payer_aliases",
    "promises_to_pay",
    "disputes",
    "collection_notes",
    "dunning_log",
)


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (and create if needed) the store; WAL lets the pipeline read while the dashboard writes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA busy_timeout=30000")
    con.executescript(SCHEMA)
    return con


def _insert(path: str | Path, table: str, row: dict) -> int:
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    with closing(connect(path)) as con:
        cur = con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))
        return int(cur.lastrowid)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _required(value, name: str) -> str:
    text = (_text(value) or "").strip()
    if not text:
        raise ValueError(f"{name} is required")
    return text


def record_decision(
    path, *, bank_txn_key: str, decision: str, decided_by: str, invoice_no: str | None = None,
    amount: float | None = None, reason: str | None = None,
) -> int:
    """Record a person's reconciliation decision; it always wins over automatic matching."""
    return _insert(path, "reconciliation_decisions", {
        "bank_txn_key": _required(bank_txn_key, "bank_txn_key"),
        "invoice_no": _text(invoice_no),
        "amount": amount,
        "decision": decision,
        "decided_by": _required(decided_by, "decided_by"),
        "decided_at": now_utc(),
        "reason": _text(reason),
    })


def add_alias(
    path, *, customer_id: str, created_by: str, learned_from: str, payer_name: str | None = None,
    counterparty_account: str | None = None,
) -> int:
    if not (payer_name or counterparty_account):
        raise ValueError("an alias needs a payer name or a counterparty account")
    return _insert(path, "payer_aliases", {
        "payer_name": _text(payer_name),
        "counterparty_account": _text(counterparty_account),
        "customer_id": _required(customer_id, "customer_id"),
        "learned_from": learned_from,
        "created_by": _required(created_by, "created_by"),
        "created_at": now_utc(),
    })


def record_promise(
    path, *, invoice_no: str, promised_date, recorded_by: str, customer_id: str | None = None,
    promised_amount: float | None = None, note: str | None = None,
) -> int:
    return _insert(path, "promises_to_pay", {
        "invoice_no": _required(invoice_no, "invoice_no"),
        "customer_id": _text(customer_id),
        "promised_date": _required(promised_date, "promised_date"),
        "promised_amount": promised_amount,
        "note": _text(note),
        "recorded_by": _required(recorded_by, "recorded_by"),
        "recorded_at": now_utc(),
    })


def record_dispute(
    path, *, invoice_no: str, recorded_by: str, status: str = "open", reason: str | None = None,
) -> int:
    return _insert(path, "disputes", {
        "invoice_no": _required(invoice_no, "invoice_no"),
        "status": status,
        "reason": _text(reason),
        "recorded_by": _required(recorded_by, "recorded_by"),
        "recorded_at": now_utc(),
    })


def record_note(
    path, *, text: str, recorded_by: str, kind: str = "note", invoice_no: str | None = None,
    customer_id: str | None = None, channel: str | None = None,
) -> int:
    if not (invoice_no or customer_id):
        raise ValueError("a note belongs to an invoice or a customer")
    return _insert(path, "collection_notes", {
        "invoice_no": _text(invoice_no),
        "customer_id": _text(customer_id),
        "kind": kind,
        "channel": _text(channel),
        "text": _required(text, "text"),
        "recorded_by": _required(recorded_by, "recorded_by"),
        "recorded_at": now_utc(),
    })


def read_table(path: str | Path, table: str) -> pd.DataFrame:
    """The whole table as a DataFrame (an empty one with the right columns if nothing was recorded)."""
    if table not in TABLES:
        raise ValueError(f"unknown operational table {table!r}; known: {', '.join(TABLES)}")
    with closing(connect(path)) as con:
        return pd.read_sql_query(f"SELECT * FROM {table} ORDER BY 1", con)
