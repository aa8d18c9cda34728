"""Build the real dbt project on a hand-made raw warehouse and check the figures worked out by hand."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt_fixtures import AS_OF, INVOICES, write_fixture_warehouse

from huikuan.dbt import DBT_PROFILES_DIR, DBT_PROJECT_DIR, DbtRunError, dbt_env, run_dbt

pytestmark = pytest.mark.slow


def _build(tmp: Path, as_of: str, select: list[str] | None = None) -> Path:
    wh = write_fixture_warehouse(tmp / "warehouse.duckdb")
    args = ["build", "--quiet"] + (
        ["--select", *select, "--indirect-selection", "cautious"] if select else []
    )
    run_dbt(args, wh, target_path=tmp / "target", vars={"as_of_date": as_of})
    return wh


def _query(wh: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(wh), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return _build(tmp_path_factory.mktemp("dbt_as_of_0630"), AS_OF.isoformat())


def test_dbt_env_points_at_project_and_warehouse(tmp_path):
    env = dbt_env(tmp_path / "w.duckdb")
    assert env["HUIKUAN_WAREHOUSE"] == str((tmp_path / "w.duckdb").resolve())
    assert env["DO_NOT_TRACK"] == "1"
    assert env["DBT_PROFILES_DIR"] == str(DBT_PROFILES_DIR) == str(DBT_PROJECT_DIR)
    with pytest.raises(ValueError, match="unknown dbt target"):
        dbt_env(tmp_path / "w.duckdb", target="oracle")


def test_open_ar_by_customer_and_total(warehouse):
    rows = dict(
        _query(
            warehouse,
            "select customer_id, sum(open_amount_rpt) from marts.ar_aging where basis = 'due_date' group by 1",
        )
    )
    # C001: INV-002 30,000 + INV-003 30,000 + INV-004 25,000; C002: USD 10,000 at 7.0850;
    # C003: INV-009 200,000 less the unapplied credit note CN-002 3,000.
    assert rows == {"C001": Decimal("85000.00"), "C002": Decimal("70850.00"), "C003": Decimal("197000.00")}
    (total,) = _query(warehouse, "select sum(open_amount_rpt) from marts.fct_invoice where is_in_ar")[0]
    assert total == Decimal("352850.00")


def test_aging_buckets_due_date_basis(warehouse):
    rows = _query(
        warehouse,
        """select bucket_key, sum(open_amount_rpt), list(invoice_no order by invoice_no)
           from marts.ar_aging where basis = 'due_date' group by 1""",
    )
    got = {k: (v, names) for k, v, names in rows}
    assert got == {
        "not_due": (Decimal("30000.00"), ["INV-003"]),  # due tomorrow: age -1
        "1_30": (Decimal("22000.00"), ["CN-002", "INV-004"]),  # 25,000 - 3,000
        "31_60": (Decimal("30000.00"), ["INV-002"]),  # age 60: upper bound inclusive
        "91_180": (Decimal("70850.00"), ["INV-007"]),  # age 151
        "over_365": (Decimal("200000.00"), ["INV-009"]),  # age 545
    }
    ages = dict(_query(warehouse, "select invoice_no, age_days from marts.ar_aging where basis = 'due_date'"))
    assert ages == {"INV-002": 60, "INV-003": -1, "INV-004": 16, "INV-007": 151, "INV-009": 545, "CN-002": 10}


def test_invoice_date_basis_sums_to_the_same_total(warehouse):
    rows = dict(_query(warehouse, "select basis, sum(open_amount_rpt) from marts.ar_aging group by 1"))
    assert rows == {"due_date": Decimal("352850.00"), "invoice_date": Decimal("352850.00")}
    (bucket,) = _query(
        warehouse,
        "select bucket_key from marts.ar_aging where basis = 'invoice_date' and invoice_no = 'INV-003'",
    )[0]
    assert bucket == "1_30"  # issued 2026-06-01: 29 days old


def test_credit_note_reduces_its_original(warehouse):
    inv = _query(
        warehouse,
        """select invoice_no, status, credit_note_amount, adjusted_amount, open_amount, is_in_ar
           from marts.fct_invoice where invoice_no in ('INV-003', 'CN-001', 'CN-002') order by 1""",
    )
    assert inv == [
        ("CN-001", "applied_to_original", Decimal(0), Decimal(-10000), Decimal(0), False),
        ("CN-002", "unapplied_credit", Decimal(0), Decimal(-3000), Decimal(-3000), True),
        ("INV-003", "partially_paid", Decimal(-10000), Decimal(30000), Decimal(30000), True),
    ]
    assert not _query(warehouse, "select 1 from marts.ar_aging where invoice_no = 'CN-001'")


def test_payment_after_as_of_is_not_applied(warehouse):
    row = _query(
        warehouse,
        """select status, paid_amount, open_amount, last_payment_date, days_late, is_overdue
           from marts.fct_invoice where invoice_no = 'INV-004'""",
    )[0]
    assert row == ("open", Decimal(0), Decimal(25000), None, 16, True)


def test_paid_partial_excluded_and_flags(warehouse):
    got = {
        r[0]: r[1:]
        for r in _query(
            warehouse,
            """select invoice_no, status, paid_amount, open_amount, days_to_pay, days_late, settled_date
               from marts.fct_invoice""",
        )
    }
    assert got["INV-001"][:5] == ("paid", Decimal(100000), Decimal(0), 50, 20)
    assert str(got["INV-001"][5]) == "2026-04-20"
    assert got["INV-002"][:3] == ("partially_paid", Decimal(20000), Decimal(30000))
    assert got["INV-005"][0] == "not_yet_issued"
    assert got["INV-006"][0] == "cancelled"
    assert got["INV-008"][0] == "written_off"
    assert got["INV-010"][0] == "draft"
    aged = {r[0] for r in _query(warehouse, "select distinct invoice_no from marts.ar_aging")}
    assert aged == {"INV-002", "INV-003", "INV-004", "INV-007", "INV-009", "CN-002"}
    (written_off,) = _query(
        warehouse, "select written_off_amount from marts.fct_invoice where invoice_no='INV-008'"
    )[0]
    assert written_off == Decimal(5000)
    (disputed,) = _query(warehouse, "select is_disputed from marts.fct_invoice where invoice_no = 'INV-009'")[
        0
    ]
    assert disputed is True
    assert len(got) == len(INVOICES)


def test_other_as_of_dates(tmp_path):
    # 2026-07-10: INV-004's payment (2026-07-05) now applies; INV-005 (issued 2026-07-02) is open.
    wh = _build(tmp_path / "later", "2026-07-10", select=["+ar_aging", "+fct_invoice"])
    aged = dict(_query(wh, "select invoice_no, open_amount from marts.ar_aging where basis = 'due_date'"))
    assert "INV-004" not in aged and aged["INV-005"] == Decimal(9999)
    # 2026-05-30: INV-008 is written off only the next day; INV-003 is not issued yet.
    wh = _build(tmp_path / "earlier", "2026-05-30", select=["+ar_aging", "+fct_invoice"])
    aged = dict(_query(wh, "select invoice_no, open_amount from marts.ar_aging where basis = 'due_date'"))
    assert aged["INV-008"] == Decimal(5000) and aged["INV-002"] == Decimal(30000)
    assert "INV-003" not in aged  # issued 2026-06-01


def test_failing_data_test_names_the_node(tmp_path):
    bad = (
        "INV-BAD",
        "standard",
        None,
        None,
        None,
        None,
        AS_OF,
        AS_OF,
        "CNY",
        None,
        None,
        1,
        None,
        None,
        "issued",
        None,
        None,
    )
    wh = write_fixture_warehouse(tmp_path / "warehouse.duckdb", extra={"invoices": [bad]})
    with pytest.raises(DbtRunError) as info:
        run_dbt(["build", "--quiet", "--select", "stg_invoicing__invoices"], wh, target_path=tmp_path / "t")
    assert "not_null_stg_invoicing__invoices_customer_id" in str(info.value)


def test_large_amounts_translate_without_overflow(warehouse):
    # C001's credit limit (120 million) and contract K001 (150 million) times a 6-decimal rate
    # overflow 18-digit decimal arithmetic unless widened first.
    (limit,) = _query(
        warehouse, "select credit_limit_rpt from marts.customer_credit where customer_id = 'C001'"
    )[0]
    assert limit == Decimal("120000000.00")
    (value,) = _query(
        warehouse, "select contract_value_rpt from marts.project_receivables where project_id = 'P001'"
    )[0]
    assert value == Decimal("150000000.00")


def test_docs_generate_lists_every_mart(warehouse, tmp_path):
    import json

    run_dbt(
        ["docs", "generate", "--quiet"],
        warehouse,
        target_path=tmp_path / "docs",
        vars={"as_of_date": "2026-06-30"},
    )
    catalog = json.loads((tmp_path / "docs" / "catalog.json").read_text())
    marts = {n["metadata"]["name"] for n in catalog["nodes"].values() if n["metadata"]["schema"] == "marts"}
    assert {
        "fct_invoice",
        "ar_aging",
        "kpi_monthly",
        "collections_worklist",
        "customer_credit",
        "project_receivables",
        "expected_credit_loss",
        "ar_aging_monthly",
    } <= marts


def test_reconciliation_matches_replace_later_erp_clearings(tmp_path):
    from huikuan.reconcile.warehouse import DDL

    wh = write_fixture_warehouse(tmp_path / "warehouse.duckdb")
    con = duckdb.connect(str(wh))
    con.execute("create schema reconciliation")
    con.execute(f"create table reconciliation.matches ({DDL['matches']})")
    # The only bank line (2026-07-05) pays INV-004 in full; the ERP's own clearing of the same
    # payment (also 2026-07-05, not before the bank history starts) must not count a second time.
    con.execute(
        """insert into reconciliation.matches values ('ICBC202607050001', 'INV-004', 'C001', date '2026-07-05',
           25000, 'CNY', 'remittance_invoice_no', 0.99, 'INV-004 in remittance', 'auto', 0, null)"""
    )
    con.close()
    run_dbt(
        [
            "build",
            "--quiet",
            "--select",
            "+fct_invoice",
            "+fct_payment",
            "+fct_payment_application",
            "--indirect-selection",
            "cautious",
        ],
        wh,
        target_path=tmp_path / "t",
        vars={"as_of_date": "2026-07-10"},
    )
    inv = {
        r[0]: r[1:]
        for r in _query(
            wh,
            "select invoice_no, paid_amount, short_payment_written_off_amount, open_amount, status from marts.fct_invoice",
        )
    }
    assert inv["INV-004"] == (Decimal(25000), Decimal(0), Decimal(0), "paid")
    # ERP clearings before the bank history starts still count.
    assert inv["INV-001"][0] == Decimal(100000) and inv["INV-002"][0] == Decimal(20000)
    pay = _query(wh, "select applied_amount, unapplied_amount, invoices_paid from marts.fct_payment")
    assert pay == [(Decimal(25000), Decimal(0), 1)]
    methods = dict(
        _query(
            wh,
            "select invoice_no, application_method from marts.fct_payment_application"
            " where application_type = 'payment'",
        )
    )
    assert methods == {"INV-001": "erp", "INV-002": "erp", "INV-004": "remittance_invoice_no"}


def test_daily_runs_test_history_tables_on_the_window_only(warehouse, tmp_path):
    """With var data_test_window_days (the daily job's), uniqueness of fct_ar_daily covers the window's
    days only; without it (full builds, CI) every day."""
    wh = tmp_path / "warehouse.duckdb"
    shutil.copyfile(warehouse, wh)

    def duplicate_day(day: str) -> None:
        con = duckdb.connect(str(wh))
        try:
            added = con.execute(
                f"insert into marts.fct_ar_daily select * from marts.fct_ar_daily where balance_date = {day} limit 1"
            ).fetchone()[0]
        finally:
            con.close()
        assert added == 1, day

    select = ["test", "--quiet", "--select", "fct_ar_daily,test_name:unique_combination"]
    daily = {"as_of_date": AS_OF.isoformat(), "data_test_window_days": 1}
    full = {"as_of_date": AS_OF.isoformat()}
    run_dbt(select, wh, target_path=tmp_path / "t", vars=daily)  # selects a test, and it passes
    duplicate_day("(select min(balance_date) from marts.fct_ar_daily)")
    run_dbt(select, wh, target_path=tmp_path / "t", vars=daily)  # the duplicate is before the window
    with pytest.raises(DbtRunError, match="unique_combination_fct_ar_daily"):
        run_dbt(select, wh, target_path=tmp_path / "t", vars=full)
    duplicate_day(f"date '{AS_OF.isoformat()}'")
    with pytest.raises(DbtRunError, match="unique_combination_fct_ar_daily"):
        run_dbt(select, wh, target_path=tmp_path / "t", vars=daily)
