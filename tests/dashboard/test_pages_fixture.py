"""Pages whose marts the pipeline does not build yet, on a hand-made snapshot in the marts' shapes,
plus the actions each role may (or may not) record in the operational store."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from dashboards import actions, data
from dashboards.i18n import format_amount, format_date, format_days, format_pct, t
from huikuan import opstore
from tests.dashboard.conftest import USERS, app_as, clear_caches, rendered_bytes, snapshot_con
from tests.dashboard.snapshot import CUSTOMERS

PAGES = ["overview", "aging", "worklist", "forecast", "customers", "projects", "reconciliation", "models"]


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.mark.parametrize("role", ["cfo", "finance", "collector", "sales1", "analyst"])
def test_every_page_renders_for_every_role(fixture_home, role):
    for page in PAGES:
        at = app_as(role, page, "zh" if role == "finance" else "en")
        at.run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])


def test_overview_kpis_are_the_latest_kpi_month(fixture_home):
    with snapshot_con(fixture_home) as con:
        dso, bpdso, add, cei, collected = con.execute(
            "select countback_dso, best_possible_dso, average_days_delinquent, cei_pct, collected_rpt "
            "from marts.kpi_monthly where dimension = 'company' order by month_end desc limit 1"
        ).fetchone()
        # the last four weeks' cash, company-wide and for the sales user's own customers
        collected = con.execute("select coalesce(sum(applied_amount_rpt), 0) from marts.fct_payment_application "
            "where applied_date between (select max(as_of_date) from marts.ar_aging) - 27 "
            "and (select max(as_of_date) from marts.ar_aging)").fetchone()[0]
        own = con.execute("select coalesce(sum(applied_amount_rpt), 0) from marts.fct_payment_application "
            "where applied_date between (select max(as_of_date) from marts.ar_aging) - 27 "
            "and (select max(as_of_date) from marts.ar_aging) "
            "and customer_id in (select customer_id from marts.dim_customer where salesperson_id = 'S01')"
        ).fetchone()[0]
    at = app_as("cfo", "overview")
    at.run()
    m = metrics(at)
    assert m[t("dso_countback", "en")] == format_days(dso, "en")
    assert m[t("bpdso", "en")] == format_days(bpdso, "en")
    assert m[t("add", "en")] == format_days(add, "en")
    assert m[t("cei", "en")] == format_pct(cei / 100, "en")
    assert m[t("collected_4w", "en")] == format_amount(collected, "en")
    at = app_as("sales1", "overview")
    at.run()
    assert metrics(at)[t("collected_4w", "en")] == format_amount(own, "en")


def test_worklist_ranks_filters_and_scopes(fixture_home):
    with snapshot_con(fixture_home) as con:
        ranked = [r[0] for r in con.execute(
            "select invoice_no from marts.collections_worklist order by priority_rank").fetchall()]
        stage3 = con.execute(
            "select count(*), sum(open_amount_rpt) from marts.collections_worklist where dunning_stage = 'stage_3'"
        ).fetchone()
    at = app_as("collector", "worklist")
    at.run()
    table = at.dataframe[0].value
    assert table[t("invoice_no", "en")].tolist() == ranked
    at.multiselect(key="wl_stages").set_value(["stage_3"]).run()
    assert not at.exception
    assert metrics(at)[t("worklist_items", "en")] == f"{stage3[0]:,}"
    assert metrics(at)[t("worklist_open", "en")] == format_amount(stage3[1], "en")
    # The sales scope is in the SQL: a customer filter naming someone else's customer returns nothing.
    s01 = data.Scope.for_role("sales", "S01")
    assert set(data.worklist(s01)["customer_id"]) == {"C001", "C002"}
    assert data.worklist(s01, customer_id="C003").empty


def test_collector_records_promise_dispute_note_and_contact(fixture_home):
    ops = fixture_home / "ops" / "ops.sqlite"
    at = app_as("collector", "worklist")
    at.run()
    invoice = at.selectbox(key="wl_invoice").value
    at.date_input(key="wl_p_date").set_value(date(2026, 7, 15))
    at.number_input(key="wl_p_amount").set_value(1234.5)
    at.text_input(key="wl_p_note").input("CFO promised on the phone")
    at.button(key="FormSubmitter:wl_promise_form-" + t("save_promise", "en")).click().run()
    assert not at.exception
    promises = opstore.read_table(ops, "promises_to_pay")
    assert promises[["invoice_no", "promised_date", "promised_amount", "recorded_by"]].values.tolist() == [
        [invoice, "2026-07-15", 1234.5, "collector"]]
    assert promises["recorded_at"].iloc[0]

    at.text_area(key="wl_d_reason").input("quantity disputed")
    at.button(key="FormSubmitter:wl_dispute_form-" + t("save_dispute", "en")).click().run()
    at.text_area(key="wl_n_text").input("sent statement")
    at.button(key="FormSubmitter:wl_note_form-" + t("save_note", "en")).click().run()
    at.selectbox(key="wl_c_channel").set_value("wechat")
    at.text_area(key="wl_c_text").input("will pay Friday")
    at.button(key="FormSubmitter:wl_contact_form-" + t("save_contact", "en")).click().run()
    assert not at.exception
    disputes = opstore.read_table(ops, "disputes")
    assert disputes[["invoice_no", "status", "reason", "recorded_by"]].values.tolist() == [
        [invoice, "open", "quantity disputed", "collector"]]
    notes = opstore.read_table(ops, "collection_notes")
    assert notes[["invoice_no", "kind", "channel", "text", "recorded_by"]].fillna("").values.tolist() == [
        [invoice, "note", "", "sent statement", "collector"],
        [invoice, "contact", "wechat", "will pay Friday", "collector"]]


def test_analyst_cannot_act_and_sales_only_on_own_invoices(fixture_home):
    ops = fixture_home / "ops" / "ops.sqlite"
    at = app_as("analyst", "worklist")
    at.run()
    assert any(t("read_only_role", "en") in i.value for i in at.info)
    assert not [f for f in at.get("form")]
    with pytest.raises(PermissionError):
        actions.promise_to_pay(USERS["analyst"], data.EVERYTHING, invoice_no="INV0001", customer_id="C001",
                               promised_date=date(2026, 7, 1), promised_amount=1.0)
    s01 = data.Scope.for_role("sales", "S01")
    # INV0013 belongs to C003 (salesperson S02).
    with pytest.raises(PermissionError):
        actions.dispute(USERS["sales1"], s01, invoice_no="INV0013", reason="x")
    with pytest.raises(PermissionError):
        actions.note(USERS["sales1"], s01, customer_id="C003", text="x")
    with pytest.raises(PermissionError):
        actions.accept_match(USERS["sales1"], s01, bank_txn_key="B010", allocations=[("INV0002", 1.0)])
    assert actions.dispute(USERS["sales1"], s01, invoice_no="INV0001", reason="own") > 0
    assert opstore.read_table(ops, "disputes")["invoice_no"].tolist() == ["INV0001"]
    assert opstore.read_table(ops, "reconciliation_decisions").empty


def test_reconciliation_accept_reject_split_write_decisions(fixture_home):
    ops = fixture_home / "ops" / "ops.sqlite"
    at = app_as("finance", "reconciliation")
    at.run()
    assert not at.exception
    m = metrics(at)
    assert m[t("review_lines", "en")] == "3"  # B010, B011 proposed and B012 without candidate; the debit is explained
    assert m[t("auto_lines", "en")] == "2" and m[t("manual_lines", "en")] == "1"
    at.selectbox(key="recon_line").set_value("B011").run()
    at.button(key="recon_accept").click().run()
    assert not at.exception
    dec = opstore.read_table(ops, "reconciliation_decisions")
    assert dec[["bank_txn_key", "invoice_no", "amount", "decision", "decided_by"]].values.tolist() == [
        ["B011", "INV0015", 20000, "confirm", "finance"], ["B011", "INV0016", 15000, "confirm", "finance"]]
    alias = opstore.read_table(ops, "payer_aliases")
    assert alias[["payer_name", "customer_id", "created_by"]].values.tolist() == [["南方信息", "C003", "finance"]]

    at.selectbox(key="recon_line").set_value("B010").run()
    at.text_input(key="recon_reject_reason").input("wrong payer")
    at.button(key="recon_reject").click().run()
    dec = opstore.read_table(ops, "reconciliation_decisions")
    assert dec[dec.decision == "reject"][["bank_txn_key", "invoice_no", "reason"]].values.tolist() == [
        ["B010", "INV0002", "wrong payer"], ["B010", "INV0008", "wrong payer"]]

    with pytest.raises(ValueError, match="more than the receipt"):
        actions.split_match(USERS["finance"], data.EVERYTHING, bank_txn_key="B012", line_amount=999,
                            allocations=[("INV0001", 500), ("INV0002", 500)])
    ids = actions.split_match(USERS["finance"], data.EVERYTHING, bank_txn_key="B012", line_amount=999,
                              allocations=[("INV0001", 500), ("INV0002", 499)])
    assert len(ids) == 2
    dec = opstore.read_table(ops, "reconciliation_decisions")
    assert dec[dec.decision == "manual_match"][["invoice_no", "amount"]].values.tolist() == [
        ["INV0001", 500], ["INV0002", 499]]


def test_sales_pages_never_show_other_salespeople(fixture_home):
    others = [(cid, name) for cid, name, _, sp in CUSTOMERS if sp != "S01"]
    for page in PAGES:
        at = app_as("sales1", page)
        at.run()
        assert not at.exception
        blob = rendered_bytes(at)
        assert not [n for c, n in others if n.encode() in blob or c.encode() in blob], page
    # The router does not even offer the company-wide reconciliation page to sales users.
    at = app_as("sales1", "reconciliation")
    at.run()
    assert not at.metric or t("auto_rate", "en") not in metrics(at)
    s01 = data.Scope.for_role("sales", "S01")
    for fn in (data.credit_overview, data.projects, data.customers, data.alerts):
        assert set(fn(s01)["customer_id"]) <= {"C001", "C002"}, fn.__name__
    assert data.unmatched_receipts(s01).empty and data.forecast_periods(s01).empty
    assert set(data.aging_by_group(s01, group="salesperson")["group_key"]) == {"S01"}


def test_partial_warehouse_shows_not_available(fixture_home):
    """Only ar_aging published: every page still renders, the others say what is missing."""
    import duckdb

    from huikuan.publish import publish

    wh = fixture_home / "warehouse" / "warehouse.duckdb"
    with duckdb.connect(str(wh)) as con:
        for table in ("marts.kpi_monthly", "marts.collections_worklist", "marts.customer_credit",
                      "marts.project_receivables", "ml.cash_forecast", "ml.backtests"):
            con.execute(f"drop table {table}")
        con.execute("drop schema reconciliation cascade")
    publish(wh, fixture_home / "published")
    from tests.dashboard.conftest import clear_caches

    clear_caches()
    for page in PAGES:
        for lang in ("en", "zh"):
            at = app_as("cfo", page, lang)
            at.run()
            assert not at.exception, (page, at.exception)
            if page not in ("aging", "customers"):
                assert at.info, page


def test_overview_sets_cash_against_the_forecast_made_four_weeks_earlier(fixture_home):
    import duckdb

    from huikuan.publish import current_snapshot

    snap = current_snapshot(fixture_home / "published")
    with duckdb.connect(str(snap)) as con:  # add a forecast history to the test snapshot
        as_of = con.execute("select max(as_of_date) from marts.ar_aging").fetchone()[0]
        con.execute("create schema if not exists ml")
        con.execute(
            "create or replace table ml.cash_forecast_history as select * from (values "
            "(date '1900-01-01', 'week', 1, 999.0), "  # too old: must not be used
            "(cast(? as date) - 30, 'week', 1, 100000.0), (cast(? as date) - 30, 'week', 2, 50000.0), "
            "(cast(? as date) - 30, 'week', 5, 777777.0)) t(as_of_date, granularity, period, expected)",
            [as_of, as_of, as_of],
        )
    clear_caches()
    at = app_as("cfo", "overview")
    at.run()
    assert not at.exception
    made_on = as_of - timedelta(days=30)
    label = t("forecast_4w_then", "en", date=format_date(made_on, "en"))
    assert metrics(at)[label] == format_amount(150000.0, "en")  # weeks 1-4 of that forecast only


def test_worklist_totals_count_every_item_not_only_the_rows_fetched(fixture_home):
    with snapshot_con(fixture_home) as con:
        count, amount = con.execute(
            "select count(*), sum(open_amount_rpt) from marts.collections_worklist").fetchone()
    assert count > 2
    assert len(data.worklist(limit=2)) == 2
    totals = data.worklist_totals()
    assert totals["items"] == count and abs(totals["open_amount_rpt"] - float(amount)) < 0.01
    s01 = data.Scope.for_role("sales", "S01")
    assert data.worklist_totals(s01)["items"] == len(data.worklist(s01))


def test_customer_picker_searches_within_the_scope(fixture_home):
    everyone = data.customers()
    cid, name = everyone["customer_id"].iloc[0], everyone["customer_name"].iloc[0]
    assert cid in set(data.customers(search=name[1:3])["customer_id"])
    assert data.customers(search=cid.lower())["customer_id"].tolist()[:1] == [cid]
    assert len(data.customers(limit=1)) == 1
    assert data.customers(search="%").empty or all("%" in n for n in data.customers(search="%")["customer_name"])
    s01 = data.Scope.for_role("sales", "S01")
    outside = [c for c in everyone["customer_id"] if c not in {"C001", "C002"}]
    assert data.customers(s01, search=outside[0]).empty
    at = app_as("analyst", "customers")
    at.run()
    at.text_input(key="cust_search").set_value(name).run()
    assert not at.exception
    assert f"{name} ({cid})" in at.selectbox(key="cust_pick").options


def test_worklist_customer_filter_searches_then_filters(fixture_home, monkeypatch):
    with snapshot_con(fixture_home) as con:
        c004 = con.execute("select count(*), sum(open_amount_rpt) from marts.collections_worklist "
                           "where customer_id = 'C004'").fetchone()
        listed = con.execute("select count(distinct customer_id) from marts.collections_worklist").fetchone()[0]
    at = app_as("collector", "worklist")
    at.run()
    assert len(at.selectbox(key="wl_customer").options) == listed + 1  # "all" first
    at.text_input(key="wl_customer_search").input("pacific").run()
    assert at.selectbox(key="wl_customer").options[1:] == ["Pacific Installations Ltd (C004)"]
    at.selectbox(key="wl_customer").set_value("C004").run()
    assert not at.exception
    assert set(at.dataframe[0].value[t("customer", "en")]) == {"Pacific Installations Ltd"}
    assert metrics(at)[t("worklist_items", "en")] == f"{c004[0]:,}"
    assert metrics(at)[t("worklist_open", "en")] == format_amount(c004[1], "en")
    # The picker lists at most PICKER_LIMIT customers and says so.
    monkeypatch.setattr(data, "PICKER_LIMIT", 2)
    at = app_as("collector", "worklist")
    at.run()
    assert len(at.selectbox(key="wl_customer").options) == 3
    assert t("customers_first_n", "en", n="2") in [c.value for c in at.caption]
    # A sales user's search never lists another salesperson's customer.
    s01 = data.Scope.for_role("sales", "S01")
    assert data.worklist_options(s01, search="C004")["customers"] == []
    assert {c for c, _ in data.worklist_options(s01)["customers"]} == {"C001", "C002"}
