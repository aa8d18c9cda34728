"""Generated extracts -> ingestion -> the real dbt build; incremental runs equal a full refresh."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from bench.warehouse import deliver_held_back, hold_back_last_day, ledger_reopened_from
from huikuan.dbt import run_dbt

pytestmark = pytest.mark.slow

# Every incremental model (schema.table).
INCREMENTAL_MODELS = (
    "staging.stg_invoicing__invoices",
    "staging.stg_invoicing__invoice_events",
    "staging.stg_erp__payment_milestones",
    "staging.stg_erp__contracts",
    "staging.stg_erp__projects",
    "staging.stg_bank__transactions",
    "marts.fct_ar_daily",
    "marts.ar_aging_monthly",
    "intermediate.int_kpi_monthly_inputs",
    "marts.kpi_monthly",
)


@pytest.fixture(scope="module")
def ingested(generated_small, tmp_path_factory) -> Path:
    from huikuan.ingest.load import ingest_paths

    wh = tmp_path_factory.mktemp("generated_wh") / "ingested.duckdb"
    landing = generated_small / "landing"
    results = ingest_paths([landing], wh, landing_root=landing)
    assert results, "ingestion loaded nothing"
    return wh


def _load_late_payment(warehouse: Path) -> str:
    """Load a payment today for an invoice issued more than a year before: a new register version
    with the ERP clearing half of it on a date long before the previous build's as-of date."""
    con = duckdb.connect(str(warehouse))
    try:
        (invoice_no,) = con.execute(
            """select invoice_no from raw.invoices
               where cleared_date is null and gross_amount > 0 and issue_date < date '2025-06-01'
                   and coalesce(status, 'issued') not in ('cancelled', 'written_off', 'draft')
               order by invoice_no limit 1"""
        ).fetchone()
        con.execute(
            """insert into raw.invoices
               select * replace (round(gross_amount / 2, 2) as cleared_amount, date '2025-09-15' as cleared_date,
                   loaded_at + interval 1 day as loaded_at, 'late_extract.csv' as source_file)
               from raw.invoices where invoice_no = ?""",
            [invoice_no],
        )
    finally:
        con.close()
    return invoice_no


def _resubmit_bank_file(warehouse: Path) -> None:
    """A corrected resubmission of one bank file (huikuan.ingest.load supersedes the old file): its
    rows are deleted and the new file brings them back, all but its last line, as a newer load."""
    con = duckdb.connect(str(warehouse))
    try:
        (old_hash,) = con.execute(
            "select file_hash from raw.bank_transactions group by 1 having count(*) > 3 order by 1 limit 1"
        ).fetchone()
        con.execute("create temp table resubmitted as select * from raw.bank_transactions where file_hash = ?",
                    [old_hash])
        con.execute("delete from raw.bank_transactions where file_hash = ?", [old_hash])
        con.execute(
            """insert into raw.bank_transactions
               select * replace ('resubmitted' as file_hash, loaded_at + interval 1 day as loaded_at)
               from resubmitted
               where source_row < (select max(source_row) from resubmitted)"""
        )
    finally:
        con.close()


def _first_invoice_of_new_customer(warehouse: Path) -> str:
    """A customer of the master data without any invoice gets its first one on the as-of date (a copy
    of one of that day's invoices): its KPI rows start that month, nothing earlier changes."""
    con = duckdb.connect(str(warehouse))
    try:
        (customer_id,) = con.execute(
            """select customer_id from raw.customers
               where customer_id not in (select customer_id from raw.invoices where customer_id is not null)
               order by customer_id limit 1"""
        ).fetchone()
        con.execute(
            """insert into raw.invoices
               select * replace ('NEWCUST-' || invoice_no as invoice_no, ? as customer_id,
                   null as cleared_amount, null as cleared_date, 'issued' as status)
               from raw.invoices
               where issue_date = date '2026-06-30' and invoice_type = 'standard'
               order by invoice_no limit 1""",
            [customer_id],
        )
    finally:
        con.close()
    return customer_id


def _copy(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / "warehouse.duckdb"
    shutil.copyfile(src, dst)
    return dst


def test_full_build_and_incremental_equal_full_refresh(ingested, tmp_path):
    # The last day's rows (new invoices, events, bank lines, ERP clearings as new register
    # versions), a payment for an old invoice and a corrected bank file arrive after B's first build.
    def arrivals(warehouse: Path) -> str:
        deliver_held_back(warehouse)
        _resubmit_bank_file(warehouse)
        _first_invoice_of_new_customer(warehouse)
        return _load_late_payment(warehouse)

    # A: one full build as of 2026-06-30 on everything.
    full = _copy(ingested, tmp_path / "full")
    held_back = hold_back_last_day(full, date(2026, 6, 30))
    assert held_back["invoices"] > 0 and held_back["invoice_events"] > 0, held_back
    late_invoice = arrivals(full)
    run_dbt(["build", "--quiet"], full, target_path=tmp_path / "t_full", vars={"as_of_date": "2026-06-30"})
    # B: a full build a month earlier without the arrivals, then an incremental build as of 2026-06-30.
    incr = _copy(ingested, tmp_path / "incr")
    assert hold_back_last_day(incr, date(2026, 6, 30)) == held_back
    run_dbt(["build", "--quiet"], incr, target_path=tmp_path / "t_incr", vars={"as_of_date": "2026-05-31"})
    con = duckdb.connect(str(incr), read_only=True)
    (days_before,) = con.execute("select max(balance_date) from marts.fct_ar_daily").fetchone()
    con.close()
    assert days_before == date(2026, 5, 31)
    # The late payment arrives after B's first build: history from 2025-09-15 on must change.
    assert arrivals(incr) == late_invoice
    log = tmp_path / "t_incr" / "logs" / "dbt.log"
    log.unlink()
    run_dbt(["build", "--quiet"], incr, target_path=tmp_path / "t_incr", vars={"as_of_date": "2026-06-30"})
    # Each ledger mart recomputed from the late payment's date, the earliest change, and kept the
    # periods before it: the new customer's first invoice did not reopen history.
    assert ledger_reopened_from(log) == {
        name: "2025-09-15"
        for name in ("fct_ar_daily", "ar_aging_monthly", "int_kpi_monthly_inputs", "kpi_monthly")
    }

    con = duckdb.connect()
    try:
        con.execute(f"attach '{full}' as full_db (read_only)")
        con.execute(f"attach '{incr}' as incr_db (read_only)")
        for model in INCREMENTAL_MODELS:
            n_full = con.execute(f"select count(*) from full_db.{model}").fetchone()[0]
            assert n_full > 0, model
            for a, b in (("full_db", "incr_db"), ("incr_db", "full_db")):
                diff = con.execute(
                    f"select count(*) from (select * from {a}.{model} except all select * from {b}.{model})"
                ).fetchone()[0]
                assert diff == 0, f"{model}: {diff} rows in {a} not in {b}"
        # The late payment did move history: the month-end before it still shows the invoice in full,
        # the month-ends after it half paid.
        open_at = dict(
            con.execute(
                """select as_of_date, open_amount from incr_db.marts.ar_aging_monthly
                   where invoice_no = ? and as_of_date in (date '2025-08-31', date '2025-09-30')""",
                [late_invoice],
            ).fetchall()
        )
        assert open_at[date(2025, 9, 30)] < open_at[date(2025, 8, 31)], open_at

        # Three independent paths agree on open AR per currency at the as-of date.
        aging = dict(
            con.execute(
                "select currency, sum(open_amount) from full_db.marts.ar_aging where basis = 'due_date' group by 1"
            ).fetchall()
        )
        daily = dict(
            con.execute(
                "select currency, sum(open_amount) from full_db.marts.fct_ar_daily"
                " where balance_date = date '2026-06-30' group by 1"
            ).fetchall()
        )
        month_end = dict(
            con.execute(
                "select currency, sum(open_amount) from full_db.marts.ar_aging_monthly"
                " where as_of_date = date '2026-06-30' group by 1"
            ).fetchall()
        )
        assert aging and aging == daily == month_end

        # Every invoice of the register is in fct_invoice exactly once.
        n_raw = con.execute("select count(distinct invoice_no) from full_db.raw.invoices").fetchone()[0]
        n_fct = con.execute("select count(*) from full_db.marts.fct_invoice").fetchone()[0]
        assert n_raw == n_fct > 500
        # Credit notes with an original never appear as their own aging line.
        stray = con.execute(
            """select count(*) from full_db.marts.ar_aging a
               join full_db.marts.fct_invoice f using (invoice_no)
               where f.status = 'applied_to_original'"""
        ).fetchone()[0]
        assert stray == 0
    finally:
        con.close()


def test_a_ledger_state_saved_in_the_older_form_recomputes_everything(ingested, tmp_path):
    # A warehouse built before fingerprints were kept per kind of fact has copies without
    # state_kind: the next incremental build recomputes each ledger mart in full, to the same rows.
    wh = _copy(ingested, tmp_path / "wh")
    target = tmp_path / "t"
    run_dbt(["build", "--quiet"], wh, target_path=target, vars={"as_of_date": "2026-06-30"})
    marts = ("fct_ar_daily", "ar_aging_monthly", "int_kpi_monthly_inputs", "kpi_monthly")
    con = duckdb.connect(str(wh))
    try:
        before = {m: con.execute(f"select * from {_schema(m)}.{m} order by all").fetchall() for m in marts}
        for m in marts:
            con.execute(f"""create or replace table intermediate.{m}__ledger_state as
                            select state_date, sum(facts) as facts, sum(fingerprint) as fingerprint
                            from intermediate.{m}__ledger_state group by state_date""")
    finally:
        con.close()
    log = target / "logs" / "dbt.log"
    log.unlink()
    run_dbt(["build", "--quiet"], wh, target_path=target, vars={"as_of_date": "2026-06-30"})
    assert ledger_reopened_from(log) == {m: "everything" for m in marts}
    con = duckdb.connect(str(wh), read_only=True)
    try:
        for m in marts:
            assert con.execute(f"select * from {_schema(m)}.{m} order by all").fetchall() == before[m], m
            columns = [r[0] for r in con.execute(f"describe intermediate.{m}__ledger_state").fetchall()]
            assert "state_kind" in columns, m
    finally:
        con.close()


def _schema(model: str) -> str:
    return "intermediate" if model.startswith("int_") else "marts"
