"""Generated extracts -> ingestion -> the real dbt build; incremental runs equal a full refresh."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from huikuan.dbt import run_dbt

pytestmark = pytest.mark.slow

INCREMENTAL_MODELS = ("fct_ar_daily",)


@pytest.fixture(scope="module")
def ingested(generated_small, tmp_path_factory) -> Path:
    from huikuan.ingest.load import ingest_paths

    wh = tmp_path_factory.mktemp("generated_wh") / "ingested.duckdb"
    landing = generated_small / "landing"
    results = ingest_paths([landing], wh, landing_root=landing)
    assert results, "ingestion loaded nothing"
    return wh


def _copy(src: Path, dst_dir: Path) -> Path:
    dst_dir.mkdir(parents=True, exist_ok=True)
    dst = dst_dir / "warehouse.duckdb"
    shutil.copyfile(src, dst)
    return dst


def test_full_build_and_incremental_equal_full_refresh(ingested, tmp_path):
    # A: one full build as of 2026-06-30.
    full = _copy(ingested, tmp_path / "full")
    run_dbt(["build", "--quiet"], full, target_path=tmp_path / "t_full", vars={"as_of_date": "2026-06-30"})
    # B: a full build a month earlier, then an incremental build as of 2026-06-30.
    incr = _copy(ingested, tmp_path / "incr")
    run_dbt(["build", "--quiet"], incr, target_path=tmp_path / "t_incr", vars={"as_of_date": "2026-05-31"})
    con = duckdb.connect(str(incr), read_only=True)
    (days_before,) = con.execute("select max(balance_date) from marts.fct_ar_daily").fetchone()
    con.close()
    assert days_before == date(2026, 5, 31)
    run_dbt(["build", "--quiet"], incr, target_path=tmp_path / "t_incr", vars={"as_of_date": "2026-06-30"})

    con = duckdb.connect()
    try:
        con.execute(f"attach '{full}' as full_db (read_only)")
        con.execute(f"attach '{incr}' as incr_db (read_only)")
        for model in INCREMENTAL_MODELS:
            n_full = con.execute(f"select count(*) from full_db.marts.{model}").fetchone()[0]
            assert n_full > 0, model
            for a, b in (("full_db", "incr_db"), ("incr_db", "full_db")):
                diff = con.execute(
                    f"select count(*) from (select * from {a}.marts.{model} except all select * from {b}.marts.{model})"
                ).fetchone()[0]
                assert diff == 0, f"{model}: {diff} rows in {a} not in {b}"

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
