"""The vectorized CSV path: the fast casts agree with the full hk_* parsing, and rows keep file order."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb

from huikuan.ingest import sniff
from huikuan.ingest.load import ingest_file, prepare
from huikuan.ingest.tabular import load_tabular

CUSTOMERS = "customer_id,customer_name,customer_type\nC1,华筑工程,private\nC2,远景科技,private\n"
INV_HEADER = (
    "invoice_no,invoice_type,customer_id,issue_date,due_date,currency,gross_amount,tax_rate,cleared_date\n"
)
# Clean rows mixed with every accepted form and every kind of failure.
INVOICES = INV_HEADER + (
    "I01,standard,C1,2024-03-01,2024-04-30,CNY,1130.00,0.13,\n"
    'I02,standard,C1,2024/3/1,20240430,人民币,"¥1,130.00",0.13,2024-05-01\n'
    "I03,credit_note,C2,01.03.2024,2024-4-30,cny,(130.00),,45413\n"
    "I04,standard, C2 , 2024-03-01 ,2024年4月30日,CNY, 12.5 ,0.130,2024-05-01 10:00:00\n"
    "I05,standard,C1,２０２４-０３-０１,,ＣＮＹ,１，０００．５０,,\n"
    "I06,standard,C1,2024-02-30,,CNY,10,,\n"
    "I07,standard,C1,03/04/2024,,CNY,10,,\n"
    "I08,standard,C1,13/04/2024,2024-13-01,CNY,1.234.5,,\n"
    "I09,proforma,C9,2024-03-01,,XX1,10,abc,\n"
    "I10,standard,,,,CNY,,,\n"
    "I01,standard,C1,2024-03-02,,CNY,11,,\n"
    "I11,standard,C1,2024-03-01,,CNY,10,,,extra\n"
    "I12,standard,C1,0001-01-01,9999-12-31,CNY,-99999999999999.9999,0.1,\n"
    "I13,standard,C1,2024-03-01T00:00:00,2024-03-01 00:00,CNY,+10,.5,\n"
    # Blanks at the edges of texts: tab, ideographic space, a blank-only required value, and a row
    # whose only blank is in a later column (the texts are trimmed per row, all of them).
    "I14,standard,C1\t,2024-03-01,,CNY,10,,\n"
    "I15,standard,\u3000,2024-03-01,,CNY,10,,\n"
    "\u3000I16,Standard ,C2,2024-03-01,,CNY,10,,\n"
    "I17,STANDARD,C1,2024-03-01,,CNY,10,,\n"
    "I18,standard,C1,2024-03-01,,CNY ,10,,\n"
    # An upper-case code the value map rewrites, and one it does not.
    "I19,standard,C1,2024-03-01,,RMB,10,,\n"
    "I20,standard,C1,2024-03-01,,USD,10,,\n"
)
EVENTS = (
    "invoice_no,event_type,event_at,actor\n"
    "I01,issued,2024-03-01 10:00:00,a\n"
    "I02,issued,2024-03-01T10:00:00,b\n"
    "I03,issued,2024-03-01,c\n"
    "I04,issued,2024-03-01 10:00:00.5,d\n"
    "I05,issued,2024-03-01 25:00:00,e\n"
    "I06,issued,,f\n"
)


def _warehouse(tmp_path: Path, name: str):
    land = tmp_path / "landing"
    land.mkdir(exist_ok=True)
    (land / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    con = duckdb.connect(str(tmp_path / f"{name}.duckdb"))
    prepare(con)
    assert ingest_file(con, land / "customers.csv", landing_root=land).status == "loaded"
    return con


def _load(con, path: Path, *, fast: bool):
    facts = sniff.scan(path)
    con.execute("BEGIN TRANSACTION")
    out = load_tabular(
        con,
        facts,
        "text",
        source_file=path.name,
        loaded_at=datetime(2024, 6, 1),
        workdir=path.parent,
        fast=fast,
    )
    con.execute("COMMIT")
    return out


def test_fast_and_full_parsing_give_identical_rows(tmp_path):
    files = {"invoices.csv": INVOICES, "invoice_events.csv": EVENTS}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    fast_con, full_con = _warehouse(tmp_path, "fast"), _warehouse(tmp_path, "full")
    try:
        for name in files:
            a = _load(fast_con, tmp_path / name, fast=True)
            b = _load(full_con, tmp_path / name, fast=False)
            assert (a.rows_in, a.rows_loaded, a.rows_quarantined, a.reasons) == (
                b.rows_in,
                b.rows_loaded,
                b.rows_quarantined,
                b.reasons,
            )
            assert a.rows_in == a.rows_loaded + a.rows_quarantined
        for table in ("invoices", "invoice_events", "quarantine"):
            sql = f"SELECT * FROM raw.{table} ORDER BY ALL"
            fast_rows, full_rows = fast_con.execute(sql).fetchall(), full_con.execute(sql).fetchall()
            assert fast_rows == full_rows, table
        # The mixed file really exercises both outcomes, with exact rows and reasons.
        loaded = fast_con.execute(
            "SELECT invoice_no, source_row FROM raw.invoices ORDER BY source_row"
        ).fetchall()
        assert loaded == [
            ("I01", 1),
            ("I02", 2),
            ("I03", 3),
            ("I04", 4),
            ("I12", 13),
            ("I13", 14),
            ("I14", 15),
            ("I16", 17),
            ("I17", 18),
            ("I18", 19),
            ("I19", 20),
            ("I20", 21),
        ]
        trimmed = fast_con.execute(
            "SELECT customer_id, invoice_type, currency FROM raw.invoices WHERE source_row IN (15, 17, 19)"
            " ORDER BY source_row"
        ).fetchall()
        assert trimmed == [("C1", "standard", "CNY"), ("C2", "standard", "CNY"), ("C1", "standard", "CNY")]
        codes = fast_con.execute(
            "SELECT currency FROM raw.invoices WHERE source_row IN (20, 21) ORDER BY source_row"
        ).fetchall()
        assert codes == [("CNY",), ("USD",)]
        bad = dict(
            fast_con.execute(
                "SELECT source_row, reason FROM raw.quarantine WHERE entity = 'invoices' ORDER BY source_row"
            ).fetchall()
        )
        assert bad[5] == "currency: not an ISO 4217 code"  # full-width letters are not mapped
        assert bad[6] == "issue_date: not a valid calendar date"
        assert bad[7] == "issue_date: ambiguous date (day/month order unknown)"
        assert bad[8] == "due_date: not a valid calendar date; gross_amount: not an amount"
        assert bad[9].startswith("invoice_type: not one of") and "customer_id: unknown customer C9" in bad[9]
        assert bad[10] == (
            "customer_id: required value missing; issue_date: required value missing; "
            "gross_amount: required value missing"
        )
        assert bad[11] == "invoice_no: duplicate key invoice_no=I01 (first at row 1)"
        assert "TOO MANY COLUMNS" in bad[12]
        assert bad[16] == "customer_id: required value missing"
        # The duplicate's source text was not kept in the pass; it is read back for the record.
        record = fast_con.execute(
            "SELECT raw_record, value FROM raw.quarantine WHERE source_row = 11 AND entity = 'invoices'"
        ).fetchone()
        assert '"issue_date":"2024-03-02"' in record[0].replace(" ", "") and record[1] == "I01"
        events = fast_con.execute("SELECT actor, event_at FROM raw.invoice_events ORDER BY actor").fetchall()
        assert [(a, str(t)) for a, t in events] == [
            ("a", "2024-03-01 10:00:00"),
            ("b", "2024-03-01 10:00:00"),
            ("c", "2024-03-01 00:00:00"),
            ("d", "2024-03-01 10:00:00.500000"),
        ]
    finally:
        fast_con.close()
        full_con.close()


def _large_invoices(tmp_path: Path, n: int, customer_sql: str, issue_date_sql: str, broken_at: int) -> Path:
    """A landing folder with the customers and an n-row invoices CSV (row i: invoice I<i>, the last
    one repeating I0000005) with a line the reader refuses inserted as data row `broken_at`."""
    land = tmp_path / "landing"
    land.mkdir()
    (land / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT CASE WHEN i = {n} THEN 'I0000005' ELSE 'I' || lpad(i::VARCHAR, 7, '0') END AS invoice_no,
                         'standard' AS invoice_type, {customer_sql} AS customer_id, {issue_date_sql} AS issue_date,
                         'CNY' AS currency, (i % 1000)::VARCHAR AS gross_amount
                  FROM range(1, {n + 1}) t(i)) TO '{land / "invoices.csv"}' (HEADER)"""
    )
    con.close()
    lines = (land / "invoices.csv").read_text().split("\n")
    lines.insert(broken_at, "broken,line")
    (land / "invoices.csv").write_text("\n".join(lines))
    return land


def test_large_file_keeps_file_order_and_exact_rows(tmp_path):
    # Large enough for the CSV reader to split the file across threads; a rejected line, a bad
    # value and a duplicate sit far into it.
    n = 400_000
    land = _large_invoices(tmp_path, n, "'C1'", "CASE WHEN i = 250000 THEN '2024-02-30' ELSE '2024-03-01' END",
                           broken_at=100_001)  # becomes data row 100001; later rows shift by one
    wh = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        prepare(wh)
        assert ingest_file(wh, land / "customers.csv", landing_root=land).status == "loaded"
        r = ingest_file(wh, land / "invoices.csv", landing_root=land)
        assert (r.rows_loaded, r.rows_quarantined) == (n - 2, 3)
        # The raw insert runs unordered; the connection's own setting is back afterwards.
        assert wh.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (True,)
        shifted = "CASE WHEN source_row > 100001 THEN source_row - 1 ELSE source_row END"
        assert wh.execute(
            f"SELECT count(*) FROM raw.invoices WHERE invoice_no <> 'I' || lpad(({shifted})::VARCHAR, 7, '0')"
        ).fetchone() == (0,)
        q = wh.execute("SELECT source_row, reason FROM raw.quarantine ORDER BY source_row").fetchall()
        assert [row for row, _ in q] == [100_001, 250_001, n + 1]
        assert q[0][1].startswith("line 100002: MISSING COLUMNS")
        assert q[1][1] == "issue_date: not a valid calendar date"
        assert q[2][1] == "invoice_no: duplicate key invoice_no=I0000005 (first at row 5)"
    finally:
        wh.close()


def test_a_file_with_no_flagged_row_is_numbered_by_row_id(tmp_path, monkeypatch):
    # No value needs the full parsing: the unnumbered pass stands and rows get their position from
    # their row ids; a line the reader refuses and a duplicate key are still found and shift rows.
    import huikuan.ingest.tabular as tabular

    numbered = []
    real = tabular._number_by_rowid
    monkeypatch.setattr(tabular, "_number_by_rowid", lambda *a: numbered.append(real(*a)) or numbered[-1])
    n = 400_000
    land = _large_invoices(tmp_path, n, "'C' || (1 + i % 2)::VARCHAR", "'2024-03-01'", broken_at=300_001)
    wh = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        prepare(wh)
        assert ingest_file(wh, land / "customers.csv", landing_root=land).status == "loaded"
        numbered.clear()
        r = ingest_file(wh, land / "invoices.csv", landing_root=land)
        assert numbered == [True]
        assert (r.rows_loaded, r.rows_quarantined) == (n - 1, 2)
        shifted = "CASE WHEN source_row > 300001 THEN source_row - 1 ELSE source_row END"
        assert wh.execute(
            f"SELECT count(*), min(source_row), max(source_row) FROM raw.invoices "
            f"WHERE invoice_no = 'I' || lpad(({shifted})::VARCHAR, 7, '0')"
        ).fetchone() == (n - 1, 1, n)
        q = wh.execute("SELECT source_row, reason FROM raw.quarantine ORDER BY source_row").fetchall()
        assert [row for row, _ in q] == [300_001, n + 1]
        assert q[1][1] == "invoice_no: duplicate key invoice_no=I0000005 (first at row 5)"
    finally:
        wh.close()


def test_failed_raw_insert_rolls_back_and_restores_the_setting(tmp_path):
    # A raw table that refuses every row: the unordered insert fails inside the transaction.
    from huikuan.contracts import raw_table_ddl

    land = tmp_path / "landing"
    land.mkdir()
    (land / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (land / "invoices.csv").write_text(INVOICES, encoding="utf-8")
    wh = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        wh.execute("CREATE SCHEMA raw")
        wh.execute(raw_table_ddl("invoices")[: -len("\n)")] + ",\n  CHECK (gross_amount IS NULL)\n)")
        prepare(wh)
        assert ingest_file(wh, land / "customers.csv", landing_root=land).status == "loaded"
        r = ingest_file(wh, land / "invoices.csv", landing_root=land)
        assert r.status == "rejected"
        # the reason names the real cause, not the aborted transaction it left behind
        assert any("constraint" in reason.lower() for reason in r.reasons), r.reasons
        assert not any("transaction is aborted" in reason.lower() for reason in r.reasons), r.reasons
        assert wh.execute("SELECT current_setting('preserve_insertion_order')").fetchone() == (True,)
        assert wh.execute("SELECT count(*) FROM raw.invoices").fetchone() == (0,)
    finally:
        wh.close()


def test_quoted_line_ends_and_blank_lines_do_not_skip_a_check(tmp_path):
    # More lines than rows (a quoted line end, a blank line at the end): the pass cannot tell from
    # the line count that nothing was flagged, so the flagged rows are looked for again, and found.
    land = tmp_path / "landing"
    land.mkdir()
    (land / "customers.csv").write_text(CUSTOMERS, encoding="utf-8")
    (land / "invoices.csv").write_text(
        INV_HEADER
        + 'I1,standard,C1,2024-03-01,,CNY,10,,\n"I2",standard,C2,2024-03-01,,CNY,"1\n0",,\n'
        + "I3,standard,C1,2024/3/2,,CNY,12,,\nI1,standard,C1,2024-03-01,,CNY,13,,\n\n",
        encoding="utf-8",
    )
    wh = duckdb.connect(str(tmp_path / "wh.duckdb"))
    try:
        prepare(wh)
        assert ingest_file(wh, land / "customers.csv", landing_root=land).status == "loaded"
        r = ingest_file(wh, land / "invoices.csv", landing_root=land)
        assert (r.rows_loaded, r.rows_quarantined) == (2, 2)
        assert wh.execute(
            "SELECT invoice_no, source_row, issue_date::VARCHAR FROM raw.invoices ORDER BY source_row"
        ).fetchall() == [("I1", 1, "2024-03-01"), ("I3", 3, "2024-03-02")]
        assert wh.execute("SELECT source_row, reason FROM raw.quarantine ORDER BY source_row").fetchall() == [
            (2, "gross_amount: not an amount"),
            (4, "invoice_no: duplicate key invoice_no=I1 (first at row 1)"),
        ]
    finally:
        wh.close()
