"""Month-end history is frozen once and never recomputed by later builds."""

from datetime import date

import duckdb

from huikuan.history import freeze_month_ends


def _marts(con, open_amount):
    con.execute("CREATE SCHEMA IF NOT EXISTS marts")
    con.execute(
        "CREATE OR REPLACE TABLE marts.ar_aging_monthly AS SELECT * FROM (VALUES "
        "(DATE '2026-04-30', 'INV-1', ?::DECIMAL(18,2)), (DATE '2026-05-31', 'INV-1', ?::DECIMAL(18,2)),"
        "(DATE '2026-06-30', 'INV-1', ?::DECIMAL(18,2))) t(as_of_date, invoice_no, open_amount_rpt)",
        [open_amount] * 3,
    )
    con.execute(
        "CREATE OR REPLACE TABLE marts.kpi_monthly AS SELECT * FROM (VALUES "
        "(DATE '2026-04-30', 40.0), (DATE '2026-05-31', 41.0), (DATE '2026-06-30', ?)) t(month_end, countback_dso)",
        [open_amount / 10],
    )


def test_closed_months_are_frozen_once(tmp_path):
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    _marts(con, 100)
    assert freeze_month_ends(con, date(2026, 6, 15)) == {"ar_aging_month_end": 2, "kpi_month_end": 2}
    # A late posting changes the recomputed marts; frozen months keep what was reported.
    _marts(con, 250)
    assert freeze_month_ends(con, date(2026, 6, 15)) == {"ar_aging_month_end": 0, "kpi_month_end": 0}
    assert con.execute("SELECT sum(open_amount_rpt) FROM history.ar_aging_month_end").fetchone()[0] == 200
    # The next month closes: only June is added, from the data as it stands then.
    assert freeze_month_ends(con, date(2026, 7, 1)) == {"ar_aging_month_end": 1, "kpi_month_end": 1}
    rows = con.execute(
        "SELECT as_of_date, open_amount_rpt FROM history.ar_aging_month_end ORDER BY 1"
    ).fetchall()
    assert [float(r[1]) for r in rows] == [100, 100, 250]


def test_forecast_history_keeps_each_day_once(tmp_path):
    import pandas as pd

    from pipelines.ml.tables import append_forecast_history

    con = duckdb.connect(str(tmp_path / "wh.duckdb"))

    def day(as_of, expected):
        return pd.DataFrame({"granularity": ["week", "week"], "period": [1, 2],
                             "period_start": pd.to_datetime([as_of, as_of]), "expected": [expected, expected],
                             "as_of_date": [date.fromisoformat(as_of)] * 2, "model_version": ["v1", "v1"]})

    append_forecast_history(con, day("2026-06-01", 10.0))
    append_forecast_history(con, day("2026-06-02", 20.0))
    append_forecast_history(con, day("2026-06-02", 30.0))  # a rerun of the same day replaces only that day
    rows = con.execute(
        "SELECT as_of_date, sum(expected) FROM ml.cash_forecast_history GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert rows == [(date(2026, 6, 1), 20.0), (date(2026, 6, 2), 60.0)]
