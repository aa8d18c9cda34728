"""The thin end-to-end slice: generated extracts → Dagster daily job (ingest, dbt build, publish) → dashboard."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import AS_OF, ROOT

pytestmark = pytest.mark.slow


def test_importing_definitions_runs_no_dbt_and_opens_no_database():
    code = (
        "import sys, pipelines.definitions as d;"
        "bad = [m for m in sys.modules if m == 'dbt' or m.startswith(('dbt.', 'dagster_dbt', 'duckdb'))];"
        "print(bad); assert not bad, bad"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.fixture(scope="module")
def instance(tmp_path_factory, generated_small):
    """One instance: generated landing files, the daily job run once through Dagster."""
    home = tmp_path_factory.mktemp("instance")
    old = os.environ.get("HUIKUAN_HOME")
    os.environ["HUIKUAN_HOME"] = str(home)
    (home / "huikuan.yml").write_text(f"as_of_date: '{AS_OF.isoformat()}'\n", encoding="utf-8")
    try:
        shutil.copytree(generated_small / "landing", home / "landing")
        from huikuan.commands.run import run_job

        assert run_job("daily_job"), "the daily job failed"
        yield home
    finally:
        if old is None:
            os.environ.pop("HUIKUAN_HOME", None)
        else:
            os.environ["HUIKUAN_HOME"] = old


def _published(home: Path) -> duckdb.DuckDBPyConnection:
    from huikuan.publish import connect_published

    return connect_published(home / "published")


def test_definitions_load_with_layers_and_lineage(instance):
    import dagster as dg

    from pipelines.definitions import defs

    d = defs()
    job = d.resolve_job_def("daily_job")
    keys = {k.to_user_string() for k in d.resolve_all_asset_keys()}
    assert {"raw/invoices", "raw/bank_transactions", "staging/stg_invoicing__invoices", "marts/ar_aging",
            "marts/fct_invoice", "published_warehouse", "dunning_reminders", "reconciliation/matches",
            "history/month_end_history", "ml/payment_model", "ml/invoice_predictions"} <= keys
    assert {j.name for j in d.resolve_all_job_defs()} >= {"daily_job", "month_end_job", "retrain_job"}
    assert {s.name for s in d.schedules} >= {"daily_schedule", "month_end_schedule", "weekly_retrain_schedule"}
    assert job is not None
    # dbt sources are the ingest assets: staging depends on raw/<entity>.
    graph = d.resolve_asset_graph()
    stg = graph.get(dg.AssetKey(["staging", "stg_invoicing__invoices"]))
    assert dg.AssetKey(["raw", "invoices"]) in stg.parent_keys
    assert stg.group_name == "staging"
    assert graph.get(dg.AssetKey(["marts", "ar_aging"])).group_name == "marts"
    assert graph.get(dg.AssetKey(["raw", "invoices"])).group_name == "ingest"
    assert graph.get(dg.AssetKey(["published_warehouse"])).group_name == "publish"
    # reconciliation runs between ingest and the marts that apply its matches
    alloc = graph.get(dg.AssetKey(["intermediate", "int_payment_allocations"]))
    assert dg.AssetKey(["reconciliation", "matches"]) in alloc.parent_keys


def test_dagster_cli_validates_definitions(instance):
    dagster = Path(sys.executable).with_name("dagster")
    out = subprocess.run(
        [str(dagster), "definitions", "validate", "-m", "pipelines.definitions"],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]


def test_every_landing_row_is_loaded_or_quarantined(instance, generated_small):
    with _published(instance) as con:
        reg = con.execute(
            "select count(*), sum(rows_in), sum(rows_loaded + rows_quarantined), "
            "count(*) filter (where status = 'rejected') from raw.file_registry"
        ).fetchone()
        files = sum(1 for p in (generated_small / "landing").rglob("*") if p.is_file())
        assert reg[0] == files and reg[3] == 0
        assert reg[1] == reg[2]
        with open(generated_small / "landing/invoicing/invoices.csv", encoding="utf-8") as f:
            n_csv = sum(1 for _ in f) - 1
        assert con.execute("select count(*) from raw.invoices").fetchone()[0] == n_csv


def test_aging_buckets_sum_exactly_to_total_open_ar(instance):
    with _published(instance) as con:
        for basis in ("due_date", "invoice_date"):
            buckets, total, n = con.execute(
                """
                select (select sum(s) from (select sum(open_amount_rpt) s from marts.ar_aging
                         where basis = $1 group by bucket_key)),
                       sum(open_amount_rpt), count(*)
                from marts.ar_aging where basis = $1
                """,
                [basis],
            ).fetchone()
            assert n > 0
            assert buckets == total
            assert con.execute("select distinct as_of_date from marts.ar_aging").fetchall() == [(AS_OF,)]
        fct_open = con.execute(
            "select sum(open_amount) from marts.fct_invoice where open_amount <> 0 and currency = 'CNY'"
        ).fetchone()[0]
        aging_open = con.execute(
            "select sum(open_amount) from marts.ar_aging where basis = 'due_date' and currency = 'CNY'"
        ).fetchone()[0]
        assert fct_open == aging_open


def test_open_items_are_scored_by_a_registered_model(instance):
    from models_ml.registry import current_version

    version = current_version(instance / "models")
    assert version
    with _published(instance) as con:
        scored, versions, bad = con.execute(
            "select count(*), count(distinct model_version), "
            "count(*) filter (where not p_default between 0 and 1 or expected_pay_date is null) "
            "from ml.invoice_predictions"
        ).fetchone()
        open_items = con.execute(
            "select count(*) from marts.fct_invoice where is_in_ar and open_amount > 0 and not is_credit_note"
        ).fetchone()[0]
        assert scored > 0 and versions == 1 and bad == 0
        assert scored <= open_items
        assert con.execute("select distinct model_version from ml.invoice_predictions").fetchone()[0] == version
        weeks = con.execute("select count(*) from ml.cash_forecast where granularity = 'week'").fetchone()[0]
        assert weeks == 13
        methods = {r[0] for r in con.execute("select distinct method from ml.backtests").fetchall()}
        assert {"gradient_boosting", "baseline_due_date", "baseline_customer_median", "baseline_global_median"} <= methods
        # the worklist and the ECL mart are built after scoring and carry the same model version
        worklist = con.execute(
            "select count(*) filter (where predicted_pay_date is not null), count(distinct model_version) "
            "from marts.collections_worklist"
        ).fetchone()
        assert worklist[0] > 0 and worklist[1] == 1
        ecl = con.execute(
            "select sum(ecl_model_rpt), min(probability_of_default), max(probability_of_default), "
            "count(distinct model_version) from marts.expected_credit_loss where ecl_model_rpt is not null"
        ).fetchone()
        assert ecl[0] > 0 and 0 <= ecl[1] <= ecl[2] <= 1 and ecl[3] == 1


def test_month_end_history_is_kept(instance):
    with _published(instance) as con:
        months = con.execute("select count(distinct month_end), max(month_end) from history.kpi_month_end").fetchone()
        assert months[0] >= 12 and months[1] < AS_OF
        frozen = con.execute(
            "select sum(open_amount_rpt) from history.ar_aging_month_end where as_of_date = $1", [months[1]]
        ).fetchone()[0]
        live = con.execute(
            "select sum(open_amount_rpt) from marts.ar_aging_monthly where as_of_date = $1", [months[1]]
        ).fetchone()[0]
        assert frozen == live


def test_rerun_is_idempotent(instance):
    from huikuan.commands.run import run_job

    with _published(instance) as con:
        before = con.execute(
            "select count(*), sum(open_amount_rpt) from marts.ar_aging"
        ).fetchone()
        raw_before = con.execute("select count(*) from raw.invoices").fetchone()[0]
    assert run_job("daily_job")
    with _published(instance) as con:
        assert con.execute("select count(*), sum(open_amount_rpt) from marts.ar_aging").fetchone() == before
        assert con.execute("select count(*) from raw.invoices").fetchone()[0] == raw_before
        statuses = {r[0] for r in con.execute(
            "select status from raw.file_registry where loaded_at = (select max(loaded_at) from raw.file_registry)"
        ).fetchall()}
        assert statuses, "registry is empty"


def test_aging_page_shows_the_warehouse_figures(instance):
    from dashboards import data
    from dashboards.i18n import format_amount, t
    from tests.dashboard.conftest import app_as, write_users

    write_users(instance)
    data.clear_caches()
    with _published(instance) as con:
        total, overdue = con.execute(
            "select sum(open_amount_rpt), sum(open_amount_rpt) filter (where bucket_key <> 'not_due') "
            "from marts.ar_aging where basis = 'due_date'"
        ).fetchone()
    for lang in ("zh", "en"):
        at = app_as("cfo", page="aging", lang=lang)
        at.run()
        assert not at.exception, at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics[t("total_ar", lang)] == format_amount(total, lang)
        assert metrics[t("overdue_ar", lang)] == format_amount(overdue, lang)
