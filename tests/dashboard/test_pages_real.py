"""Every page on a warehouse built by the real pipeline: no exception, and the figures the warehouse holds."""

from __future__ import annotations

import pytest

from dashboards import data
from dashboards.i18n import format_amount, t
from tests.dashboard.conftest import app_as, real_users, rendered_bytes, snapshot_con

pytestmark = pytest.mark.slow
PAGES = ["overview", "aging", "worklist", "forecast", "customers", "projects", "reconciliation", "models"]


def frame_with(at, column: str):
    """The first table on the page that has `column`."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exception(real_home, page, lang):
    at = app_as("cfo", page, lang)
    at.run()
    assert not at.exception, at.exception
    assert at.title and at.title[0].value == t("aging_title" if page == "aging" else f"page_{page}", lang)
    # A page whose tables are not in the snapshot says so instead of failing.
    if data.missing({**data.WORKLIST_TABLES} if page == "worklist" else {}):
        assert any(t("missing_tables", lang, tables="")[:4] in i.value for i in at.info)


def _aging_expected(con, where: str = "true", params=(), table="marts.ar_aging", as_of=None):
    as_of_sql = "as_of_date = ?" if as_of else f"as_of_date = (select max(as_of_date) from {table})"
    return con.execute(
        f"""select sum(open_amount_rpt), coalesce(sum(open_amount_rpt) filter (where bucket_key <> 'not_due'), 0),
                   count(*)
            from {table} where basis = 'due_date' and {as_of_sql} and {where}""",
        [*([as_of] if as_of else []), *params],
    ).fetchone()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_aging_and_overview_show_the_warehouse_totals(real_home, lang):
    with snapshot_con(real_home) as con:
        total, overdue, n = _aging_expected(con)
    assert n > 0
    for page in ("aging", "overview"):
        at = app_as("finance", page, lang)
        at.run()
        assert not at.exception
        m = metrics(at)
        assert m[t("total_ar", lang)] == format_amount(total, lang)
        assert m[t("overdue_ar", lang)] == format_amount(overdue, lang)
        assert m[t("open_invoices", lang)] == f"{n:,}"


def test_aging_month_end_snapshot_and_drill_down(real_home):
    with snapshot_con(real_home) as con:
        month_end = con.execute(
            "select max(as_of_date) from marts.ar_aging_monthly "
            "where as_of_date < (select max(as_of_date) from marts.ar_aging)"
        ).fetchone()[0]
        total, overdue, n = _aging_expected(con, table="marts.ar_aging_monthly", as_of=month_end)
        top_customer, top_n = con.execute(
            "select customer_id, count(*) from marts.ar_aging_monthly where basis = 'due_date' and as_of_date = ? "
            "group by 1 order by sum(open_amount_rpt) desc, 1 limit 1", [month_end]
        ).fetchone()
    assert n > 0
    at = app_as("cfo", "aging")
    at.run()
    at.selectbox(key="aging_as_of").set_value(month_end).run()
    assert not at.exception
    m = metrics(at)
    assert m[t("total_ar", "en")] == format_amount(total, "en")
    assert m[t("overdue_ar", "en")] == format_amount(overdue, "en")
    assert m[t("open_invoices", "en")] == f"{n:,}"
    # Buckets reconcile to the total at that date.
    assert any(c.value.startswith("✓") for c in at.caption)
    at.selectbox(key="aging_member").set_value(top_customer).run()
    assert not at.exception
    drill = frame_with(at, t("invoice_no", "en"))
    assert len(drill) == top_n


def test_sales_user_sees_only_their_own_customers_on_every_page(real_home):
    users = real_users(real_home)
    me = users["sales1"]
    with snapshot_con(real_home) as con:
        others = con.execute(
            "select customer_id, customer_name from marts.dim_customer where salesperson_id <> ?",
            [me.salesperson_id],
        ).fetchall()
        mine_total, _, mine_n = _aging_expected(
            con, "salesperson_id = ? and customer_id in (select customer_id from marts.dim_customer "
                 "where salesperson_id = ?)", [me.salesperson_id, me.salesperson_id])
    assert others
    scope = data.Scope.for_role("sales", me.salesperson_id)
    mine = data.aging_totals(scope)
    assert float(mine["total_ar"]) == pytest.approx(float(mine_total or 0))
    assert int(mine["open_invoices"]) == mine_n
    assert set(data.customers(scope)["customer_id"]).isdisjoint({c for c, _ in others})
    for page in PAGES:
        for lang in ("en", "zh"):
            at = app_as(me, page, lang)
            at.run()
            assert not at.exception, (page, at.exception)
            blob = rendered_bytes(at)
            leaked = [name for cid, name in others if name.encode() in blob or cid.encode() in blob]
            assert not leaked, (page, lang, leaked[:3])
    # Asking for another salesperson's customer by URL shows nothing about it.
    cid, name = others[0]
    at = app_as(me, "customers")
    at.query_params["customer"] = cid
    at.run()
    assert not at.exception
    assert any(cid in w.value for w in at.warning)
    assert name.encode() not in rendered_bytes(at)
    assert data.customer_detail(scope, cid) is None
    assert data.customer_invoices(scope, cid).empty
    # Even a drill-down filter naming the other customer returns nothing.
    assert data.aging_invoices(scope, group="customer", group_key=cid).empty


def test_customer_detail_matches_fct_invoice(real_home):
    with snapshot_con(real_home) as con:
        cid, name, open_rpt, n_open = con.execute(
            """select f.customer_id, any_value(c.customer_name), sum(f.open_amount_rpt),
                      count(*) filter (where f.open_amount <> 0)
               from marts.fct_invoice f join marts.dim_customer c using (customer_id)
               group by 1 order by 3 desc, 1 limit 1"""
        ).fetchone()
    at = app_as("analyst", "customers")
    at.query_params["customer"] = cid
    at.run()
    assert not at.exception
    assert any(name in h.value for h in at.header)
    m = metrics(at)
    assert m[t("total_ar", "en")] == format_amount(open_rpt, "en")
    assert m[t("open_invoices", "en")] == f"{n_open:,}"


def test_reconciliation_figures_match_the_snapshot(real_home):
    if data.missing(data.RECON_TABLES):
        pytest.skip("the pipeline build has no reconciliation schema")
    with snapshot_con(real_home) as con:
        auto, manual = con.execute(
            "select count(distinct bank_txn_key) filter (where status <> 'manual'), "
            "count(distinct bank_txn_key) filter (where status = 'manual') from reconciliation.matches"
        ).fetchone()
        review = con.execute(
            f"select count(*) from reconciliation.unmatched where reason not in {data.EXPLAINED_REASONS}"
        ).fetchone()[0]
    at = app_as("collector", "reconciliation")
    at.run()
    assert not at.exception
    m = metrics(at)
    assert m[t("auto_lines", "en")] == f"{auto:,}"
    assert m[t("manual_lines", "en")] == f"{manual:,}"
    assert m[t("review_lines", "en")] == f"{review:,}"
    assert len(frame_with(at, t("bank_ref", "en"))) == review


def test_overview_kpis_are_the_latest_company_month(real_home):
    from dashboards.i18n import format_days, format_pct

    if data.missing(data.KPI_TABLES):
        pytest.fail(f"kpi_monthly lacks {data.missing(data.KPI_TABLES)}")
    with snapshot_con(real_home) as con:
        dso, bpdso, add, cei, collected = con.execute(
            """select countback_dso, best_possible_dso, average_days_delinquent, cei_pct, collected_rpt
               from marts.kpi_monthly where dimension = 'company' order by month_end desc limit 1"""
        ).fetchone()
        # the last four weeks' cash applied to invoices
        collected = con.execute("select coalesce(sum(applied_amount_rpt), 0) from marts.fct_payment_application "
            "where applied_date between (select max(as_of_date) from marts.ar_aging) - 27 "
            "and (select max(as_of_date) from marts.ar_aging)").fetchone()[0]
    at = app_as("cfo", "overview")
    at.run()
    assert not at.exception
    m = metrics(at)
    assert m[t("dso_countback", "en")] == format_days(dso, "en")
    assert m[t("bpdso", "en")] == format_days(bpdso, "en")
    assert m[t("add", "en")] == format_days(add, "en")
    assert m[t("cei", "en")] == format_pct(None if cei is None else float(cei) / 100, "en")
    assert m[t("collected_4w", "en")] == format_amount(collected, "en")


def test_worklist_order_and_a_promise_recorded_through_the_page(real_home):
    from datetime import date, timedelta

    from huikuan import opstore

    with snapshot_con(real_home) as con:
        ranked = [r[0] for r in con.execute(
            "select invoice_no from marts.collections_worklist order by priority_rank, invoice_no").fetchall()]
        open_rpt = con.execute("select sum(open_amount_rpt) from marts.collections_worklist").fetchone()[0]
    assert ranked
    at = app_as("collector", "worklist")
    at.run()
    assert not at.exception
    assert frame_with(at, t("invoice_no", "en"))[t("invoice_no", "en")].tolist() == ranked
    assert metrics(at)[t("worklist_open", "en")] == format_amount(open_rpt, "en")
    invoice = ranked[0]
    at.selectbox(key="wl_invoice").set_value(invoice)
    promised = date.today() + timedelta(days=10)
    at.date_input(key="wl_p_date").set_value(promised)
    at.button(key="FormSubmitter:wl_promise_form-" + t("save_promise", "en")).click().run()
    assert not at.exception
    rows = opstore.read_table(real_home / "ops" / "ops.sqlite", "promises_to_pay")
    assert rows.iloc[-1][["invoice_no", "promised_date", "recorded_by"]].tolist() == [
        invoice, promised.isoformat(), "collector"]
    table = frame_with(at, t("invoice_no", "en")).set_index(t("invoice_no", "en"))
    assert table.at[invoice, t("promise_state", "en")] == t("promise_open", "en")


def test_credit_and_projects_pages_match_their_marts(real_home):
    with snapshot_con(real_home) as con:
        n, alerts, ar = con.execute(
            "select count(*), count(*) filter (where has_alert), sum(open_ar_rpt) from marts.customer_credit"
        ).fetchone()
        cv, billed, retention = con.execute(
            "select sum(contract_value_rpt), sum(billed_rpt), sum(retention_held_rpt) from marts.project_receivables"
        ).fetchone()
    at = app_as("cfo", "customers")
    at.run()
    assert not at.exception
    m = metrics(at)
    assert m[t("customers_count", "en")] == f"{n:,}"
    assert m[t("customers_alerts", "en")] == f"{alerts:,}"
    assert m[t("total_ar", "en")] == format_amount(ar, "en")
    at = app_as("cfo", "projects", "zh")
    at.run()
    assert not at.exception
    m = metrics(at)
    assert m[t("contract_value", "zh")] == format_amount(cv, "zh")
    assert m[t("billed", "zh")] == format_amount(billed, "zh")
    assert m[t("retention_held", "zh")] == format_amount(retention, "zh")
