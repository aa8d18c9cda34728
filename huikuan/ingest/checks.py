"""Checks over what ingestion loaded, as pure functions of a DuckDB connection (empty list = pass).

The scheduler runs them as asset checks after each load; each failure is a dict naming the file or
statement and the figures that disagree.
"""

from __future__ import annotations


def check_row_accounting(con) -> list[dict]:
    """Per loaded file: rows in = rows loaded + rows quarantined, and the raw tables hold exactly the
    rows the registry says were loaded and quarantined."""
    rows = con.execute(
        """
        WITH q AS (SELECT file_hash, count(*) AS n FROM raw.quarantine GROUP BY file_hash),
        loaded AS (
            SELECT file_hash, count(*) AS n FROM (
                SELECT file_hash FROM raw.customers UNION ALL SELECT file_hash FROM raw.salespeople
                UNION ALL SELECT file_hash FROM raw.projects UNION ALL SELECT file_hash FROM raw.contracts
                UNION ALL SELECT file_hash FROM raw.payment_milestones UNION ALL SELECT file_hash FROM raw.invoices
                UNION ALL SELECT file_hash FROM raw.invoice_events
                UNION ALL SELECT file_hash FROM raw.bank_transactions) GROUP BY file_hash)
        SELECT r.source_file, r.file_hash, r.rows_in, r.rows_loaded, r.rows_quarantined,
               coalesce(loaded.n, 0) AS rows_in_raw, coalesce(q.n, 0) AS rows_in_quarantine
        FROM raw.file_registry r LEFT JOIN loaded USING (file_hash) LEFT JOIN q USING (file_hash)
        WHERE r.status = 'loaded'
          AND (r.rows_in <> r.rows_loaded + r.rows_quarantined
               OR coalesce(loaded.n, 0) <> r.rows_loaded OR coalesce(q.n, 0) <> r.rows_quarantined)
        ORDER BY r.source_file
        """
    ).fetchall()
    cols = [
        "source_file",
        "file_hash",
        "rows_in",
        "rows_loaded",
        "rows_quarantined",
        "rows_in_raw",
        "rows_in_quarantine",
    ]
    return [dict(zip(cols, r)) for r in rows]


def check_bank_balances(con) -> list[dict]:
    """Per statement with opening and closing balances: opening + loaded entries = closing."""
    rows = con.execute(
        """
        SELECT s.source_file, s.statement_id, s.opening_balance, coalesce(sum(t.amount), 0) AS entries_total,
               s.closing_balance, s.opening_balance + coalesce(sum(t.amount), 0) AS computed_closing
        FROM raw.bank_statements s
        LEFT JOIN raw.bank_transactions t ON t.statement_id = s.statement_id AND t.file_hash = s.file_hash
        WHERE s.opening_balance IS NOT NULL AND s.closing_balance IS NOT NULL
        GROUP BY s.source_file, s.statement_id, s.opening_balance, s.closing_balance
        HAVING s.opening_balance + coalesce(sum(t.amount), 0) <> s.closing_balance
        ORDER BY s.source_file, s.statement_id
        """
    ).fetchall()
    cols = [
        "source_file",
        "statement_id",
        "opening_balance",
        "entries_total",
        "closing_balance",
        "computed_closing",
    ]
    return [dict(zip(cols, r)) for r in rows]


def check_control_totals(con) -> list[dict]:
    """Entry counts and amount totals that disagree with the file's own control totals (camt
    NbOfNtries / TtlNetNtry, BAI2 trailers, bank-export footer sums)."""
    rows = con.execute(
        """
        SELECT c.source_file, c.scope, c.control, c.expected, c.actual
        FROM raw.file_controls c JOIN raw.file_registry r ON r.file_hash = c.file_hash AND r.status = 'loaded'
        WHERE c.control <> 'balance' AND c.ok = false
        ORDER BY c.source_file, c.scope, c.control
        """
    ).fetchall()
    return [dict(zip(["source_file", "scope", "control", "expected", "actual"], r)) for r in rows]
