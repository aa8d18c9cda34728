"""Benchmark: load an invoices CSV through `ingest_paths` against DuckDB's bare `read_csv` of the same file.

Writes a canonical invoices CSV of N rows (plus the customers it references), then in the same run
times (a) `ingest_paths` on a fresh warehouse (hash, parse, validate every column, duplicate and
customer checks, insert, registry) and (b) a bare `CREATE TABLE AS SELECT * FROM read_csv(...)`
(DuckDB's own type detection, no validation) into another fresh DuckDB file, plus a bare
`count(*)` scan. The ratio is ingest throughput over the bare CTAS throughput. The loader sets the
CSV reader's scan buffer (`CSV_BUFFER_BYTES`); `ratio_to_read_csv_same_buffer` compares with a
bare CTAS given the same option (a second table in the baseline file, after the first).
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from huikuan.ingest import ingest_paths
from huikuan.ingest.tabular import CSV_BUFFER_BYTES

N_CUSTOMERS = 2000


def write_fixture(invoices: int, workdir: Path) -> tuple[Path, Path]:
    """Customers and invoices in the canonical layout, written by DuckDB (deterministic)."""
    land = workdir / "landing"
    (land / "erp").mkdir(parents=True, exist_ok=True)
    (land / "invoicing").mkdir(parents=True, exist_ok=True)
    customers = land / "erp" / "customers.csv"
    inv = land / "invoicing" / "invoices.csv"
    con = duckdb.connect()
    try:
        con.execute(f"""COPY (SELECT 'C' || lpad(i::VARCHAR, 5, '0') AS customer_id, '客户' || i AS customer_name,
                               'private' AS customer_type, 60 AS payment_terms_days, 'CNY' AS currency
                        FROM range(1, {N_CUSTOMERS + 1}) t(i)) TO '{customers}' (HEADER, DELIMITER ',')""")
        con.execute(f"""COPY (
            SELECT 'INV' || lpad(i::VARCHAR, 9, '0') AS invoice_no,
                   CASE WHEN i % 50 = 0 THEN 'credit_note' ELSE 'standard' END AS invoice_type,
                   'C' || lpad((1 + i % {N_CUSTOMERS})::VARCHAR, 5, '0') AS customer_id,
                   'P' || (i % 5000) AS project_id, 'K' || (i % 7000) AS contract_id, 'M' || i AS milestone_id,
                   (DATE '2023-01-01' + (i % 900)::INT) AS issue_date,
                   (DATE '2023-01-01' + (i % 900)::INT + 60) AS due_date,
                   'CNY' AS currency,
                   round((CASE WHEN i % 50 = 0 THEN -1 ELSE 1 END) * (1000 + (i * 7919) % 900000) / 1.13, 2) AS net_amount,
                   round((CASE WHEN i % 50 = 0 THEN -1 ELSE 1 END) * (1000 + (i * 7919) % 900000) * 0.13 / 1.13, 2) AS tax_amount,
                   (CASE WHEN i % 50 = 0 THEN -1 ELSE 1 END) * (1000 + (i * 7919) % 900000) AS gross_amount,
                   0.13 AS tax_rate,
                   CASE WHEN i % 50 = 0 THEN 'INV' || lpad((i - 1)::VARCHAR, 9, '0') END AS original_invoice_no,
                   'issued' AS status,
                   CASE WHEN i % 3 = 0 THEN DATE '2023-01-01' + (i % 900)::INT + 45 END AS cleared_date,
                   CASE WHEN i % 3 = 0 THEN (1000 + (i * 7919) % 900000) END AS cleared_amount
            FROM range(1, {invoices + 1}) t(i)) TO '{inv}' (HEADER, DELIMITER ',')""")
    finally:
        con.close()
    return customers, inv


def run(invoices: int, workdir: Path) -> dict:
    customers, inv = write_fixture(invoices, workdir)
    wh = workdir / "bench_warehouse.duckdb"
    base_db = workdir / "bench_baseline.duckdb"
    for db in (wh, base_db):  # fresh databases: a run left in the workdir would make the file `unchanged`
        for f in (db, db.with_name(db.name + ".wal")):
            f.unlink(missing_ok=True)
    ingest_paths([customers], wh, landing_root=workdir / "landing")

    t0 = time.perf_counter()
    results = ingest_paths([inv], wh, landing_root=workdir / "landing")
    seconds = time.perf_counter() - t0
    r = results[0]
    if r.status != "loaded" or r.rows_loaded + r.rows_quarantined != invoices:
        raise RuntimeError(f"ingest did not load the benchmark file: {r.to_dict()}")

    con = duckdb.connect(str(base_db))
    try:
        t0 = time.perf_counter()
        con.execute(f"CREATE TABLE invoices AS SELECT * FROM read_csv('{inv}')")
        baseline = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = con.execute(f"SELECT count(*) FROM read_csv('{inv}')").fetchone()[0]
        count_seconds = time.perf_counter() - t0
        # The same, with the scan buffer the loader sets: what DuckDB alone does with that option.
        t0 = time.perf_counter()
        con.execute(
            f"CREATE TABLE invoices_same_buffer AS SELECT * FROM read_csv('{inv}', buffer_size={CSV_BUFFER_BYTES})"
        )
        baseline_same_buffer = time.perf_counter() - t0
    finally:
        con.close()
    assert n == invoices
    return {
        "rows": invoices,
        "rows_loaded": r.rows_loaded,
        "rows_quarantined": r.rows_quarantined,
        "file_mb": round(inv.stat().st_size / 1024 / 1024, 1),
        "seconds": round(seconds, 3),
        "rows_per_second": round(invoices / seconds),
        "rows_per_s": round(invoices / seconds),
        "baseline_seconds": round(baseline, 3),
        "read_csv_rows_per_s": round(invoices / baseline),
        "count_star_seconds": round(count_seconds, 3),
        "ratio_to_bare_read_csv": round(baseline / seconds, 3),
        "ratio_to_read_csv": round(baseline / seconds, 3),
        "baseline": "CREATE TABLE AS SELECT * FROM read_csv(file) into a fresh DuckDB file, same run",
        "baseline_same_buffer_seconds": round(baseline_same_buffer, 3),
        "ratio_to_read_csv_same_buffer": round(baseline_same_buffer / seconds, 3),
    }
