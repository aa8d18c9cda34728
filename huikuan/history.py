"""Month-end history: freeze aging and KPIs of each closed month once, and never recompute them.

The marts recompute every month-end from today's data (late postings change the past); finance
needs the figures as they were reported. So each month-end that has passed is copied once into
`history.*` inside the warehouse file (dbt never drops tables it does not own) and is never
updated again; a rebuild or a late posting leaves it as it was.
"""

from __future__ import annotations

from datetime import date

# history table → (mart it freezes, the mart's month-end column)
FROZEN = {
    "ar_aging_month_end": ("marts.ar_aging_monthly", "as_of_date"),
    "kpi_month_end": ("marts.kpi_monthly", "month_end"),
}


def freeze_month_ends(con, as_of: date) -> dict[str, int]:
    """Copy month-ends before `as_of` not yet frozen into history.*; returns rows added per table."""
    con.execute("CREATE SCHEMA IF NOT EXISTS history")
    added = {}
    for table, (mart, col) in FROZEN.items():
        con.execute(
            f"CREATE TABLE IF NOT EXISTS history.{table} AS "
            f"SELECT *, current_timestamp::TIMESTAMP AS frozen_at FROM {mart} WHERE false"
        )
        before = con.execute(f"SELECT count(*) FROM history.{table}").fetchone()[0]
        con.execute(
            f"""
            INSERT INTO history.{table}
            SELECT m.*, current_timestamp::TIMESTAMP FROM {mart} m
            WHERE m.{col} < ?
              AND m.{col} NOT IN (SELECT DISTINCT {col} FROM history.{table})
            """,
            [as_of],
        )
        added[table] = con.execute(f"SELECT count(*) FROM history.{table}").fetchone()[0] - before
    return added
